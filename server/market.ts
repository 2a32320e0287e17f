// The market's rules for what comes in: signed requests and submissions are checked (schema, signature,
// freshness, nonce, artifact hash and size, ownership) before anything is stored, and the epoch clock
// advances here. Re-measurement and closing epochs are the validator's (validator.ts).
import { randomBytes } from 'node:crypto';
import { sha256OfBytes } from '../src/io/hash';
import { canonicalJson } from '../src/recipe/canonical';
import { ownershipHash } from '../src/market/ownership';
import { documentId } from '../src/market/payload';
import {
  EPOCH_SCHEMA, SignedRequest, SignedSubmission, VERDICT_SCHEMA, firstIssue,
  type Epoch, type RequestPayload, type SubmissionPayload, type Verdict,
} from '../src/market/schema';
import { publicKeyOf, verifyPayload } from '../src/market/signing';
import type { BlobStore } from './blobs';
import { RateLimiter, type RateLimit } from './rate-limit';
import { ReplayError, type EpochRow, type NewEpoch, type Store } from './store';

export class MarketError extends Error {
  constructor(readonly status: 400 | 401 | 404 | 409 | 413 | 422 | 429, readonly code: string, message: string, readonly extra: Record<string, unknown> = {}) {
    super(message);
  }
}

export interface MarketConfig {
  /** Length of an epoch; null keeps the open epoch's length (a `lab validate` beside a running service). */
  epochMs: number | null;
  /** How far a signed timestamp may be from the service's clock. */
  timestampSkewMs: number;
  maxArtifactBytes: number;
  /** Signed writes per key (buyer or miner); null: unlimited. */
  rateLimit: RateLimit | null;
  now: () => number;
}

export const DEFAULT_EPOCH_MS = 10 * 60_000;

export const DEFAULT_MARKET_CONFIG: MarketConfig = {
  epochMs: null,
  timestampSkewMs: 10 * 60_000,
  maxArtifactBytes: 4 * 1024 ** 3,
  rateLimit: { perMinute: 120, burst: 120 },
  now: () => Date.now(),
};

export function newEpoch(idx: number, startsAt: number, epochMs: number): NewEpoch {
  const seed = randomBytes(32).toString('hex');
  return { idx, seed, seedCommit: sha256OfBytes(new TextEncoder().encode(seed)), startsAt, endsAt: startsAt + epochMs };
}

/** The public view of an epoch: the seed only once it is closed (until then, its commitment). */
export function epochView(e: EpochRow): Epoch {
  return {
    schema: EPOCH_SCHEMA, index: e.idx, status: e.status, startsAt: e.startsAt, endsAt: e.endsAt, closedAt: e.closedAt,
    seedCommit: e.seedCommit, seed: e.status === 'closed' ? e.seed : null, results: e.result,
  };
}

export function parseBody<T>(schema: { safeParse(x: unknown): { success: true; data: T } | { success: false; error: import('zod').ZodError } }, raw: unknown, what: string): T {
  const r = schema.safeParse(raw);
  if (!r.success) throw new MarketError(400, 'invalid', `invalid ${what}: ${firstIssue(r.error)}`);
  return r.data;
}

export class Market {
  readonly cfg: MarketConfig;
  private readonly limiter: RateLimiter | null;

  constructor(readonly store: Store, readonly blobs: BlobStore, cfg: Partial<MarketConfig> = {}) {
    this.cfg = { ...DEFAULT_MARKET_CONFIG, ...cfg };
    this.limiter = this.cfg.rateLimit ? new RateLimiter(this.cfg.rateLimit) : null;
  }

  /**
   * The open epoch, advancing the clock first: when the open epoch's time is up it moves to 'closing' (the
   * validator ranks and closes it) and the next one opens, starting where it ended (or now, after idle time).
   */
  async currentEpoch(): Promise<EpochRow> {
    const now = this.cfg.now();
    await this.store.createFirstEpoch(newEpoch(0, now, this.cfg.epochMs ?? DEFAULT_EPOCH_MS));
    for (;;) {
      const open = await this.store.openEpoch();
      if (!open) throw new Error('market store has no open epoch');
      if (now < open.endsAt) return open;
      const length = this.lengthAfter(open);
      const start = now < open.endsAt + length ? open.endsAt : now;
      await this.store.advanceEpoch(open.idx, open.endsAt, newEpoch(open.idx + 1, start, length));
    }
  }

  private lengthAfter(open: EpochRow): number {
    return this.cfg.epochMs ?? open.endsAt - open.startsAt;
  }

  /** Close the open epoch now (an operator's or test's `lab validate --close`); returns the index that closes. */
  async forceAdvance(): Promise<number> {
    const open = await this.currentEpoch();
    const now = this.cfg.now();
    await this.store.advanceEpoch(open.idx, now, newEpoch(open.idx + 1, now, this.lengthAfter(open)));
    return open.idx;
  }

  private async checkSigned(payload: RequestPayload | SubmissionPayload, raw: unknown, signature: string, signer: string) {
    const v = await verifyPayload(raw, signature, signer);
    if (!v.ok) throw new MarketError(401, 'bad_signature', `bad signature: ${v.reason}`);
    const skew = Math.abs(this.cfg.now() - payload.timestamp);
    if (skew > this.cfg.timestampSkewMs) {
      throw new MarketError(400, 'stale', `timestamp ${new Date(payload.timestamp).toISOString()} is ${Math.round(skew / 1000)} s from the service clock (allowed: ${this.cfg.timestampSkewMs / 1000} s)`);
    }
    if (await this.store.nonceUsed(signer, payload.nonce)) throw new MarketError(409, 'replay', new ReplayError(signer, payload.nonce).message);
    // charged once the key has proven itself with a fresh, unused nonce: neither a forged body nor a replay of
    // someone's old envelope (they are public) can spend that key's budget
    const taken = this.limiter?.take(signer, this.cfg.now());
    if (taken && !taken.ok) {
      const { perMinute, burst } = this.cfg.rateLimit!;
      const retryAfterSeconds = Math.ceil(taken.retryAfterMs / 1000);
      throw new MarketError(429, 'rate_limited',
        `rate limit: ${signer} may make ${perMinute} signed writes per minute (bursts of ${burst}); retry in ${retryAfterSeconds} s`, { retryAfterSeconds });
    }
  }

  async postRequest(raw: unknown) {
    const env = parseBody(SignedRequest, raw, 'request');
    const hw = env.payload.hardware;
    // Without it the validator could only count the KV cache of the artifact's own maxPositions, which a miner
    // sets: stored requests without one still parse (and use that), new ones must say what they mean.
    if (hw?.maxRamBytes !== undefined && hw.contextLength === undefined) {
      throw new MarketError(400, 'invalid', 'invalid request: hardware.maxRamBytes needs hardware.contextLength (the KV-cache positions the memory bound counts)');
    }
    const rawPayload = (raw as { payload: unknown }).payload;
    await this.checkSigned(env.payload, rawPayload, env.signature, env.payload.buyer);
    const epoch = await this.currentEpoch();
    const id = documentId(rawPayload);
    try {
      await this.store.insertRequest({
        id, buyer: env.payload.buyer, payload: canonicalJson(rawPayload), signature: env.signature, createdAt: this.cfg.now(), nonce: env.payload.nonce,
      }, epoch.idx);
    } catch (e) {
      if (e instanceof ReplayError) throw new MarketError(409, 'replay', e.message);
      throw e;
    }
    return { id, openedEpoch: epoch.idx, status: 'open' as const };
  }

  async submit(raw: unknown) {
    const env = parseBody(SignedSubmission, raw, 'submission');
    const rawPayload = (raw as { payload: unknown }).payload;
    const p = env.payload;
    await this.checkSigned(p, rawPayload, env.signature, p.miner);

    const req = await this.store.getRequest(p.requestId);
    if (!req) throw new MarketError(404, 'no_request', `request ${p.requestId} does not exist`);
    if (req.status !== 'open') throw new MarketError(409, 'request_closed', `request ${p.requestId} is ${req.status}; it takes no more submissions`);

    if (p.result.artifactSha256 !== null && p.result.artifactSha256 !== p.artifact.sha256) {
      throw new MarketError(400, 'hash_mismatch', `artifact hash mismatch: the claimed Result measured ${p.result.artifactSha256}, the submission names ${p.artifact.sha256}`);
    }
    await this.blobs.ensure(p.artifact.sha256); // uploaded through another host: fetched from the shared store
    const stored = this.blobs.size(p.artifact.sha256);
    if (stored === null) {
      throw new MarketError(422, 'artifact_missing', `artifact ${p.artifact.sha256} is not in the blob store; upload it first (PUT /v1/blobs/${p.artifact.sha256})`);
    }
    if (stored !== p.artifact.bytes) {
      throw new MarketError(400, 'size_mismatch', `artifact ${p.artifact.sha256} has ${stored} bytes, the submission says ${p.artifact.bytes}`);
    }

    const id = documentId(rawPayload);
    const ownership = ownershipHash(p.artifact.sha256, publicKeyOf(p.miner));
    await this.currentEpoch(); // advance the clock so the submission lands in the epoch open now
    let outcome;
    try {
      outcome = await this.store.insertSubmission({
        id, requestId: p.requestId, miner: p.miner, artifactSha256: p.artifact.sha256, ownership,
        payload: canonicalJson(rawPayload), signature: env.signature, receivedAt: this.cfg.now(), nonce: p.nonce,
      });
    } catch (e) {
      if (e instanceof ReplayError) throw new MarketError(409, 'replay', e.message);
      throw e;
    }
    if (outcome.kind === 'duplicate') {
      const reason = `duplicate artifact: ${p.artifact.sha256} was first submitted by ${outcome.owner} (submission ${outcome.firstSubmission}); earliest wins`;
      const verdict: Verdict = {
        schema: VERDICT_SCHEMA, submissionId: id, epoch: outcome.epoch, status: 'rejected', reasons: [reason], overClaim: false,
        measured: null, claims: [], constraints: [], score: null, at: this.cfg.now(), seconds: 0,
      };
      await this.store.setVerdict(id, verdict);
      throw new MarketError(409, 'duplicate', reason, { id, epoch: outcome.epoch });
    }
    return { id, epoch: outcome.epoch, status: 'pending' as const, ownership };
  }
}
