// What a training window is scored by. The student reads window[0 .. n-1); its logits at position i are
// scored against token i+1 (cross-entropy) and/or against the teacher's logits on the same input
// (KL with temperature, optionally from cached top-k logits), optionally plus the MSE between final hidden states.
import type { Model } from '../../model/model';
import { forwardModel } from './model-grad';
import { crossEntropyBackward, klBackward, mseBackward, topKLogits, type TopKLogits } from './ops/index';
import { weightsOf } from './params';

export interface ObjectiveResult {
  loss: number;
  dlogits: Float32Array;
  dhidden?: Float32Array;
  /** Named parts of the loss, for progress lines (ce, kl, mse). */
  parts: Record<string, number>;
}

export type Objective = (window: readonly number[], out: { logits: Float32Array; hidden: Float32Array }) => ObjectiveResult;

/** Plain next-token cross-entropy (fine-tuning). */
export function crossEntropyObjective(vocab: number): Objective {
  return (window, { logits }) => {
    const { loss, dlogits } = crossEntropyBackward(logits, window.slice(1), vocab);
    return { loss, dlogits, parts: { ce: loss } };
  };
}

const CACHE_WINDOWS = 4096;

export interface DistillLoss {
  temperature: number;
  /** Weight of the KL to the teacher. */
  kl: number;
  /** Weight of the next-token cross-entropy on the text itself. */
  ce: number;
  /** Weight of the MSE between final (normed) hidden states; needs equal hidden sizes. */
  hiddenMse: number;
  /** Keep only the teacher's k largest logits per position (memory of the cache); 0 = all. */
  topK: number;
}

/**
 * Distillation from a teacher model. With topK > 0 the teacher's top-k logits are cached per distinct window
 * (up to CACHE_WINDOWS of them), so repeated windows (several epochs over a small text, a resumed run)
 * cost the teacher nothing; full logits are recomputed, since caching vocab-wide rows costs too much memory.
 */
export function distillObjective(teacher: Model, student: Model, o: DistillLoss): Objective {
  const tc = teacher.config, sc = student.config;
  if (tc.vocabSize !== sc.vocabSize) throw new Error(`distill: teacher vocabulary ${tc.vocabSize} differs from the student's ${sc.vocabSize}`);
  if (o.hiddenMse > 0 && tc.hiddenSize !== sc.hiddenSize) {
    throw new Error(`distill: hidden-state MSE needs equal hidden sizes (teacher ${tc.hiddenSize}, student ${sc.hiddenSize})`);
  }
  const vocab = sc.vocabSize;
  const tw = weightsOf(teacher);
  const cache = new Map<string, { logits: Float32Array | TopKLogits; hidden?: Float32Array }>();
  const teacherOut = (input: readonly number[]) => {
    const key = input.join(',');
    let hit = cache.get(key);
    if (!hit) {
      const { logits, tape } = forwardModel(tc, (n) => tw.get(n), input);
      hit = { logits: o.topK > 0 ? topKLogits(logits, input.length, vocab, o.topK) : logits, hidden: o.hiddenMse > 0 ? tape.hidden : undefined };
      if (o.topK > 0 && cache.size < CACHE_WINDOWS) cache.set(key, hit);
    }
    return hit;
  };
  return (window, out) => {
    const input = window.slice(0, -1);
    const t = teacherOut(input);
    const parts: Record<string, number> = {};
    const dlogits = new Float32Array(out.logits.length);
    let loss = 0;
    if (o.kl > 0) {
      const kl = klBackward(out.logits, t.logits, vocab, o.temperature);
      parts.kl = kl.loss;
      loss += o.kl * kl.loss;
      for (let i = 0; i < dlogits.length; i++) dlogits[i] += o.kl * kl.dlogits[i];
    }
    if (o.ce > 0) {
      const ce = crossEntropyBackward(out.logits, window.slice(1), vocab);
      parts.ce = ce.loss;
      loss += o.ce * ce.loss;
      for (let i = 0; i < dlogits.length; i++) dlogits[i] += o.ce * ce.dlogits[i];
    }
    let dhidden: Float32Array | undefined;
    if (o.hiddenMse > 0) {
      const mse = mseBackward(out.hidden, t.hidden!);
      parts.mse = mse.loss;
      loss += o.hiddenMse * mse.loss;
      dhidden = new Float32Array(mse.da.length);
      for (let i = 0; i < dhidden.length; i++) dhidden[i] = o.hiddenMse * mse.da[i];
    }
    return { loss, dlogits, dhidden, parts };
  };
}
