// Market state shared by the Market, Mine and Validator pages: which validator service to talk to, the wallet,
// the requests, and the buyer's view of one request (submissions, leaderboard, a preview of the winner).
import { MarketClient, type Leaderboard, type RequestView, type SubmissionView } from '../market/client';
import { connectWallet, walletSigner, type WalletAccount } from '../market/wallet';
import { signEnvelope, requestPayload } from '../market/payload';
import { RequestPayload, firstIssue } from '../market/schema';
import type { GenerateStats, ModelInfo } from '../runtime/session';
import type { Result } from '../eval/result';
import type { Progress } from '../lab/compress';
import { message, proxy, startLabWorker, type LabRemote } from './worker';

const URL_KEY = 'lab.validatorUrl';
export const ORIGIN_NAME = 'compression lab';

export class WalletState {
  accounts = $state<WalletAccount[]>([]);
  address = $state('');
  error = $state<string | null>(null);
  connecting = $state(false);

  async connect(): Promise<void> {
    this.connecting = true;
    this.error = null;
    try {
      const { accounts } = await connectWallet(ORIGIN_NAME);
      if (accounts.length === 0) throw new Error('the wallet has no sr25519 account: create one in the extension');
      this.accounts = accounts;
      if (!accounts.some((a) => a.address === this.address)) this.address = accounts[0].address;
    } catch (e) {
      this.error = `Wallet: ${message(e)}`;
    } finally {
      this.connecting = false;
    }
  }

  signer() {
    if (!this.address) throw new Error('connect a wallet first');
    return walletSigner(this.address);
  }
}

export class MarketState {
  url = $state(localStorage.getItem(URL_KEY) || location.origin);
  wallet = new WalletState();
  requests = $state<RequestView[]>([]);
  error = $state<string | null>(null);
  loading = $state(false);
  posted = $state<string | null>(null);

  selected = $state<RequestView | null>(null);
  submissions = $state<SubmissionView[]>([]);
  leaderboard = $state<Leaderboard | null>(null);

  // preview of a submitted model, in its own worker
  preview = $state<{ submission: SubmissionView; info: ModelInfo } | null>(null);
  previewPhase = $state<'idle' | 'loading' | 'generating' | 'evaluating'>('idle');
  previewProgress = $state<Progress | null>(null);
  previewPrompt = $state('Once upon a time');
  previewText = $state('');
  previewStats = $state<GenerateStats | null>(null);
  previewTask = $state('tinystories');
  previewResult = $state<Result | null>(null);
  private previewApi: LabRemote | null = null;

  get client(): MarketClient {
    return new MarketClient(this.url);
  }

  setUrl(url: string): void {
    this.url = url.trim().replace(/\/+$/, '') || location.origin;
    localStorage.setItem(URL_KEY, this.url);
    void this.refresh();
  }

  async refresh(): Promise<void> {
    this.loading = true;
    try {
      this.requests = (await this.client.listRequests()).requests;
      if (this.selected) await this.select(this.selected.id);
    } catch (e) {
      this.error = `Could not reach the validator at ${this.url}: ${message(e)}`;
    } finally {
      this.loading = false;
    }
  }

  async select(id: string): Promise<void> {
    try {
      const [r, subs, board] = await Promise.all([this.client.getRequest(id), this.client.submissions({ request: id }), this.client.leaderboard(id)]);
      this.selected = r;
      this.submissions = subs.submissions;
      this.leaderboard = board;
    } catch (e) {
      this.error = `Could not read request ${id}: ${message(e)}`;
    }
  }

  /** Validate with the market's own schema, sign with the wallet, post. Returns the new request's id. */
  async post(fields: Omit<RequestPayload, 'schema' | 'buyer' | 'nonce' | 'timestamp'>): Promise<string | null> {
    this.error = null;
    this.posted = null;
    try {
      const signer = await this.wallet.signer();
      const payload = requestPayload(fields, signer.address);
      const check = RequestPayload.safeParse(payload);
      if (!check.success) throw new Error(`the request is not valid: ${firstIssue(check.error)}`);
      const r = await this.client.postRequest(await signEnvelope(payload, signer));
      this.posted = r.id;
      await this.refresh();
      await this.select(r.id);
      return r.id;
    } catch (e) {
      this.error = `Posting failed: ${message(e)}`;
      return null;
    }
  }

  /** The submission a buyer would pay: the last epoch's winner, else the current leader. */
  get winner(): SubmissionView | null {
    const id = this.leaderboard?.winners.at(-1)?.result.winner ?? this.leaderboard?.ranking[0]?.submissionId;
    return this.submissions.find((s) => s.id === id) ?? null;
  }

  private api(): LabRemote {
    this.previewApi ??= startLabWorker('preview', (m) => (this.error = m)).api;
    return this.previewApi;
  }

  private async previewStep<T>(phase: 'loading' | 'generating' | 'evaluating', what: string, fn: (p: (x: Progress) => void) => Promise<T>): Promise<T | undefined> {
    if (this.previewPhase !== 'idle') return undefined;
    this.previewPhase = phase;
    this.previewProgress = null;
    this.error = null;
    try {
      return await fn(proxy((p: Progress) => (this.previewProgress = p)));
    } catch (e) {
      this.error = `${what}: ${message(e)}`;
      return undefined;
    } finally {
      this.previewPhase = 'idle';
      this.previewProgress = null;
    }
  }

  /** Download a submission's artifact from the service's blob store into the preview worker. */
  async loadPreview(s: SubmissionView): Promise<void> {
    const a = s.submission.artifact;
    const url = `${this.url}/v1/blobs/${a.sha256}`;
    const info = await this.previewStep('loading', `Could not load ${a.name}`, (p) => this.api().load({ kind: 'url', url, name: a.name }, p));
    if (info) {
      this.preview = { submission: s, info };
      this.previewText = '';
      this.previewStats = null;
      this.previewResult = null;
    }
  }

  async previewGenerate(): Promise<void> {
    this.previewText = '';
    const stats = await this.previewStep('generating', 'Generation failed', () =>
      this.api().generate('base', this.previewPrompt, { maxNewTokens: 48, temperature: 0 }, proxy((t: string) => void (this.previewText += t))));
    if (stats) {
      this.previewText = stats.completion;
      this.previewStats = stats;
    }
  }

  async previewEvaluate(limit: number): Promise<void> {
    const task = this.previewTask;
    const r = await this.previewStep('evaluating', `Running ${task} failed`, (p) => this.api().evaluate('base', { tasks: [task], limit }, p));
    if (r) this.previewResult = r;
  }

  cancelPreview(): void {
    void this.previewApi?.cancel();
  }
}
