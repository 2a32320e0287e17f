// The two Store backends the market runs on, for tests that must hold on both: SQLite in a temporary file,
// and a real PostgreSQL server (test/server/postgres.ts) started once per test file, a fresh database per
// store. `describeEachBackend` runs a suite on each; without PostgreSQL its half skips, printing why.
import { join } from 'node:path';
import { afterAll, describe } from 'vitest';
import { PgStore } from '../../server/postgres';
import { SqliteStore } from '../../server/sqlite';
import type { Store } from '../../server/store';
import { pgUnavailable, startPostgres, type PgServer } from './postgres';

export type BackendName = 'sqlite' | 'postgresql';

let server: Promise<PgServer> | null = null;
let databases = 0;

/** The PostgreSQL server of this test file (started on first use, stopped after the file's tests). */
export function postgres(): Promise<PgServer> {
  if (!server) {
    server = startPostgres();
    // a failed start fails the tests that await it, not the whole file as an unhandled rejection
    server.catch(() => {});
    afterAll(async () => server!.then((s) => s.stop(), () => {}), 30_000);
  }
  return server;
}

/** A connection string to a fresh database. */
export async function freshDatabaseUrl(): Promise<string> {
  return (await postgres()).database(`market_${process.pid}_${++databases}`);
}

/** A new, migrated-on-demand store: a SQLite file in `dir`, or a fresh PostgreSQL database. */
export async function openTestStore(backend: BackendName, dir: string): Promise<Store> {
  return backend === 'sqlite' ? new SqliteStore(join(dir, `market-${++databases}.sqlite`)) : new PgStore(await freshDatabaseUrl());
}

/** Run `fn(backend)` as one suite per backend; PostgreSQL's skips with the reason when it cannot start here. */
export function describeEachBackend(name: string, fn: (backend: BackendName) => void) {
  describe(`${name} [sqlite]`, () => fn('sqlite'));
  if (pgUnavailable) {
    console.warn(`SKIPPED "${name} [postgresql]": ${pgUnavailable}`);
    describe.skip(`${name} [postgresql: ${pgUnavailable}]`, () => fn('postgresql'));
    return;
  }
  // register the server's afterAll at file level, before the suite's own hooks
  postgres();
  describe(`${name} [postgresql]`, () => fn('postgresql'));
}

/** Another connection (pool, file handle) to the database `store` uses: what a second process would open. */
export function reopen(store: Store): Store {
  if (store instanceof SqliteStore) return new SqliteStore(store.path);
  if (store instanceof PgStore) return new PgStore(store.url);
  throw new Error('unknown store');
}
