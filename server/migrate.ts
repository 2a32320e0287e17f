// The numbered SQL files of server/migrations, written once in SQLite's dialect, and the few rewrites that make
// them PostgreSQL: SQLite's INTEGER is 64-bit (PostgreSQL's is 32: millisecond times overflow it), its REAL is
// 8 bytes, and AUTOINCREMENT keys are PostgreSQL's identity columns. Everything else in the files (CHECK,
// REFERENCES, partial unique indexes) is standard SQL both accept, and migrations must stay within it.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

export interface Migration {
  name: string;
  sql: string;
}

/** The migrations in the order they apply (by file name: 001_..., 002_...). */
export function migrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir).filter((f) => /^\d+_.*\.sql$/.test(f)).sort()
    .map((name) => ({ name, sql: readFileSync(join(dir, name), 'utf8') }));
}

/** A migration in SQLite's dialect, rewritten for PostgreSQL. */
export function toPostgres(sql: string): string {
  return sql
    .replace(/\bINTEGER\s+PRIMARY\s+KEY\s+AUTOINCREMENT\b/gi, 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY')
    .replace(/\bINTEGER\b/gi, 'BIGINT')
    .replace(/\bREAL\b/gi, 'DOUBLE PRECISION');
}
