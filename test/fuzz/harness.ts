// Property-based fuzzing (fast-check) of parsers: each case is a valid seed file damaged by one mutation
// (truncation, flipped bytes, a huge or negative integer written over a length or count, a spliced run of
// random bytes, or random bytes behind the right magic). The parser must either load it or fail with a
// clear error: an Error naming the problem, not a TypeError/RangeError from deep inside, within a time
// limit, and with bounded memory. Cases run with a fixed seed (FUZZ_SEED overrides) so CI is reproducible.
import fc from 'fast-check';

/** Integers that break naive length and count handling: around 2^31, 2^32, 2^40, 2^63, negative. */
const NASTY = [0, 1, 0x7f, 0xff, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 2 ** 40, 2 ** 53 - 1, -1, -(2 ** 31)];

export type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number[]; values: number[] }
  | { kind: 'int'; at: number; value: number; width: 4 | 8 }
  | { kind: 'splice'; at: number; remove: number; insert: Uint8Array }
  | { kind: 'random'; bytes: Uint8Array };

/** Mutations of a `size`-byte seed; offsets favour the first `hot` bytes (headers, where the lengths are). */
export function mutation(size: number, hot = Math.min(size, 4096)): fc.Arbitrary<Mutation> {
  const offset = fc.oneof({ weight: 4, arbitrary: fc.nat({ max: Math.max(0, hot - 1) }) }, { weight: 1, arbitrary: fc.nat({ max: Math.max(0, size - 1) }) });
  return fc.oneof(
    fc.record({ kind: fc.constant('truncate' as const), at: offset }),
    fc.record({ kind: fc.constant('flip' as const), at: fc.array(offset, { minLength: 1, maxLength: 8 }), values: fc.array(fc.nat({ max: 255 }), { minLength: 8, maxLength: 8 }) }),
    fc.record({
      kind: fc.constant('int' as const), at: offset, width: fc.constantFrom(4 as const, 8 as const),
      value: fc.oneof(fc.constantFrom(...NASTY), fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 })),
    }),
    fc.record({ kind: fc.constant('splice' as const), at: offset, remove: fc.nat({ max: 64 }), insert: fc.uint8Array({ maxLength: 64 }) }),
    fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 2048 }) }),
  );
}

export function applyMutation(seed: Uint8Array, m: Mutation, magic: Uint8Array = new Uint8Array(0)): Uint8Array {
  switch (m.kind) {
    case 'truncate':
      return seed.slice(0, m.at);
    case 'flip': {
      const out = seed.slice();
      m.at.forEach((at, i) => (out[at] = m.values[i % m.values.length]));
      return out;
    }
    case 'int': {
      const out = seed.slice();
      if (m.at + m.width > out.length) return out;
      const v = new DataView(out.buffer);
      if (m.width === 4) v.setUint32(m.at, m.value >>> 0, true);
      else v.setBigInt64(m.at, BigInt(m.value), true);
      return out;
    }
    case 'splice': {
      const out = new Uint8Array(seed.length - Math.min(m.remove, seed.length - m.at) + m.insert.length);
      out.set(seed.subarray(0, m.at));
      out.set(m.insert, m.at);
      out.set(seed.subarray(m.at + m.remove), m.at + m.insert.length);
      return out;
    }
    case 'random': {
      const out = new Uint8Array(magic.length + m.bytes.length);
      out.set(magic);
      out.set(m.bytes, magic.length);
      return out;
    }
  }
}

export class HangError extends Error {}

/** A clear error: an Error with a message, not one of the engine's own (TypeError, RangeError: a bug in the parser). */
export function isClearError(e: unknown): boolean {
  return e instanceof Error && !(e instanceof TypeError) && !(e instanceof RangeError) && !(e instanceof HangError) && e.message.length > 0;
}

export interface FuzzStats {
  target: string;
  cases: number;
  loaded: number;
  rejected: number;
  /** Largest growth of resident memory over the run, bytes. */
  peakRssGrowth: number;
  seconds: number;
}

export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 13);

/**
 * Run `parse` on `runs` mutated inputs; every case must finish within `timeoutMs` and either succeed or
 * throw a clear error. Returns the counts (printed by the caller).
 */
export async function fuzz<T>(
  target: string, arb: fc.Arbitrary<T>, parse: (input: T) => Promise<unknown>, o: { runs: number; timeoutMs?: number },
): Promise<FuzzStats> {
  const t0 = performance.now();
  const rss0 = process.memoryUsage().rss;
  const stats: FuzzStats = { target, cases: 0, loaded: 0, rejected: 0, peakRssGrowth: 0, seconds: 0 };
  const timeoutMs = o.timeoutMs ?? 2000;
  await fc.assert(fc.asyncProperty(arb, async (input) => {
    stats.cases++;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const hang = new Promise<never>((_, fail) => {
      timer = setTimeout(() => fail(new HangError(`${target}: no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    const started = performance.now();
    try {
      await Promise.race([parse(input), hang]);
      // synchronous work blocks the timer: a case that took too long fails here, after the fact
      if (performance.now() - started > timeoutMs) throw new HangError(`${target}: took ${(performance.now() - started).toFixed(0)} ms (limit ${timeoutMs} ms)`);
      stats.loaded++;
    } catch (e) {
      if (performance.now() - started > timeoutMs) throw new HangError(`${target}: took ${(performance.now() - started).toFixed(0)} ms to fail (limit ${timeoutMs} ms): ${(e as Error)?.message}`);
      if (!isClearError(e)) {
        throw new Error(`${target}: unclear failure ${(e as Error)?.name}: ${(e as Error)?.message}\n${(e as Error)?.stack?.split('\n').slice(1, 6).join('\n')}`);
      }
      stats.rejected++;
    } finally {
      clearTimeout(timer);
    }
    stats.peakRssGrowth = Math.max(stats.peakRssGrowth, process.memoryUsage().rss - rss0);
  }), { numRuns: o.runs, seed: FUZZ_SEED, endOnFailure: true });
  stats.seconds = (performance.now() - t0) / 1000;
  return stats;
}

export const describeStats = (s: FuzzStats) =>
  `${s.target}: ${s.cases} cases (${s.rejected} rejected with a clear error, ${s.loaded} still valid), ` +
  `peak RSS growth ${(s.peakRssGrowth / 2 ** 20).toFixed(0)} MiB, ${s.seconds.toFixed(1)} s`;
