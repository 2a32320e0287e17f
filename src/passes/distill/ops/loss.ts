// Training losses on logits [rows, vocab]: next-token cross-entropy, KL to a teacher (full or top-k
// logits) with temperature, and MSE between hidden states. Each returns the mean loss over rows and
// the gradient of that mean, in double-precision accumulation.
import { logSumExp } from '../../../eval/logits';

/**
 * Cross-entropy −log softmax(logits)[target], averaged over rows whose target is >= 0 (a negative
 * target is ignored, e.g. padding). logits [rows, vocab], targets [rows] -> loss, dlogits [rows, vocab].
 */
export function crossEntropyBackward(
  logits: Float32Array, targets: ArrayLike<number>, vocab: number,
): { loss: number; dlogits: Float32Array } {
  const rows = targets.length;
  if (logits.length !== rows * vocab) throw new RangeError(`cross-entropy: ${logits.length} logits for ${rows} rows x ${vocab}`);
  const dlogits = new Float32Array(rows * vocab);
  let counted = 0;
  for (let r = 0; r < rows; r++) if (targets[r] >= 0) counted++;
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    const t = targets[r];
    if (t < 0) continue;
    if (!Number.isInteger(t) || t >= vocab) throw new RangeError(`cross-entropy: target ${t} outside vocabulary [0, ${vocab})`);
    const o = r * vocab;
    const lse = logSumExp(logits, o, vocab);
    loss += lse - logits[o + t];
    for (let i = 0; i < vocab; i++) dlogits[o + i] = Math.exp(logits[o + i] - lse) / counted;
    dlogits[o + t] -= 1 / counted;
  }
  return { loss: counted ? loss / counted : 0, dlogits };
}

/** The k largest teacher logits of each row: what the KL loss needs from a cached teacher. */
export interface TopKLogits {
  k: number;
  /** [rows, k] vocabulary ids. */
  indices: Int32Array;
  /** [rows, k] the teacher's logits at those ids. */
  logits: Float32Array;
}

export function topKLogits(logits: Float32Array, rows: number, vocab: number, k: number): TopKLogits {
  if (!(Number.isInteger(k) && k >= 1 && k <= vocab)) throw new RangeError(`top-k: k=${k} must be in [1, ${vocab}]`);
  const indices = new Int32Array(rows * k);
  const values = new Float32Array(rows * k);
  const order = Array.from({ length: vocab }, (_, i) => i);
  for (let r = 0; r < rows; r++) {
    const o = r * vocab;
    order.sort((a, b) => logits[o + b] - logits[o + a] || a - b);
    for (let j = 0; j < k; j++) {
      indices[r * k + j] = order[j];
      values[r * k + j] = logits[o + order[j]];
    }
  }
  return { k, indices, logits: values };
}

/**
 * Knowledge-distillation loss T²·KL(p ‖ q), p = softmax(teacher/T), q = softmax(student/T), averaged
 * over rows (Hinton's T² keeps gradient size independent of T). With top-k teacher logits, p is the
 * softmax over those k ids only (zero elsewhere). student [rows, vocab] -> loss, dlogits = T·(q − p)/rows.
 */
export function klBackward(
  student: Float32Array, teacher: Float32Array | TopKLogits, vocab: number, temperature = 1,
): { loss: number; dlogits: Float32Array } {
  if (!(temperature > 0)) throw new RangeError(`KL: temperature ${temperature} must be positive`);
  const rows = student.length / vocab;
  if (!Number.isInteger(rows)) throw new RangeError(`KL: ${student.length} student logits is not a multiple of vocab ${vocab}`);
  const T = temperature;
  const dlogits = new Float32Array(student.length);
  const s = new Float32Array(vocab);
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * vocab;
    for (let i = 0; i < vocab; i++) s[i] = student[o + i] / T;
    const lseS = logSumExp(s, 0, vocab);
    for (let i = 0; i < vocab; i++) dlogits[o + i] = (T * Math.exp(s[i] - lseS)) / rows;
    const pLogP = (ids: ArrayLike<number> | null, t: Float32Array, to: number, n: number) => {
      const lseT = logSumExp(t, to, n);
      for (let j = 0; j < n; j++) {
        const logp = t[to + j] - lseT;
        const p = Math.exp(logp);
        const id = ids ? ids[to + j] : j;
        loss += p * (logp - (s[id] - lseS));
        dlogits[o + id] -= (T * p) / rows;
      }
    };
    if (teacher instanceof Float32Array) {
      if (teacher.length !== student.length) throw new RangeError(`KL: teacher has ${teacher.length} logits, student ${student.length}`);
      const t = new Float32Array(vocab);
      for (let i = 0; i < vocab; i++) t[i] = teacher[o + i] / T;
      pLogP(null, t, 0, vocab);
    } else {
      const { k, indices } = teacher;
      if (indices.length !== rows * k) throw new RangeError(`KL: top-k teacher has ${indices.length / k} rows, student ${rows}`);
      const t = new Float32Array(k);
      for (let j = 0; j < k; j++) t[j] = teacher.logits[r * k + j] / T;
      pLogP(indices.subarray(r * k, r * k + k), t, 0, k);
    }
  }
  return { loss: (T * T * loss) / rows, dlogits };
}

/** Mean squared error between hidden states a and b (same shape): loss = mean((a−b)²), da = 2(a−b)/n. */
export function mseBackward(a: Float32Array, b: Float32Array): { loss: number; da: Float32Array } {
  if (a.length !== b.length) throw new RangeError(`MSE: ${a.length} vs ${b.length} values`);
  const n = a.length;
  const da = new Float32Array(n);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const d = a[i] - b[i];
    loss += d * d;
    da[i] = (2 * d) / n;
  }
  return { loss: loss / n, da };
}
