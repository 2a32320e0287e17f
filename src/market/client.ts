// HTTP client of the market service (server/app.ts), for the CLI and the browser alike.
import type { Epoch, EpochRequestResult, RankEntry, RequestPayload, SignedRequest, SignedSubmission, SubmissionPayload, Verdict } from './schema';

export class MarketHttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'MarketHttpError';
  }
}

export interface RequestView {
  id: string;
  status: 'open' | 'fulfilled' | 'expired';
  openedEpoch: number;
  createdAt: number;
  request: RequestPayload;
  signature: string;
}

export interface SubmissionView {
  id: string;
  requestId: string;
  epoch: number;
  miner: string;
  status: 'pending' | 'validating' | 'accepted' | 'rejected';
  ownership: string;
  receivedAt: number;
  score: number | null;
  verdict: Verdict | null;
  submission: SubmissionPayload;
  signature: string;
}

export interface Leaderboard {
  requestId: string;
  ranking: (RankEntry & { epoch: number })[];
  winners: { epoch: number; result: EpochRequestResult }[];
}

export class MarketClient {
  readonly baseUrl: string;
  constructor(baseUrl: string, private readonly fetcher: typeof fetch = (...a) => fetch(...a)) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  private async call<T>(method: string, path: string, body?: unknown, init: RequestInit = {}): Promise<T> {
    const headers: Record<string, string> = {};
    let payload: BodyInit | undefined;
    if (body instanceof Uint8Array || body instanceof Blob || body instanceof ReadableStream) {
      headers['content-type'] = 'application/octet-stream';
      payload = body as BodyInit;
      // a streamed upload in Node's fetch must say so
      if (body instanceof ReadableStream) (init as RequestInit & { duplex: string }).duplex = 'half';
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const r = await this.fetcher(`${this.baseUrl}${path}`, { method, headers, body: payload, ...init });
    const text = await r.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      throw new MarketHttpError(r.status, 'bad_response', `${method} ${path}: HTTP ${r.status}, not JSON: ${text.slice(0, 200)}`);
    }
    if (!r.ok) {
      const e = json as { error?: string; message?: string } | null;
      throw new MarketHttpError(r.status, e?.error ?? 'http_error', `${method} ${path}: HTTP ${r.status}: ${e?.message ?? text.slice(0, 200)}`);
    }
    return json as T;
  }

  health() {
    return this.call<{ ok: true; epoch: Epoch }>('GET', '/v1/health');
  }

  postRequest(env: SignedRequest) {
    return this.call<{ id: string; openedEpoch: number; status: string }>('POST', '/v1/requests', env);
  }

  listRequests(status?: 'open' | 'fulfilled' | 'expired') {
    return this.call<{ requests: RequestView[] }>('GET', `/v1/requests${status ? `?status=${status}` : ''}`);
  }

  getRequest(id: string) {
    return this.call<RequestView>('GET', `/v1/requests/${encodeURIComponent(id)}`);
  }

  /** Upload an artifact to the content-addressed store; the service hashes the bytes and refuses a mismatch. */
  putBlob(sha256: string, body: Uint8Array | Blob | ReadableStream<Uint8Array>) {
    return this.call<{ sha256: string; bytes: number; existed: boolean }>('PUT', `/v1/blobs/${sha256}`, body);
  }

  async hasBlob(sha256: string): Promise<boolean> {
    const r = await this.fetcher(`${this.baseUrl}/v1/blobs/${sha256}`, { method: 'HEAD' });
    return r.ok;
  }

  submit(env: SignedSubmission) {
    return this.call<{ id: string; epoch: number; status: string; ownership: string; reason?: string }>('POST', '/v1/submissions', env);
  }

  submission(id: string) {
    return this.call<SubmissionView>('GET', `/v1/submissions/${encodeURIComponent(id)}`);
  }

  submissions(filter: { request?: string; miner?: string; epoch?: number; status?: string } = {}) {
    const q = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));
    return this.call<{ submissions: SubmissionView[] }>('GET', `/v1/submissions${q.size ? `?${q}` : ''}`);
  }

  leaderboard(requestId: string) {
    return this.call<Leaderboard>('GET', `/v1/requests/${encodeURIComponent(requestId)}/leaderboard`);
  }

  epochs() {
    return this.call<{ epochs: Epoch[] }>('GET', '/v1/epochs');
  }

  epoch(index: number | 'current') {
    return this.call<Epoch>('GET', `/v1/epochs/${index}`);
  }
}
