// Every training kernel (src/gpu/kernels/backward) against the CPU ops of src/passes/distill/ops (whose
// gradients are checked against finite differences in test/unit), on seeded random inputs with odd
// sizes. Tolerance (setup.ts): max |gpu - cpu| <= 1e-5 * max(1, max |cpu|); the GPU sums in f32 in another order.
import { describe, expect, it } from 'vitest';
import { Dispatch } from '../../src/gpu/dispatch';
import type { Kernel, KernelBuffers, KernelParams } from '../../src/gpu/kernel';
import { ropeTable } from '../../src/gpu/rope-table';
import * as T from '../../src/gpu/train/kernels';
import type { RopeStyle } from '../../src/model/config';
import * as ops from '../../src/passes/distill/ops';
import { arena, ctx, device, empty, expectClose, random, read, up, useGpu } from './setup';

useGpu(T.TRAIN_KERNELS);

type Step<K extends Kernel = Kernel> = [K, KernelBuffers<K>, KernelParams<K>];
const step = <K extends Kernel>(kernel: K, buffers: KernelBuffers<K>, params: KernelParams<K>): Step => [kernel, buffers, params];

/** Run dispatches in order, in one pass, and wait for them. */
async function run(...steps: Step[]) {
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  for (const [kernel, buffers, params] of steps) new Dispatch(ctx, arena, kernel, buffers).record(pass, params);
  pass.end();
  arena.flush();
  device.queue.submit([enc.finish()]);
  await device.queue.onSubmittedWorkDone();
}



for (const kernel of [T.matmulStrided, T.matmulStridedTiled]) describe(`${kernel.label}: dX = dY W and dW += dY^T X`, () => {
  for (const [rows, inDim, outDim] of [[1, 8, 5], [7, 13, 29], [33, 64, 70], [130, 20, 65]]) {
    it(`rows ${rows}, ${inDim} -> ${outDim}`, async () => {
      const r = random(rows * 31 + inDim * 7 + outDim);
      const x = r(rows * inDim), w = r(outDim * inDim), dy = r(rows * outDim), dw0 = r(outDim * inDim);
      const dx = empty(rows * inDim), dw = up(dw0);
      const [dyB, xB, wB] = [up(dy), up(x), up(w)];
      await run(
        step(kernel, { a: dyB, b: wB, c: dx }, { M: rows, N: inDim, K: outDim, aRow: outDim, aCol: 1, bRow: inDim, bCol: 1, flags: 0 }),
        step(kernel, { a: dyB, b: xB, c: dw }, { M: outDim, N: inDim, K: rows, aRow: 1, aCol: outDim, bRow: inDim, bCol: 1, flags: T.ACCUMULATE }),
      );
      const want = ops.matmulBackward(dy, x, w, rows, inDim, outDim, { dw: dw0.slice() });
      expectClose(await read(dx, rows * inDim), want.dx);
      expectClose(await read(dw, outDim * inDim), want.dw);
    });
  }

  it('computes the forward x W^T too (A row-major, B read transposed)', async () => {
    const [rows, inDim, outDim] = [5, 19, 11];
    const r = random(3);
    const x = r(rows * inDim), w = r(outDim * inDim);
    const y = empty(rows * outDim);
    await run(step(kernel, { a: up(x), b: up(w), c: y }, { M: rows, N: outDim, K: inDim, aRow: inDim, aCol: 1, bRow: 1, bCol: inDim, flags: 0 }));
    expectClose(await read(y, rows * outDim), ops.matmulForward(x, w, rows, inDim, outDim));
  });
});

describe('rmsnorm backward', () => {
  for (const [rows, dim] of [[1, 64], [7, 13], [40, 300]]) {
    it(`rows ${rows}, dim ${dim}: dx accumulated onto the residual gradient, dweight accumulated`, async () => {
      const r = random(rows * 100 + dim);
      const x = r(rows * dim, 3), w = r(dim), dy = r(rows * dim), dx0 = r(rows * dim), dw0 = r(dim);
      const dx = up(dx0), dw = up(dw0), rstd = empty(rows), xB = up(x), dyB = up(dy);
      await run(
        step(T.rmsNormBackward, { x: xB, weight: up(w), dy: dyB, dx, rstd }, { rows, dim, eps: 1e-5, flags: T.ACCUMULATE }),
        step(T.rmsNormWeightGrad, { x: xB, dy: dyB, rstd, dw }, { rows, dim }),
      );
      const want = ops.rmsNormBackward(dy, x, w, rows, dim, 1e-5, dw0.slice());
      expectClose(await read(dx, rows * dim), want.dx.map((v, i) => v + dx0[i]));
      expectClose(await read(dw, dim), want.dweight);
    });
  }
});

describe('rope on fused q|k|v rows (forward, and inverse = backward)', () => {
  const cases: [RopeStyle, number, number, number, number, number][] = [
    // style, sequences, seqLen, heads, kvHeads, headDim
    ['interleaved', 2, 5, 4, 2, 8],
    ['half', 3, 4, 3, 1, 16],
  ];
  for (const [style, seqs, seqLen, heads, kvHeads, headDim] of cases) {
    it(`${style}: ${seqs} sequences of ${seqLen}, ${heads}q/${kvHeads}kv heads of ${headDim}`, async () => {
      const rows = seqs * seqLen, qDim = heads * headDim, kvDim = kvHeads * headDim, stride = qDim + 2 * kvDim;
      const qkv = random(seqLen + headDim)(rows * stride);
      const table = up(ropeTable(seqLen, headDim, 10000));
      const params = { rows, heads: heads + kvHeads, headDim, rowStride: stride, seqLen, style: style === 'interleaved' ? 0 : 1 };
      const fwd = up(qkv), bwd = up(qkv);
      await run(step(T.rope, { table, x: fwd }, { ...params, inverse: 0 }), step(T.rope, { table, x: bwd }, { ...params, inverse: 1 }));
      // CPU: per row, the q|k heads (contiguous) at position r % seqLen; v untouched
      const wantF = qkv.slice(), wantB = qkv.slice();
      for (let r = 0; r < rows; r++) {
        const qk = qkv.slice(r * stride, r * stride + qDim + kvDim);
        const f = qk.slice();
        ops.ropeForward(f, 1, heads + kvHeads, headDim, r % seqLen, 10000, style);
        wantF.set(f, r * stride);
        wantB.set(ops.ropeBackward(qk, 1, heads + kvHeads, headDim, r % seqLen, 10000, style), r * stride);
      }
      expectClose(await read(fwd, qkv.length), wantF);
      expectClose(await read(bwd, qkv.length), wantB);
    });
  }
});

describe('attention for training (forward with log-sum-exp, backward to q, k, v)', () => {
  const cases = [
    // sequences, seqLen, heads, kvHeads, headDim
    [1, 7, 4, 2, 8],
    [2, 9, 4, 1, 16], // two sequences (no attention across them), 4 query heads per kv head
    [3, 4, 2, 2, 6],
  ];
  for (const [seqs, seqLen, heads, kvHeads, headDim] of cases) {
    it(`${seqs} x ${seqLen} rows, ${heads}q/${kvHeads}kv heads of ${headDim}`, async () => {
      const rows = seqs * seqLen, qDim = heads * headDim, kvDim = kvHeads * headDim, stride = qDim + 2 * kvDim;
      const r = random(rows * heads + headDim);
      const qkv = r(rows * stride, 2), dOut = r(rows * qDim);
      const qkvB = up(qkv), out = empty(rows * qDim), lse = empty(rows * heads), dOutB = up(dOut);
      const dqkv = empty(rows * stride), delta = empty(rows * heads);
      const params = { rows, seqLen, numHeads: heads, numKvHeads: kvHeads, headDim, scale: 1 / Math.sqrt(headDim) };
      await run(
        step(T.attentionForward, { qkv: qkvB, out, lse }, params),
        step(T.attentionBackwardQ, { qkv: qkvB, out, dOut: dOutB, lse, dqkv, delta }, params),
        step(T.attentionBackwardKv, { qkv: qkvB, dOut: dOutB, lse, delta, dqkv }, params),
      );
      const gotOut = await read(out, rows * qDim), gotD = await read(dqkv, rows * stride);
      const shape = { seq: seqLen, nHeads: heads, nKvHeads: kvHeads, headDim };
      const cols = (s: number, from: number, width: number) => {
        const o = new Float32Array(seqLen * width);
        for (let t = 0; t < seqLen; t++) o.set(qkv.subarray((s * seqLen + t) * stride + from, (s * seqLen + t) * stride + from + width), t * width);
        return o;
      };
      const pick = (src: Float32Array, s: number, from: number, width: number) => {
        const o = new Float32Array(seqLen * width);
        for (let t = 0; t < seqLen; t++) o.set(src.subarray((s * seqLen + t) * stride + from, (s * seqLen + t) * stride + from + width), t * width);
        return o;
      };
      for (let s = 0; s < seqs; s++) {
        const [q, k, v] = [cols(s, 0, qDim), cols(s, qDim, kvDim), cols(s, qDim + kvDim, kvDim)];
        const dO = dOut.subarray(s * seqLen * qDim, (s + 1) * seqLen * qDim);
        expectClose(gotOut.subarray(s * seqLen * qDim, (s + 1) * seqLen * qDim), ops.attentionForward(q, k, v, shape));
        const want = ops.attentionBackward(dO, q, k, v, shape);
        expectClose(pick(gotD, s, 0, qDim), want.dq, 1e-4);
        expectClose(pick(gotD, s, qDim, kvDim), want.dk, 1e-4);
        expectClose(pick(gotD, s, qDim + kvDim, kvDim), want.dv, 1e-4);
      }
    });
  }
});

describe('swiglu backward', () => {
  it('fused gate|up rows, stable for large |gate|', async () => {
    const rows = 3, dim = 133;
    const r = random(5);
    const gate = r(rows * dim, 20), u = r(rows * dim), dAct = r(rows * dim);
    gate.set([100, -100, 0, 88.7, -88.7]);
    const gateUp = new Float32Array(rows * 2 * dim);
    for (let i = 0; i < rows; i++) {
      gateUp.set(gate.subarray(i * dim, (i + 1) * dim), i * 2 * dim);
      gateUp.set(u.subarray(i * dim, (i + 1) * dim), i * 2 * dim + dim);
    }
    const dGateUp = empty(rows * 2 * dim);
    await run(step(T.swigluBackward, { gateUp: up(gateUp), dAct: up(dAct), dGateUp }, { rows, dim }));
    const want = ops.swigluBackward(dAct, gate, u);
    const got = await read(dGateUp, rows * 2 * dim);
    for (let i = 0; i < rows; i++) {
      expectClose(got.subarray(i * 2 * dim, i * 2 * dim + dim), want.dgate.subarray(i * dim, (i + 1) * dim));
      expectClose(got.subarray(i * 2 * dim + dim, (i + 1) * 2 * dim), want.dup.subarray(i * dim, (i + 1) * dim));
    }
  });
});

describe('embedding backward (deterministic scatter-add)', () => {
  it('sums rows of repeated tokens into the table gradient, on top of what is there (tied lm_head)', async () => {
    const vocab = 37, dim = 13, tokens = [5, 0, 36, 5, 5, 17, 2, 30, 17];
    const r = random(11);
    const dx = r(tokens.length * dim), dT0 = r(vocab * dim);
    const { index, uniques } = T.embeddingIndex(tokens);
    expect(uniques).toBe(6);
    const dTable = up(dT0);
    await run(step(T.embeddingBackward, { index: up(index), dx: up(dx), dTable }, { uniques, dim }));
    expectClose(await read(dTable, vocab * dim), ops.embeddingBackward(dx, tokens, vocab, dim, dT0.slice()));
  });
});

describe('losses over logits', () => {
  const rows = 6, vocab = 301;
  const r = random(17);
  const logits = r(rows * vocab, 6), teacher = r(rows * vocab, 6);

  it('cross-entropy: per-row loss and mean gradient, ignored targets add nothing', async () => {
    const targets = [3, 300, -1, 0, 150, 7];
    const counted = targets.filter((t) => t >= 0).length;
    const dLogits = empty(rows * vocab), loss = empty(rows);
    await run(step(T.crossEntropy, {
      logits: up(logits), targets: up(Uint32Array.from(targets, (t) => (t < 0 ? T.IGNORE_TARGET : t))), dLogits, loss,
    }, { rows, vocab, weight: 1 / counted, flags: 0 }));
    const want = ops.crossEntropyBackward(logits, targets, vocab);
    const perRow = await read(loss, rows);
    expect(perRow[2]).toBe(0);
    expect(perRow.reduce((s, v) => s + v, 0) / counted).toBeCloseTo(want.loss, 5);
    expectClose(await read(dLogits, rows * vocab), want.dlogits);
  });

  for (const temperature of [1, 2.5]) {
    it(`KL to teacher logits at temperature ${temperature}, accumulated onto a CE gradient`, async () => {
      const ce = r(rows * vocab);
      const dLogits = up(ce), loss = empty(rows);
      await run(step(T.klDivergence, {
        logits: up(logits), teacher: up(teacher), mask: up(new Uint32Array(rows).fill(1)), dLogits, loss,
      }, { rows, vocab, temperature, weight: 1 / rows, flags: T.ACCUMULATE }));
      const want = ops.klBackward(logits, teacher, vocab, temperature);
      expect((await read(loss, rows)).reduce((s, v) => s + v, 0) / rows).toBeCloseTo(want.loss, 4);
      expectClose(await read(dLogits, rows * vocab), want.dlogits.map((v, i) => v + ce[i]));
    });
  }
});

describe('KL to top-k teacher logits', () => {
  for (const [k, temperature] of [[1, 1], [8, 2], [301, 1]]) {
    it(`k ${k}, temperature ${temperature}, accumulated onto a CE gradient`, async () => {
      const rows = 5, vocab = 301;
      const r = random(k * 7 + temperature);
      const logits = r(rows * vocab, 6), ce = r(rows * vocab);
      const top = ops.topKLogits(r(rows * vocab, 6), rows, vocab, k);
      const dLogits = up(ce), loss = empty(rows);
      await run(step(T.klTopK, {
        logits: up(logits), ids: up(Uint32Array.from(top.indices)), teacher: up(top.logits), dLogits, loss,
      }, { rows, vocab, k, temperature, weight: 1 / rows, flags: T.ACCUMULATE }));
      const want = ops.klBackward(logits, top, vocab, temperature);
      expect((await read(loss, rows)).reduce((s, v) => s + v, 0) / rows).toBeCloseTo(want.loss, 4);
      expectClose(await read(dLogits, rows * vocab), want.dlogits.map((v, i) => v + ce[i]));
    });
  }
});

describe('optimizer', () => {
  it('mask: gradients of pruned weights are zeroed, others kept', async () => {
    const n = 100;
    const w = random(29)(n).map((v, i) => (i % 3 === 0 || i > 90 ? 0 : v));
    const g = random(31)(n);
    const grad = up(g);
    await run(step(T.maskGrad, { mask: up(T.nonzeroMask(w)), grad }, { count: n }));
    expect(Array.from(await read(grad, n))).toEqual(Array.from(g, (v, i) => (w[i] === 0 ? 0 : v)));
  });


  it('global grad norm over several tensors, clip factor, then AdamW with decay and bias correction', async () => {
    const r = random(23);
    const sizes = [2500, 7, 1024];
    const grads = sizes.map((n) => r(n, 0.5));
    const chunks = sizes.map((n) => Math.ceil(n / T.SUMSQ_CHUNK));
    const partials = empty(chunks.reduce((a, b) => a + b, 0)), clip = empty(2);
    const gradB = grads.map(up);
    let first = 0;
    const steps = sizes.map((count, i) => {
      const s = step(T.gradSumsq, { grad: gradB[i], partials }, { count, first });
      first += chunks[i];
      return s;
    });
    const maxNorm = 5;
    await run(...steps, step(T.clipScale, { partials, out: clip }, { count: first, maxNorm }));
    const norm = Math.sqrt(grads.reduce((s, g) => s + g.reduce((a, v) => a + v * v, 0), 0));
    const [scale, gotNorm] = await read(clip, 2);
    expect(gotNorm).toBeCloseTo(norm, 3);
    expect(norm).toBeGreaterThan(maxNorm); // so clipping is exercised
    expect(scale).toBeCloseTo(maxNorm / norm, 6);

    // AdamW step t = 3 on the first tensor, from non-zero moments
    const n = sizes[0], g = grads[0], w0 = r(n), m0 = r(n, 0.1), v0 = r(n, 0.1).map(Math.abs);
    const hp = { lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, t: 3 };
    const w = up(w0), m = up(m0), v = up(v0);
    const bc1 = 1 - hp.beta1 ** hp.t, bc2 = 1 - hp.beta2 ** hp.t;
    await run(step(T.adamw, { grad: gradB[0], clip, w, m, v }, { count: n, ...hp, bc1, bc2 }));
    const wantW = new Float32Array(n), wantM = new Float32Array(n), wantV = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const gi = g[i] * scale;
      wantM[i] = hp.beta1 * m0[i] + (1 - hp.beta1) * gi;
      wantV[i] = hp.beta2 * v0[i] + (1 - hp.beta2) * gi * gi;
      wantW[i] = w0[i] - hp.lr * (wantM[i] / bc1 / (Math.sqrt(wantV[i] / bc2) + hp.eps) + hp.weightDecay * w0[i]);
    }
    expectClose(await read(m, n), wantM);
    expectClose(await read(v, n), wantV);
    expectClose(await read(w, n), wantW);
  });
});
