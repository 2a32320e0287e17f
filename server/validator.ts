// The validator: re-measures each pending submission on the items its epoch's seed picks from held-out data, compares
// with the miner's claims (over-claims of quality beyond tolerance, of bytes or of runtime memory are rejected and
// recorded against the miner), checks every constraint of the request (RAM computed from the artifact), scores by the
// request's objective; then closes epochs whose time is up: ranks the accepted submissions per request, records the
// winner and the top-N split, and marks each request fulfilled, rolled over or expired. Closing is idempotent.
import type { DataSource } from '../src/eval/data-source';
import type { TaskDefinition } from '../src/eval/task-schema';
import { RequestPayload, SubmissionPayload, VERDICT_SCHEMA, type EpochRequestResult, type Measured, type Verdict } from '../src/market/schema';
import {
  baseTasks, checkClaims, checkConstraints, checkRuntimeClaim, describeClaim, describeConstraint, objectiveScore, rank, requiredTasks,
} from '../src/market/scoring';
import { RUNTIME_BYTES_TOLERANCE } from '../src/model/runtime-memory';
import type { Chain } from '../src/chain/chain';
import { LocalLedger, publishEpoch } from './ledger';
import { epochView, type Market } from './market';
import { measureArtifact, type Backend, type Measurer } from './measure';
import type { EpochRow, RequestRow, RequestStatus, SubmissionRow } from './store';

export interface ValidatorConfig {
  data: DataSource;
  library: Map<string, TaskDefinition>;
  /** Items per task (chunks for perplexity tasks). */
  limit: number;
  backend: Backend;
  /**
   * Claims may exceed the re-measurement by z × the combined stderr. 3 by default: an honest claim on other
   * items is refused about once in 700 per metric (one-sided normal tail), a false over-claim record is costly.
   */
  z: number;
  /** At most this many tasks re-measured per submission (the request's own tasks first). */
  maxTasks: number;
  /** A claim by a validator that has not finished after this long is taken over. */
  staleMs: number;
  measure: Measurer;
  /** Where closed epochs publish their commitment and weights: the local ledger unless a subtensor is configured. */
  chain: Chain;
  log: (line: string) => void;
}

export const DEFAULT_VALIDATOR = { limit: 50, backend: 'cpu' as Backend, z: 3, maxTasks: 8, staleMs: 30 * 60_000, measure: measureArtifact, log: () => {} };

export interface PassSummary {
  verdicts: Verdict[];
  closed: ReturnType<typeof epochView>[];
}

export class Validator {
  readonly cfg: ValidatorConfig;

  constructor(readonly market: Market, cfg: Pick<ValidatorConfig, 'data' | 'library'> & Partial<ValidatorConfig>) {
    this.cfg = { ...DEFAULT_VALIDATOR, chain: new LocalLedger(), ...cfg };
  }

  private get store() {
    return this.market.store;
  }

  /** One pass: advance the clock (closing the open epoch now when `close`), validate what is pending, close what is due. */
  async runOnce(opts: { close?: boolean; signal?: AbortSignal } = {}): Promise<PassSummary> {
    await this.market.currentEpoch();
    if (opts.close) await this.market.forceAdvance();
    const verdicts = await this.validatePending(undefined, opts.signal);
    const closed = [];
    for (const e of (await this.store.listEpochs({ status: 'closing', limit: 1000 })).reverse()) {
      closed.push(epochView(await this.closeEpoch(e.idx, opts.signal)));
    }
    await this.publishClosed();
    return { verdicts, closed };
  }

  /** Validate pending submissions (of one epoch, or all), oldest first. */
  async validatePending(epoch?: number, signal?: AbortSignal, staleBefore?: number): Promise<Verdict[]> {
    const out: Verdict[] = [];
    for (;;) {
      signal?.throwIfAborted();
      const now = this.market.cfg.now();
      const rows = await this.store.claimPending(now, staleBefore ?? now - this.cfg.staleMs, 1, epoch);
      if (rows.length === 0) return out;
      const v = await this.validate(rows[0], signal);
      await this.store.setVerdict(rows[0].id, v);
      this.cfg.log(`${v.submissionId} ${v.status}${v.reasons.length ? `: ${v.reasons.join('; ')}` : ''}${v.score !== null ? ` (score ${v.score})` : ''}`);
      out.push(v);
    }
  }

  /** Re-measure one submission and decide. Never throws for a bad submission: the problem becomes a reason. */
  async validate(row: SubmissionRow, signal?: AbortSignal): Promise<Verdict> {
    const t0 = performance.now();
    const at = () => this.market.cfg.now();
    const verdict = (v: Omit<Verdict, 'schema' | 'submissionId' | 'epoch' | 'at' | 'seconds'>): Verdict => ({
      schema: VERDICT_SCHEMA, submissionId: row.id, epoch: row.epoch, at: at(), seconds: (performance.now() - t0) / 1000, ...v,
    });
    const reject = (reason: string): Verdict =>
      verdict({ status: 'rejected', reasons: [reason], overClaim: false, measured: null, claims: [], constraints: [], score: null });

    const p = SubmissionPayload.parse(JSON.parse(row.payload));
    const reqRow = (await this.store.getRequest(row.requestId))!;
    const req = RequestPayload.parse(JSON.parse(reqRow.payload));
    const epoch = (await this.store.getEpoch(row.epoch))!;

    const reasons: string[] = [];
    const needed = requiredTasks(req);
    for (const t of needed) if (!this.cfg.library.has(t)) reasons.push(`task "${t}" of the request is unknown to this validator`);
    const names = [...new Set([...needed, ...p.result.tasks.map((t) => t.task)])].filter((t) => this.cfg.library.has(t)).slice(0, this.cfg.maxTasks);
    const tasks = names.map((t) => this.cfg.library.get(t)!);

    if (!(await this.market.blobs.ensure(p.artifact.sha256))) return reject(`artifact ${p.artifact.sha256} is missing from the blob store`);
    let m;
    try {
      m = await this.cfg.measure(this.market.blobs.source(p.artifact.sha256, p.artifact.name), {
        tasks, data: this.cfg.data, seed: epoch.seed, limit: this.cfg.limit, backend: this.cfg.backend, contextLength: req.hardware?.contextLength, signal,
      });
    } catch (e) {
      if (signal?.aborted) throw e;
      return reject(`artifact could not be measured: ${(e as Error).message}`);
    }

    const claims = checkClaims(p.result, m.tasks, this.cfg.z);
    const over = claims.filter((c) => !c.ok);
    reasons.push(...over.map(describeClaim));
    let overClaim = over.length > 0;
    const claimedBytes = p.result.cost.bytesOnDisk;
    if (claimedBytes !== p.artifact.bytes) {
      reasons.push(`${claimedBytes < p.artifact.bytes ? 'over-claim: ' : ''}the Result claims ${claimedBytes} bytes on disk, the artifact has ${p.artifact.bytes}`);
      overClaim ||= claimedBytes < p.artifact.bytes;
    }
    // RAM is computed from the artifact, not taken from the claim; a claim below it is an over-claim
    const ramClaim = checkRuntimeClaim(p.result.cost.runtimeBytes, m.runtimeBytes, m.contextLength, RUNTIME_BYTES_TOLERANCE);
    if (ramClaim) reasons.push(ramClaim);
    overClaim ||= ramClaim !== null;
    if (m.contextLength > m.maxPositions) reasons.push(`the artifact allows ${m.maxPositions} positions, the request's context length is ${m.contextLength}`);

    const base = baseTasks(req).length ? await this.baseMeasurement(epoch, reqRow, req, signal) : null;
    const constraints = checkConstraints(req, m.tasks, base, {
      bytesOnDisk: p.artifact.bytes, runtime: { bytes: m.runtimeBytes, contextLength: m.contextLength }, claimed: p.result.cost,
    });
    reasons.push(...constraints.filter((c) => !c.ok).map(describeConstraint));
    const score = objectiveScore(req.objective, m.tasks, p.artifact.bytes, req.base.bytes);
    if (score === null) reasons.push('the objective could not be scored: a metric it names was not measured');

    return verdict({
      status: reasons.length === 0 ? 'accepted' : 'rejected', reasons, overClaim,
      measured: { tasks: m.tasks, n: m.n, bytesOnDisk: p.artifact.bytes, runtimeBytes: m.runtimeBytes, contextLength: m.contextLength, backend: m.backend, limit: this.cfg.limit },
      claims, constraints, score,
    });
  }

  /** The base model on the same items (cached per epoch and request), when its bytes are in the blob store. */
  private async baseMeasurement(epoch: EpochRow, reqRow: RequestRow, req: RequestPayload, signal?: AbortSignal): Promise<Measured | null> {
    const cached = await this.store.getBaseMeasurement(epoch.idx, reqRow.id);
    if (cached) return cached;
    if (!(await this.market.blobs.ensure(req.base.sha256))) return null;
    const tasks = baseTasks(req).filter((t) => this.cfg.library.has(t)).map((t) => this.cfg.library.get(t)!);
    const m = await this.cfg.measure(this.market.blobs.source(req.base.sha256, req.base.name), {
      tasks, data: this.cfg.data, seed: epoch.seed, limit: this.cfg.limit, backend: this.cfg.backend, signal,
    });
    await this.store.putBaseMeasurement(epoch.idx, reqRow.id, m.tasks, this.market.cfg.now());
    this.cfg.log(`base ${req.base.name} measured for request ${reqRow.id} in epoch ${epoch.idx}`);
    return m.tasks;
  }

  /** Publish the recent closed epochs that have not published their commitment and weights yet (an outbox). */
  async publishClosed(): Promise<void> {
    for (const e of (await this.store.listEpochs({ status: 'closed', limit: 10 })).reverse()) {
      try {
        const kinds = await publishEpoch(this.store, this.cfg.chain, e, this.market.cfg.now());
        if (kinds.length) this.cfg.log(`epoch ${e.idx}: published ${kinds.join(' and ')} to ${this.cfg.chain.name}`);
      } catch (err) {
        // the chain is down or refused: the epoch stays closed, the next pass tries again
        this.cfg.log(`epoch ${e.idx}: publishing to ${this.cfg.chain.name} failed: ${(err as Error).message}`);
      }
    }
  }

  /** Rank and close a 'closing' epoch; a closed one is returned as it is (idempotent). */
  async closeEpoch(idx: number, signal?: AbortSignal): Promise<EpochRow> {
    let e = await this.store.getEpoch(idx);
    if (!e) throw new Error(`epoch ${idx} does not exist`);
    if (e.status === 'closed') return e;
    if (e.status === 'open') throw new Error(`epoch ${idx} is still open (it ends at ${new Date(e.endsAt).toISOString()})`);
    // everything of this epoch gets a verdict before ranking, including claims another validator left behind
    await this.validatePending(idx, signal, Number.POSITIVE_INFINITY);

    const results: EpochRequestResult[] = [];
    const status: Record<string, RequestStatus> = {};
    const open = (await this.store.listRequests({ status: 'open', limit: 100_000 })).filter((r) => r.openedEpoch <= idx);
    for (const r of open) {
      const req = RequestPayload.parse(JSON.parse(r.payload));
      const subs = await this.store.listSubmissions({ requestId: r.id, epoch: idx, limit: 100_000 });
      const accepted = subs.filter((s) => s.status === 'accepted' && s.score !== null);
      const ranking = rank(accepted.map((s) => ({ submissionId: s.id, miner: s.miner, score: s.score!, seq: s.seq })), req.payout, req.bid.amount);
      const winner = ranking[0]?.submissionId ?? null;
      const expired = idx >= r.openedEpoch + req.deadlineEpochs - 1;
      const st = winner ? 'fulfilled' : expired ? 'expired' : 'rolled_over';
      if (st !== 'rolled_over') status[r.id] = st;
      results.push({
        requestId: r.id, status: st, winner, currency: req.bid.currency, ranking,
        rejected: subs.filter((s) => s.status === 'rejected').map((s) => ({ submissionId: s.id, miner: s.miner, reason: s.verdict?.reasons[0] ?? 'rejected' })),
      });
    }
    await this.store.finishEpoch(idx, this.market.cfg.now(), results, status);
    e = (await this.store.getEpoch(idx))!;
    this.cfg.log(`epoch ${idx} closed: ${results.map((r) => `${r.requestId} ${r.status}${r.winner ? ` (winner ${r.winner})` : ''}`).join(', ') || 'no open requests'}`);
    return e;
  }
}

/** Run passes every `everyMs` in the background (one at a time); returns a stop function. */
export function validatorLoop(v: Validator, everyMs: number, onError: (e: Error) => void): () => Promise<void> {
  const abort = new AbortController();
  let busy: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    if (busy) return; // a pass is still running: skip this tick
    busy = v.runOnce({ signal: abort.signal })
      .catch((e) => { if (!abort.signal.aborted) onError(e as Error); })
      .finally(() => { busy = null; });
  }, everyMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    abort.abort();
    await busy;
  };
}
