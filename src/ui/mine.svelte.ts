// Page state of Mine: pick an open request, run a list of recipes on its base model in a worker of its own
// (so it keeps going while you use other pages), keep the best candidate that meets the request, submit it
// signed by the wallet, and follow the validator's verdict.
import type { Result } from '../eval/result';
import { judge, type Verdict } from '../lab/candidate';
import type { Catalog } from '../lab/catalog';
import type { Progress } from '../lab/compress';
import type { MineSearchOutcome, SearchCandidate } from '../lab/search';
import type { RequestView, SubmissionView } from '../market/client';
import { signEnvelope, submissionPayload } from '../market/payload';
import { baseTasks, requiredTasks } from '../market/scoring';
import type { MarketState } from './market.svelte';
import { BUNDLED_MODEL } from './lab.svelte';
import { minePlan, type MinePlan } from './mine-plan';
import { message, proxy, startLabWorker, type LabRemote } from './worker';

export interface Candidate {
  recipe: string;
  bytes: number;
  result: Result;
  verdict: Verdict;
}

interface Best extends Candidate {
  artifact: { name: string; bytes: Uint8Array; sha256: string; recipe: unknown };
}

export class MineState {
  catalog = $state<Catalog | null>(null);
  request = $state<RequestView | null>(null);
  /** Recipe files (static/recipes) to try, in order. */
  recipes = $state<string[]>(['q8_0', 'q4_0-llamacpp', 'hqq-int4']);
  limit = $state(4);
  /** Search settings: full evaluations, candidates probed, and a wall-clock budget (the state resumes beyond it). */
  maxFullEvals = $state(3);
  probeTop = $state(4);
  budgetSeconds = $state(120);
  /** The search's full evaluations, live as they land (relative perplexity increase). */
  searched = $state<SearchCandidate[]>([]);
  stoppedBy = $state<MineSearchOutcome['stoppedBy'] | null>(null);
  running = $state(false);
  stage = $state<string | null>(null);
  progress = $state<Progress | null>(null);
  candidates = $state<Candidate[]>([]);
  best = $state.raw<Best | null>(null);
  error = $state<string | null>(null);
  warning = $state<string | null>(null);
  submission = $state<SubmissionView | null>(null);
  submitting = $state(false);

  private readonly api: LabRemote;
  private stopRequested = false;
  private poll: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly market: MarketState) {
    this.api = startLabWorker('miner', (m) => (this.error = m)).api;
    this.api.catalog().then((c) => (this.catalog = c), (e) => (this.error = `Could not read the recipes: ${message(e)}`));
  }

  /** Search the request's constraints, or the fixed recipe list when the search cannot express them. */
  get plan(): MinePlan | null {
    return this.request ? minePlan(this.request.request) : null;
  }

  get openRequests(): RequestView[] {
    return this.market.requests.filter((r) => r.status === 'open');
  }

  pick(r: RequestView): void {
    if (this.running) return;
    this.request = r;
    this.candidates = [];
    this.best = null;
    this.submission = null;
    this.warning = null;
    this.searched = [];
    this.stoppedBy = null;
  }

  /** Load the request's base (its URI, else the bundled demo model) and check it is the model the buyer named. */
  private async loadBase(r: RequestView): Promise<void> {
    const base = r.request.base;
    this.stage = `loading ${base.name}`;
    const onProgress = proxy((p: Progress) => (this.progress = p));
    await this.api.load(base.uri ? { kind: 'url', url: base.uri, name: base.name } : { kind: 'url', url: BUNDLED_MODEL.url }, onProgress);
    const sha = await this.api.baseSha256();
    if (sha !== base.sha256) {
      this.warning = `The loaded base (sha256 ${sha.slice(0, 12)}…) is not the request's base (${base.sha256.slice(0, 12)}…); fraction-of-base constraints use the request's declared metrics.`;
    }
  }

  async start(): Promise<void> {
    const r = this.request;
    if (!r || this.running) return;
    const catalog = this.catalog;
    if (!catalog) return;
    this.running = true;
    this.stopRequested = false;
    this.error = null;
    this.candidates = [];
    this.best = null;
    this.submission = null;
    this.searched = [];
    this.stoppedBy = null;
    const req = r.request;
    const plan = minePlan(req);
    const tasks = requiredTasks(req);
    const limit = Math.max(1, Math.floor(Number(this.limit) || 1));
    const onProgress = proxy((p: Progress) => (this.progress = p));
    try {
      await this.loadBase(r);
      let base: Result | null = null;
      if (baseTasks(req).length) {
        this.stage = 'measuring the base model';
        base = await this.api.evaluate('base', { tasks: baseTasks(req), limit }, onProgress);
      }
      const consider = async (name: string, json: unknown) => {
        this.stage = `${name}: compressing`;
        const summary = await this.api.compress(json, undefined, onProgress);
        this.stage = `${name}: evaluating ${tasks.join(', ') || '(size only)'}`;
        const result = await this.api.evaluate('compressed', { tasks, limit, contextLength: req.hardware?.contextLength }, onProgress);
        const verdict = judge(req, result, base);
        const c: Candidate = { recipe: name, bytes: summary.bytes, result, verdict };
        this.candidates = [...this.candidates, c];
        if (verdict.ok && verdict.score !== null && (!this.best || verdict.score > (this.best.verdict.score ?? -Infinity))) {
          this.best = { ...c, artifact: await this.api.artifact('compressed') };
        }
      };
      if (plan.kind === 'search') {
        this.stage = plan.spec.goal === 'min-bytes' ? `searching the smallest recipe within the ${plan.spec.task} perplexity limit` : `searching recipes for ${plan.spec.task} perplexity`;
        // braces: the callback's return value goes back through comlink, and a $state array cannot be cloned
        const onCandidate = proxy((c: SearchCandidate) => { this.searched = [...this.searched, c]; });
        const whole = (x: number, min: number) => Math.max(min, Math.floor(Number(x) || min));
        const out = await this.api.search({
          ...plan.spec, chunks: limit, maxFullEvals: whole(this.maxFullEvals, 1), probeTop: whole(this.probeTop, 1),
          budgetSeconds: whole(this.budgetSeconds, 1), key: `mine:${r.id}:${limit}`,
        }, onProgress, onCandidate);
        this.searched = out.evaluated;
        this.stoppedBy = out.stoppedBy;
        // the search's best for the request's objective, measured as the market will (every required task, the real artifact's bytes)
        if (out.best && !this.stopRequested) await consider(out.best.name, out.best.json);
      } else {
        for (const file of this.recipes) {
          if (this.stopRequested) break;
          const recipe = catalog.recipes.find((x) => x.file === file);
          if (recipe) await consider(recipe.name, $state.snapshot(recipe.json));
        }
      }
      if (!this.best && !this.stopRequested) this.error = plan.kind === 'search'
        ? 'The search found no recipe that meets the request; allow more evaluations or time (it resumes), or a looser request.'
        : 'No recipe met the request; try more recipes or a looser request.';
    } catch (e) {
      if (!this.stopRequested) this.error = `The search failed: ${message(e)}`;
    } finally {
      this.running = false;
      this.stage = null;
      this.progress = null;
    }
  }

  stop(): void {
    this.stopRequested = true;
    void this.api.cancel();
  }

  /** Upload the best artifact, sign the submission with the wallet, send it, then follow the verdict. */
  async submit(): Promise<void> {
    const best = this.best, r = this.request;
    if (!best || !r || this.submitting) return;
    this.submitting = true;
    this.error = null;
    try {
      const client = this.market.client;
      const signer = await this.market.wallet.signer();
      const a = best.artifact;
      await client.putBlob(a.sha256, a.bytes);
      const payload = submissionPayload({
        requestId: r.id, artifact: { sha256: a.sha256, bytes: a.bytes.byteLength, name: a.name },
        result: { ...best.result, artifactSha256: a.sha256 }, recipe: a.recipe, miner: signer.address,
      });
      const receipt = await client.submit(await signEnvelope(payload, signer));
      this.submission = await client.submission(receipt.id);
      this.follow(receipt.id);
    } catch (e) {
      this.error = `Submitting failed: ${message(e)}`;
    } finally {
      this.submitting = false;
    }
  }

  /** Poll the submission until the validator decides. */
  private follow(id: string): void {
    clearTimeout(this.poll);
    const tick = async () => {
      try {
        this.submission = await this.market.client.submission(id);
      } catch (e) {
        this.error = `Could not read the verdict: ${message(e)}`;
      }
      if (this.submission?.status === 'pending' || this.submission?.status === 'validating') this.poll = setTimeout(tick, 1500);
    };
    this.poll = setTimeout(tick, 1500);
  }
}
