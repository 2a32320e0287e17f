// Training windows cut from one token stream. The windows of an update depend only on (seed, step,
// micro-batch), never on what ran before, so a resumed run sees exactly the data an uninterrupted one would.
import { seededRandom } from '../../runtime/sampling';

/** Draws the `batch` windows of micro-batch `micro` of update `step`; each window is seqLen + 1 tokens. */
export type BatchSource = (step: number, micro: number) => number[][];

/**
 * Uniformly random windows of seqLen + 1 tokens; the first token is replaced by BOS when the model has one,
 * as the perplexity protocol does, so training and evaluation see the same kind of context start.
 */
export function windowBatches(
  tokens: ArrayLike<number>, o: { seqLen: number; batch: number; seed: number; bosId: number | null },
): BatchSource {
  const span = tokens.length - (o.seqLen + 1);
  if (span < 0) throw new RangeError(`training text has ${tokens.length} tokens, fewer than one window of ${o.seqLen + 1}`);
  return (step, micro) => {
    const rand = seededRandom((Math.imul(o.seed, 0x9e3779b1) ^ Math.imul(step + 1, 0x85ebca6b) ^ Math.imul(micro + 1, 0xc2b2ae35)) >>> 0);
    return Array.from({ length: o.batch }, () => {
      const start = Math.floor(rand() * (span + 1));
      const w = Array.from({ length: o.seqLen + 1 }, (_, i) => tokens[start + i]);
      if (o.bosId != null) w[0] = o.bosId;
      return w;
    });
  };
}

/** Random windows of seqLen + 1 tokens from a list of sequences (a recipe's calibration text). */
export function sequenceBatches(
  sequences: readonly (readonly number[])[], o: { seqLen: number; batch: number; seed: number; bosId: number | null },
): BatchSource {
  const usable = sequences.filter((s) => s.length >= o.seqLen + 1);
  if (usable.length === 0) {
    const longest = Math.max(0, ...sequences.map((s) => s.length));
    throw new RangeError(`training windows of ${o.seqLen + 1} tokens need longer text: the longest sequence has ${longest}`);
  }
  const streams = usable.map((s) => windowBatches(s, { ...o, batch: 1 }));
  return (step, micro) => {
    const rand = seededRandom((Math.imul(o.seed + 17, 0x27d4eb2f) ^ Math.imul(step + 1, 0x165667b1) ^ Math.imul(micro + 1, 0xd3a2646c)) >>> 0);
    return Array.from({ length: o.batch }, (_, i) => streams[Math.floor(rand() * streams.length)](step, micro * o.batch + i)[0]);
  };
}
