// The HTTP JSON API (Hono). Every refusal is a 4xx with `{ error: <code>, message: <what is wrong> }`;
// nothing is stored unless every check passed.
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Leaderboard, RequestView, SubmissionView } from '../src/market/client';
import { rank } from '../src/market/scoring';
import { BlobError } from './blobs';
import { epochView, MarketError, type Market } from './market';
import type { RequestRow, SubmissionRow } from './store';

export interface AppOptions {
  /** Largest JSON body (requests, submissions). */
  maxJsonBytes: number;
  /** A built site (dist/) to serve at /, so the lab and the API share one origin and one port. */
  staticDir?: string;
}

export const DEFAULT_APP_OPTIONS: AppOptions = { maxJsonBytes: 1024 * 1024 };

const requestView = (r: RequestRow): RequestView => ({
  id: r.id, status: r.status, openedEpoch: r.openedEpoch, createdAt: r.createdAt, request: JSON.parse(r.payload), signature: r.signature,
});

const submissionView = (s: SubmissionRow): SubmissionView => ({
  id: s.id, requestId: s.requestId, epoch: s.epoch, miner: s.miner, status: s.status, ownership: s.ownership, receivedAt: s.receivedAt,
  score: s.score, verdict: s.verdict, submission: JSON.parse(s.payload), signature: s.signature,
});

/** Deeper than any document of ours; canonical JSON (signing) recurses, so a 10,000-deep recipe must stop here. */
export const MAX_JSON_DEPTH = 64;

/** Nesting depth of a parsed JSON value, without recursion. */
function depthOf(root: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d > max) max = d;
    if (max > MAX_JSON_DEPTH) return max;
    for (const x of Array.isArray(v) ? v : Object.values(v)) stack.push([x, d + 1]);
  }
  return max;
}

async function jsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (!text.trim()) throw new MarketError(400, 'malformed_json', 'empty body: expected a JSON object');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new MarketError(400, 'malformed_json', `body is not valid JSON: ${(e as Error).message}`);
  }
  if (depthOf(value) > MAX_JSON_DEPTH) throw new MarketError(400, 'too_deep', `body nests deeper than ${MAX_JSON_DEPTH} levels`);
  return value;
}

function intParam(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new MarketError(400, 'invalid', `${name} must be a non-negative integer, got "${v}"`);
  return Number(v);
}

export function createApp(market: Market, options: Partial<AppOptions> = {}): Hono {
  const o = { ...DEFAULT_APP_OPTIONS, ...options };
  const store = market.store;
  const app = new Hono();
  // the API is public and every write is signed, so any origin may call it (a lab page served elsewhere, a wallet test)
  app.use('/v1/*', cors({ origin: '*', allowMethods: ['GET', 'HEAD', 'POST', 'PUT'], allowHeaders: ['content-type'] }));
  const limit = bodyLimit({
    maxSize: o.maxJsonBytes,
    onError: (c) => c.json({ error: 'too_large', message: `body exceeds ${o.maxJsonBytes} bytes` }, 413),
  });

  app.onError((e, c) => {
    if (e instanceof MarketError || e instanceof BlobError) {
      if (e instanceof MarketError && typeof e.extra.retryAfterSeconds === 'number') c.header('retry-after', String(e.extra.retryAfterSeconds));
      return c.json({ error: e.code, message: e.message, ...(e instanceof MarketError ? e.extra : {}) }, e.status);
    }
    console.error(`market: ${c.req.method} ${c.req.path}:`, e);
    return c.json({ error: 'internal', message: (e as Error).message }, 500);
  });

  app.get('/v1/health', async (c) => c.json({ ok: true, epoch: epochView(await market.currentEpoch()) }));

  // epochs
  app.get('/v1/epochs', async (c) => {
    await market.currentEpoch();
    return c.json({ epochs: (await store.listEpochs({ limit: intParam(c.req.query('limit'), 'limit') ?? 100 })).map(epochView) });
  });
  app.get('/v1/epochs/current', async (c) => c.json(epochView(await market.currentEpoch())));
  app.get('/v1/epochs/:idx', async (c) => {
    const e = await store.getEpoch(intParam(c.req.param('idx'), 'epoch')!);
    if (!e) throw new MarketError(404, 'no_epoch', `epoch ${c.req.param('idx')} does not exist`);
    return c.json(epochView(e));
  });

  // requests
  app.post('/v1/requests', limit, async (c) => c.json(await market.postRequest(await jsonBody(c)), 201));
  app.get('/v1/requests', async (c) => {
    const status = c.req.query('status');
    if (status && !['open', 'fulfilled', 'expired'].includes(status)) throw new MarketError(400, 'invalid', `status must be open, fulfilled or expired, got "${status}"`);
    const rows = await store.listRequests({ status: status as RequestRow['status'] | undefined, limit: intParam(c.req.query('limit'), 'limit') });
    return c.json({ requests: rows.map(requestView) });
  });
  app.get('/v1/requests/:id', async (c) => {
    const r = await store.getRequest(c.req.param('id'));
    if (!r) throw new MarketError(404, 'no_request', `request ${c.req.param('id')} does not exist`);
    return c.json(requestView(r));
  });
  app.get('/v1/requests/:id/leaderboard', async (c) => {
    const id = c.req.param('id');
    if (!(await store.getRequest(id))) throw new MarketError(404, 'no_request', `request ${id} does not exist`);
    const accepted = await store.listSubmissions({ requestId: id, status: 'accepted', limit: 100_000 });
    const epochOf = new Map(accepted.map((s) => [s.id, s.epoch]));
    const ranking = rank(accepted.map((s) => ({ submissionId: s.id, miner: s.miner, score: s.score!, seq: s.seq })), [], 0)
      .map((e) => ({ ...e, epoch: epochOf.get(e.submissionId)! }));
    const winners = (await store.listEpochs({ status: 'closed', limit: 100_000 }))
      .flatMap((e) => (e.result ?? []).filter((r) => r.requestId === id && r.winner).map((result) => ({ epoch: e.idx, result })));
    return c.json({ requestId: id, ranking, winners } satisfies Leaderboard);
  });

  // artifacts: content-addressed, hashed while they stream in
  app.put('/v1/blobs/:sha', async (c) => {
    const sha = c.req.param('sha');
    market.blobs.path(sha); // validates the name
    const declared = Number(c.req.header('content-length') ?? NaN);
    if (declared > market.cfg.maxArtifactBytes) {
      throw new BlobError(413, 'too_large', `artifact of ${declared} bytes exceeds the ${market.cfg.maxArtifactBytes}-byte upload limit`);
    }
    if (market.blobs.has(sha)) return c.json({ sha256: sha, bytes: market.blobs.size(sha), existed: true });
    const body = c.req.raw.body;
    if (!body) throw new MarketError(400, 'empty', 'empty body: expected the artifact bytes');
    const r = await market.blobs.put(sha, body as unknown as AsyncIterable<Uint8Array>, market.cfg.maxArtifactBytes);
    return c.json({ sha256: sha, ...r }, r.existed ? 200 : 201);
  });
  app.on(['GET', 'HEAD'], '/v1/blobs/:sha', async (c) => {
    const sha = c.req.param('sha');
    await market.blobs.ensure(sha);
    const size = market.blobs.size(sha);
    if (size === null) throw new MarketError(404, 'no_blob', `blob ${sha} is not stored`);
    const headers = { 'content-type': 'application/octet-stream', 'content-length': String(size) };
    if (c.req.method === 'HEAD') return c.body(null, 200, headers);
    return c.body(Readable.toWeb(market.blobs.stream(sha)) as ReadableStream, 200, headers);
  });

  // submissions
  app.post('/v1/submissions', limit, async (c) => c.json(await market.submit(await jsonBody(c)), 202));
  app.get('/v1/submissions', async (c) => {
    const status = c.req.query('status');
    if (status && !['pending', 'validating', 'accepted', 'rejected'].includes(status)) throw new MarketError(400, 'invalid', `unknown status "${status}"`);
    const rows = await store.listSubmissions({
      requestId: c.req.query('request'), miner: c.req.query('miner'), epoch: intParam(c.req.query('epoch'), 'epoch'),
      status: status as SubmissionRow['status'] | undefined, limit: intParam(c.req.query('limit'), 'limit'),
    });
    return c.json({ submissions: rows.map(submissionView) });
  });
  app.get('/v1/submissions/:id', async (c) => {
    const s = await store.getSubmission(c.req.param('id'));
    if (!s) throw new MarketError(404, 'no_submission', `submission ${c.req.param('id')} does not exist`);
    return c.json(submissionView(s));
  });

  // what closed epochs published (commitments, weights) and to which chain
  app.get('/v1/ledger', async (c) => {
    const entries = await store.listLedger({ epoch: intParam(c.req.query('epoch'), 'epoch'), limit: intParam(c.req.query('limit'), 'limit') });
    return c.json({ entries });
  });

  // a miner's record, over-claims included
  app.get('/v1/miners/:address', async (c) => {
    const subs = await store.listSubmissions({ miner: c.req.param('address'), limit: 100_000 });
    return c.json({
      miner: c.req.param('address'),
      submissions: subs.length,
      accepted: subs.filter((s) => s.status === 'accepted').length,
      rejected: subs.filter((s) => s.status === 'rejected').length,
      overClaims: subs.filter((s) => s.overClaim).map((s) => ({ submissionId: s.id, epoch: s.epoch, reasons: s.verdict?.reasons ?? [] })),
    });
  });

  app.all('/v1/*', (c) => c.json({ error: 'not_found', message: `no endpoint ${c.req.method} ${c.req.path}` }, 404));

  if (o.staticDir) {
    const root = o.staticDir;
    app.use('/*', serveStatic({ root }));
    // single-page app: unknown paths get index.html
    if (existsSync(join(root, 'index.html'))) app.get('*', serveStatic({ root, path: 'index.html' }));
  }
  return app;
}
