// A real, throwaway PostgreSQL server for the market tests: Debian's postgresql package (initdb + pg_ctl) in a
// temporary folder on a free loopback port, as the `postgres` user when the tests run as root (PostgreSQL
// refuses root). No binaries => `pgUnavailable` says why and the PostgreSQL cases skip with that reason.
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

function findBin(): string | null {
  if (process.env.PG_BIN) return existsSync(join(process.env.PG_BIN, 'initdb')) ? process.env.PG_BIN : null;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0], 'bin') : null;
}

const BIN = findBin();
const isRoot = process.getuid?.() === 0;
const POSTGRES_UID = (() => {
  if (!isRoot) return null;
  try {
    return execFileSync('id', ['-u', 'postgres']).toString().trim();
  } catch {
    return null;
  }
})();

/** Why no PostgreSQL can start here, or null when it can. */
export const pgUnavailable: string | null = !BIN
  ? `PostgreSQL binaries not found (${process.env.PG_BIN ? `PG_BIN=${process.env.PG_BIN} has no initdb` : '/usr/lib/postgresql/*/bin/initdb'}; apt-get install postgresql, or set PG_BIN)`
  : isRoot && !POSTGRES_UID ? 'running as root and there is no `postgres` user to run the server as' : null;

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

export interface PgServer {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  url: string;
  /** A fresh, empty database on this server; its connection string. */
  database(name: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startPostgres(): Promise<PgServer> {
  if (pgUnavailable) throw new Error(pgUnavailable);
  const dir = mkdtempSync(join(tmpdir(), 'market-pg-'));
  if (POSTGRES_UID) chownSync(dir, Number(POSTGRES_UID), Number(POSTGRES_UID));
  const as = (cmd: string, args: string[]) => (isRoot ? run('runuser', ['-u', 'postgres', '--', join(BIN!, cmd), ...args]) : run(join(BIN!, cmd), args));
  const data = join(dir, 'data');
  await as('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  const port = await freePort();
  // the service is what the tests kill, not the database: durability settings off for speed
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  await as('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    async database(name) {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE "${name}"`);
      } finally {
        await c.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      await as('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
