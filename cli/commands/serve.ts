import { resolve } from 'node:path';
import { parseRateLimit } from '../../server/rate-limit';
import { defaultDataDir, startService } from '../../server/serve';
import { num, parse, report, UsageError, type Command } from '../command';
import { parseBytes } from '../size';

export const DEFAULT_DB = '.market/market.sqlite';

/** Durations as people write them: 500ms, 30s, 10m, 2h, or plain seconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) throw new UsageError(`--${flag}: "${text}" is not a duration (e.g. 500ms, 30s, 10m, 2h)`);
  return Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms']);
}

/** The options `lab serve` and `lab validate` share: where the market lives and how it measures. */
export const MARKET_FLAGS = {
  db: { type: 'string' }, 'database-url': { type: 'string' }, blobs: { type: 'string' }, data: { type: 'string' }, epoch: { type: 'string' },
  limit: { type: 'string' }, backend: { type: 'string' },
  subtensor: { type: 'string' }, netuid: { type: 'string' }, hotkey: { type: 'string' }, 'version-key': { type: 'string' },
} as const;

/** --subtensor ws://... --netuid N --hotkey URI: publish closed epochs to a Bittensor subnet instead of the local ledger. */
export async function chainOption(values: Record<string, string | boolean | undefined>) {
  if (values.subtensor === undefined) {
    if (values.netuid !== undefined || values.hotkey !== undefined) throw new UsageError('--netuid and --hotkey go with --subtensor URL');
    return undefined;
  }
  const url = values.subtensor as string;
  if (!/^wss?:\/\//.test(url)) throw new UsageError(`--subtensor must be a ws:// or wss:// URL, got "${url}"`);
  const netuid = num(values.netuid, 'netuid', NaN);
  if (!Number.isInteger(netuid) || netuid < 0 || netuid > 65535) throw new UsageError('--subtensor needs --netuid 0..65535');
  if (!values.hotkey) throw new UsageError('--subtensor needs --hotkey URI (the validator hotkey that signs set_weights)');
  const [{ SubtensorChain }, { keyFromUri }] = await Promise.all([import('../../src/chain/subtensor'), import('../../src/market/signing')]);
  const { pair } = await keyFromUri(values.hotkey as string);
  return new SubtensorChain({ url, netuid, hotkey: pair, versionKey: values['version-key'] === undefined ? undefined : BigInt(values['version-key'] as string) });
}

export function marketOptions(values: Record<string, string | boolean | undefined>) {
  const backend = (values.backend as string | undefined) ?? 'cpu';
  if (backend !== 'cpu' && backend !== 'webgpu') throw new UsageError(`--backend must be cpu or webgpu, got "${backend}"`);
  const limit = num(values.limit, 'limit', 50);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive integer');
  return {
    db: resolve((values.db as string | undefined) ?? DEFAULT_DB),
    // PostgreSQL instead of the SQLite file: several services and validators can share it
    databaseUrl: (values['database-url'] as string | undefined) ?? (process.env.DATABASE_URL || undefined),
    blobs: values.blobs === undefined ? undefined : resolve(values.blobs as string),
    data: resolve((values.data as string | undefined) ?? defaultDataDir()),
    epochMs: values.epoch === undefined ? null : parseDuration(values.epoch as string, 'epoch'),
    limit,
    backend: backend as 'cpu' | 'webgpu',
  };
}

function rateLimitOption(text: string | undefined) {
  if (text === undefined) return undefined;
  try {
    return parseRateLimit(text);
  } catch (e) {
    throw new UsageError(`--rate-limit: ${(e as Error).message}`);
  }
}

export const serveCommand: Command = {
  usage: '[--port 8787] [--host 127.0.0.1] [--db .market/market.sqlite | --database-url postgres://... ($DATABASE_URL)] [--blobs DIR] [--data DIR] [--epoch 10m] [--validate-every 30s|0] [--limit 50] [--backend cpu|webgpu] [--subtensor wss://... --netuid N --hotkey URI] [--static dist] [--max-artifact 4GB] [--max-body 1MB] [--rate-limit 120/min|0] [--json]',
  summary: 'the market service: HTTP API (requests, artifacts, submissions, leaderboard, epochs) on SQLite (PostgreSQL with --database-url / $DATABASE_URL), with a local validator loop',
  async run(argv, signal) {
    const { values } = parse(argv, {
      ...MARKET_FLAGS, port: { type: 'string' }, host: { type: 'string' }, 'validate-every': { type: 'string' },
      static: { type: 'string' }, 'max-artifact': { type: 'string' }, 'max-body': { type: 'string' }, 'rate-limit': { type: 'string' },
    });
    const port = num(values.port, 'port', 8787);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0..65535, got ${values.port}`);
    const m = marketOptions(values);
    const json = !!values.json;
    const service = await startService({
      ...m,
      host: (values.host as string | undefined) ?? '127.0.0.1',
      port,
      validateEveryMs: parseDuration((values['validate-every'] as string | undefined) ?? '30s', 'validate-every'),
      maxArtifactBytes: parseBytes((values['max-artifact'] as string | undefined) ?? '4GB', 'max-artifact'),
      maxJsonBytes: parseBytes((values['max-body'] as string | undefined) ?? '1MiB', 'max-body'),
      rateLimit: rateLimitOption(values['rate-limit'] as string | undefined),
      chain: await chainOption(values),
      staticDir: values.static === undefined ? undefined : resolve(values.static as string),
      log: (line) => console.error(`[market] ${line}`),
    });
    const db = m.databaseUrl ? 'postgresql' : m.db;
    report(json, { url: service.url, port: service.port, db, data: m.data }, () =>
      `market service on ${service.url} (db ${db}, data ${m.data}); Ctrl-C stops it`);
    await new Promise<void>((done) => {
      if (signal.aborted) return done();
      signal.addEventListener('abort', () => done(), { once: true });
      process.once('SIGTERM', () => done());
    });
    await service.close();
  },
};
