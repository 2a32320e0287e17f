// The market service as one Node process: SQLite store + blob store, the HTTP API, optionally the lab itself
// (a built dist/ or Vite's dev middleware) on the same port, and optionally a local validator loop.
import { getRequestListener } from '@hono/node-server';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { dirSource } from '../node/data-source';
import { DEFAULT_DATA_DIR, REPO_ROOT } from '../node/paths';
import { loadTaskLibrary } from '../node/tasks';
import { createApp } from './app';
import { BlobStore } from './blobs';
import { Market } from './market';
import type { RateLimit } from './rate-limit';
import type { Chain } from '../src/chain/chain';
import type { Backend } from './measure';
import { PgStore } from './postgres';
import { S3Remote, s3ConfigFromEnv } from './s3';
import { SqliteStore } from './sqlite';
import type { Store } from './store';
import { Validator, validatorLoop } from './validator';

export interface ServiceOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  db: string;
  /** A PostgreSQL connection string: the store lives there instead of the SQLite file `db` ($DATABASE_URL in the CLI). */
  databaseUrl?: string;
  /** Blob store folder; default `blobs/` beside the database. */
  blobs?: string;
  /** Held-out task data (the layout of ../shared/data). */
  data: string;
  /** Epoch length; null keeps the stored epochs' length (10 minutes for a new database). */
  epochMs: number | null;
  /** Run a validator pass this often; 0 = no local validator (run `lab validate`). */
  validateEveryMs: number;
  limit: number;
  backend: Backend;
  maxArtifactBytes: number;
  maxJsonBytes: number;
  /** Where closed epochs publish (commitments, weights); default: the local ledger in the database. */
  chain?: Chain;
  /** Signed writes per key; null: unlimited; absent: the market's default (120 per minute). */
  rateLimit?: RateLimit | null;
  /** Serve a built site at / ... */
  staticDir?: string;
  /** ... or the lab through Vite's dev middleware (npm start). */
  vite?: boolean;
  log: (line: string) => void;
}

/** Held-out data for validators: $LAB_HELDOUT_DATA, else /heldout/data when present, else ../shared/data. */
export function defaultDataDir(): string {
  if (process.env.LAB_HELDOUT_DATA) return process.env.LAB_HELDOUT_DATA;
  return existsSync('/heldout/data') ? '/heldout/data' : DEFAULT_DATA_DIR;
}

export const defaultBlobDir = (db: string) => join(dirname(resolve(db)), 'blobs');

/** Store, blobs, market and validator over one database file: what `lab serve` and `lab validate` share. */
/** PostgreSQL when a connection string is given, else the SQLite file. */
export function openStore(o: Pick<ServiceOptions, 'db' | 'databaseUrl'>): Store {
  if (o.databaseUrl) return new PgStore(o.databaseUrl);
  mkdirSync(dirname(resolve(o.db)), { recursive: true });
  return new SqliteStore(o.db);
}

export async function openMarket(o: Pick<ServiceOptions, 'db' | 'databaseUrl' | 'blobs' | 'data' | 'epochMs' | 'limit' | 'backend' | 'maxArtifactBytes' | 'rateLimit' | 'chain' | 'log'>) {
  if (!existsSync(o.data)) throw new Error(`data folder ${o.data} not found; pass --data DIR (the layout of ../shared/data)`);
  const store = openStore(o);
  await store.migrate();
  const s3 = s3ConfigFromEnv();
  const market = new Market(store, new BlobStore(o.blobs ?? defaultBlobDir(o.db), s3 ? new S3Remote(s3) : null), {
    epochMs: o.epochMs, maxArtifactBytes: o.maxArtifactBytes, ...(o.rateLimit === undefined ? {} : { rateLimit: o.rateLimit }),
  });
  await market.currentEpoch();
  const validator = new Validator(market, {
    data: dirSource(o.data), library: loadTaskLibrary(), limit: o.limit, backend: o.backend, log: o.log,
    ...(o.chain ? { chain: o.chain } : {}),
  });
  return { store, market, validator };
}

export interface Service {
  url: string;
  port: number;
  market: Market;
  validator: Validator;
  close(): Promise<void>;
}

export async function startService(o: ServiceOptions): Promise<Service> {
  const { store, market, validator } = await openMarket(o);
  const app = createApp(market, { maxJsonBytes: o.maxJsonBytes, staticDir: o.vite ? undefined : o.staticDir });
  const api = getRequestListener(app.fetch);
  const server: Server = createServer();
  let vite: import('vite').ViteDevServer | undefined;
  if (o.vite) {
    const { createServer: createVite } = await import('vite');
    vite = await createVite({
      configFile: join(REPO_ROOT, 'vite.config.ts'), root: REPO_ROOT, appType: 'spa', clearScreen: false, logLevel: 'warn',
      server: { middlewareMode: true, ws: { server } },
    });
  }
  server.on('request', (req, res) => {
    if (!vite || req.url?.startsWith('/v1/')) return void api(req, res);
    vite.middlewares(req, res, () => {
      res.statusCode = 404;
      res.end('not found');
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(o.port, o.host, () => ok());
  });
  const { port } = server.address() as AddressInfo;
  const stopLoop = o.validateEveryMs > 0 ? validatorLoop(validator, o.validateEveryMs, (e) => o.log(`validator: ${e.message}`)) : null;
  return {
    url: `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`,
    port, market, validator,
    async close() {
      await stopLoop?.();
      await new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      });
      await vite?.close();
      await store.close();
      await o.chain?.close?.();
    },
  };
}
