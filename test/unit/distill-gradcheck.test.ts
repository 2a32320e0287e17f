// Every backward op against central finite differences of its forward. Inputs are f32 (the ops are);
// each perturbation is exact in f32 (x ± 2^-8 rounded, the true step measured in float64) and the scalar
// loss L = Σ r·y is summed in float64, so the check sees the op's gradient, not f32 noise.
import { describe, expect, it } from 'vitest';
import { logSumExp } from '../../src/eval/logits';
import {
  attentionBackward, attentionForward, crossEntropyBackward, embeddingBackward, embeddingForward, klBackward,
  matmulBackward, matmulForward, mseBackward, rmsNormBackward, rmsNormForward, ropeBackward, ropeForward,
  swigluBackward, swigluForward, topKLogits,
} from '../../src/passes/distill/ops';
import type { Model } from '../../src/model/model';
import { backwardModel, forwardModel, studentFromScratch, weightsOf } from '../../src/passes/distill/index';
import { CpuRuntime } from '../../src/runtime/cpu-reference';
import { seededRandom } from '../../src/runtime/sampling';
import { gradError, gradientSink } from './gradcheck';

const rand = seededRandom(1234);
const randn = (n: number, scale = 1) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale * Math.sqrt(3));
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/** gradError over `samples` random coordinates of `x` (all of them when x is small). */
const sampledError = (x: Float32Array, analytic: Float32Array, loss: () => number, samples = 40) =>
  gradError(x, analytic, x.length <= samples ? x.keys() : Array.from({ length: samples }, () => Math.floor(rand() * x.length)), loss);

const TOL = 1e-3;

describe('distill ops: gradients match central finite differences (relative error <= 1e-3)', () => {
  it('matmul (y = x·Wᵀ + b): dx, dw, db', () => {
    const rows = 5, inDim = 12, outDim = 7;
    const x = randn(rows * inDim), w = randn(outDim * inDim), b = randn(outDim), r = randn(rows * outDim);
    const L = () => dot(r, matmulForward(x, w, rows, inDim, outDim, b));
    const g = matmulBackward(r, x, w, rows, inDim, outDim);
    const errs = [sampledError(x, g.dx, L), sampledError(w, g.dw, L), sampledError(b, g.db, L)];
    console.log(`matmul rel err dx/dw/db: ${errs.map((e) => e.toExponential(1)).join(' ')}`);
    for (const e of errs) expect(e).toBeLessThanOrEqual(TOL);
  });

  it('RMSNorm: dx, dweight', () => {
    const rows = 4, dim = 16, eps = 1e-5;
    const x = randn(rows * dim), w = randn(dim), r = randn(rows * dim);
    const L = () => dot(r, rmsNormForward(x, w, eps, rows));
    const g = rmsNormBackward(r, x, w, rows, dim, eps);
    const errs = [sampledError(x, g.dx, L), sampledError(w, g.dweight, L)];
    console.log(`rmsnorm rel err dx/dweight: ${errs.map((e) => e.toExponential(1)).join(' ')}`);
    for (const e of errs) expect(e).toBeLessThanOrEqual(TOL);
  });

  for (const style of ['interleaved', 'half'] as const) {
    it(`RoPE (${style}): dx is the rotation by −angle`, () => {
      const rows = 6, heads = 3, hd = 8, start = 5;
      const x = randn(rows * heads * hd), r = randn(rows * heads * hd);
      const L = () => {
        const y = new Float32Array(x);
        ropeForward(y, rows, heads, hd, start, 10000, style);
        return dot(r, y);
      };
      const err = sampledError(x, ropeBackward(r, rows, heads, hd, start, 10000, style), L);
      console.log(`rope ${style} rel err: ${err.toExponential(1)}`);
      expect(err).toBeLessThanOrEqual(TOL);
    });
  }

  it('causal GQA attention: dq, dk, dv (4 query heads over 2 kv heads)', () => {
    const shape = { seq: 7, nHeads: 4, nKvHeads: 2, headDim: 8 };
    const q = randn(7 * 32), k = randn(7 * 16), v = randn(7 * 16), r = randn(7 * 32);
    const L = () => dot(r, attentionForward(q, k, v, shape));
    const g = attentionBackward(r, q, k, v, shape);
    const errs = [sampledError(q, g.dq, L), sampledError(k, g.dk, L), sampledError(v, g.dv, L)];
    console.log(`attention rel err dq/dk/dv: ${errs.map((e) => e.toExponential(1)).join(' ')}`);
    for (const e of errs) expect(e).toBeLessThanOrEqual(TOL);
  });

  it('SwiGLU: dgate, dup', () => {
    const gate = randn(40, 2), up = randn(40), r = randn(40);
    const L = () => dot(r, swigluForward(gate, up));
    const g = swigluBackward(r, gate, up);
    const errs = [sampledError(gate, g.dgate, L), sampledError(up, g.dup, L)];
    console.log(`swiglu rel err dgate/dup: ${errs.map((e) => e.toExponential(1)).join(' ')}`);
    for (const e of errs) expect(e).toBeLessThanOrEqual(TOL);
  });

  it('embedding: repeated tokens sum their rows; untouched rows stay zero', () => {
    const vocab = 10, dim = 6, tokens = [3, 1, 3, 9];
    const table = randn(vocab * dim), r = randn(tokens.length * dim);
    const L = () => dot(r, embeddingForward(table, tokens, dim, vocab));
    const dE = embeddingBackward(r, tokens, vocab, dim);
    expect(sampledError(table, dE, L, vocab * dim)).toBeLessThanOrEqual(TOL);
    expect(dE.subarray(0, dim).every((v) => v === 0)).toBe(true);
    expect(() => embeddingBackward(r, [3, 1, 3, 10], vocab, dim)).toThrow(/token id 10 outside vocabulary/);
  });

  it('cross-entropy: loss is the mean NLL of the targets, dlogits matches, ignored targets give no gradient', () => {
    const vocab = 11, targets = [2, -1, 10, 0];
    const logits = randn(targets.length * vocab, 3);
    const { loss, dlogits } = crossEntropyBackward(logits, targets, vocab);
    const nll = [0, 2, 3].map((r) => logSumExp(logits, r * vocab, vocab) - logits[r * vocab + targets[r]]);
    expect(loss).toBeCloseTo((nll[0] + nll[1] + nll[2]) / 3, 6);
    expect(sampledError(logits, dlogits, () => crossEntropyBackward(logits, targets, vocab).loss, 44)).toBeLessThanOrEqual(TOL);
    expect(dlogits.subarray(vocab, 2 * vocab).every((v) => v === 0)).toBe(true);
    expect(() => crossEntropyBackward(logits, [2, 11, 0, 0], vocab)).toThrow(/target 11 outside vocabulary/);
  });

  for (const T of [1, 2.5]) {
    it(`KL to teacher at T=${T}: full logits and top-k logits`, () => {
      const vocab = 13, rows = 3;
      const s = randn(rows * vocab, 2), t = randn(rows * vocab, 2);
      const full = klBackward(s, t, vocab, T);
      expect(sampledError(s, full.dlogits, () => klBackward(s, t, vocab, T).loss, 39)).toBeLessThanOrEqual(TOL);
      expect(full.loss).toBeGreaterThan(0);
      expect(klBackward(t, t, vocab, T).loss).toBeCloseTo(0, 6);
      // k = vocab is the full distribution again; k = 4 keeps only the teacher's top 4 ids.
      const all = klBackward(s, topKLogits(t, rows, vocab, vocab), vocab, T);
      expect(all.loss).toBeCloseTo(full.loss, 5);
      const top4 = topKLogits(t, rows, vocab, 4);
      const g4 = klBackward(s, top4, vocab, T);
      expect(sampledError(s, g4.dlogits, () => klBackward(s, top4, vocab, T).loss, 39)).toBeLessThanOrEqual(TOL);
    });
  }

  it('hidden-state MSE', () => {
    const a = randn(30), b = randn(30);
    const { loss, da } = mseBackward(a, b);
    expect(loss).toBeGreaterThan(0);
    expect(sampledError(a, da, () => mseBackward(a, b).loss)).toBeLessThanOrEqual(TOL);
  });

  it('bad inputs name the problem', () => {
    expect(() => klBackward(randn(10), randn(10), 5, 0)).toThrow(/temperature 0 must be positive/);
    expect(() => topKLogits(randn(10), 2, 5, 6)).toThrow(/k=6 must be in \[1, 5\]/);
    expect(() => attentionBackward(randn(8), randn(8), randn(8), randn(8), { seq: 1, nHeads: 3, nKvHeads: 2, headDim: 2 }))
      .toThrow(/3 heads is not a multiple of 2 kv heads/);
  });
});

describe('whole-model backward on a tiny random Qwen2-style model (q/k/v bias, tied embeddings, half RoPE, GQA)', () => {
  it('matches the reference forward and central finite differences for every tensor', () => {
    const base = {
      config: {
        architecture: 'qwen2', hiddenSize: 16, intermediateSize: 24, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 4,
        vocabSize: 32, maxPositions: 64, rmsNormEps: 1e-6, ropeTheta: 1e6, ropeStyle: 'half', attentionBias: true,
        tieWordEmbeddings: true, bosTokenId: 1, eosTokenId: 2,
      },
      tensors: new Map(), source: { format: 'test', name: 'tiny' },
    } as unknown as Model;
    const model = studentFromScratch(base, {}, 3);
    const W = weightsOf(model);
    // scratch init is N(0, 0.02) matrices, unit norms, zero biases: spread them so every path carries gradient
    for (const [n, w] of W) {
      const kind = n.endsWith('bias') ? 'bias' : n.includes('norm') ? 'norm' : 'matrix';
      for (let i = 0; i < w.length; i++) w[i] = kind === 'bias' ? randn(1, 0.5)[0] : kind === 'norm' ? 1 + randn(1, 0.3)[0] : 20 * w[i];
    }
    const weight = (n: string) => W.get(n);
    const tokens = [1, 5, 9, 31, 5, 0, 17, 22, 9, 3, 30];
    const input = tokens.slice(0, -1), targets = tokens.slice(1);
    const { logits, tape } = forwardModel(model.config, weight, input);
    const asModel = { ...model, tensors: new Map([...model.tensors].map(([n, t]) => [n, { ...t, data: new Uint8Array(W.get(n)!.buffer) }])) };
    expect(logits).toEqual(new CpuRuntime(asModel).forwardSync(input));
    const { grads: G, grad } = gradientSink(W);
    backwardModel(model.config, weight, tape, crossEntropyBackward(logits, targets, 32).dlogits, grad);
    expect([...G.keys()].sort()).toEqual([...model.tensors.keys()].sort());
    const L = () => crossEntropyBackward(forwardModel(model.config, weight, input).logits, targets, 32).loss;
    for (const [name, w] of W) {
      const err = sampledError(w, G.get(name)!, L, 12);
      expect(err, name).toBeLessThanOrEqual(TOL);
    }
  });
});
