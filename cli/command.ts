import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface Command {
  usage: string;
  summary: string;
  run(argv: string[], signal: AbortSignal): Promise<void>;
}

export class UsageError extends Error {}

/** node:util parseArgs, with its errors turned into usage errors. */
export function parse<T extends ParseArgsConfig['options']>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options: { json: { type: 'boolean' }, ...options }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function num(value: string | boolean | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${value}"`);
  return n;
}

/** Print the result as JSON (--json) or as aligned "key: value" lines. */
export function report(json: boolean, result: Record<string, unknown>, human: () => string) {
  console.log(json ? JSON.stringify(result) : human());
}

/** A progress line that rewrites itself on a terminal; silent when stderr is a file or a pipe. */
export function progressLine(p: { stage?: string; done: number; total: number }) {
  if (process.stderr.isTTY) process.stderr.write(`\r${p.stage ? `${p.stage} ` : ''}[${p.done}/${p.total}]`.padEnd(72));
}

export function endProgress() {
  if (process.stderr.isTTY) process.stderr.write('\n');
}
