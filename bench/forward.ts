// Forward-pass throughput: prefill (one batched forward over a prompt) and decode (one token per
// forward, greedy, logits read back each step) for each runtime on the same model. A runtime is timed
// only after its logits agree with the CPU oracle's.
import type { ModelConfig } from '../src/model/config';
import { expectedShapes, type Model } from '../src/model/model';
import { f32Tensor, numel, type Tensor } from '../src/model/tensor';
import type { Runtime } from '../src/runtime/runtime';
import { argmax } from '../src/runtime/sampling';

export interface ForwardBenchOptions {
  promptTokens: number;
  decodeTokens: number;
  /** Timed repeats after one warm-up; the median is reported. */
  repeats: number;
}

export interface ForwardBenchRow {
  runtime: string;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  prefillMs: number;
  decodeMsPerToken: number;
}

/** A deterministic prompt: BOS, then tokens spread over the vocabulary. */
export const benchPrompt = (model: Model, n: number) =>
  Array.from({ length: n }, (_, i) => (i === 0 ? (model.config.bosTokenId ?? 1) : (i * 37 + 11) % model.config.vocabSize));

/**
 * Max |a - b| between two runtimes' logits: every row of a prompt, then a few greedy decode steps
 * (the single-row kernels). Throws above `tolerance`.
 */
export async function checkAgainst(reference: Runtime, rt: Runtime, prompt: number[], tolerance: number): Promise<number> {
  let d = 0;
  const compare = (want: Float32Array, got: Float32Array) => {
    for (let i = 0; i < want.length; i++) d = Math.max(d, Math.abs(want[i] - got[i]));
  };
  reference.reset();
  rt.reset();
  let want = await reference.forward(prompt);
  compare(want, await rt.forward(prompt));
  for (let step = 0; step < 4; step++) {
    const next = argmax(want.subarray(want.length - reference.config.vocabSize));
    want = await reference.forward([next], { lastOnly: true });
    compare(want, await rt.forward([next], { lastOnly: true }));
  }
  if (!(d <= tolerance)) throw new Error(`${rt.kind} logits differ from ${reference.kind} by ${d} (> ${tolerance}): not timing a wrong result`);
  return d;
}

async function once(rt: Runtime, prompt: number[], decodeTokens: number) {
  rt.reset();
  const t0 = performance.now();
  let logits = await rt.forward(prompt, { lastOnly: true });
  const t1 = performance.now();
  for (let i = 0; i < decodeTokens; i++) logits = await rt.forward([argmax(logits)], { lastOnly: true });
  const t2 = performance.now();
  return { prefillMs: t1 - t0, decodeMs: t2 - t1 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchForward(label: string, rt: Runtime, prompt: number[], opts: ForwardBenchOptions): Promise<ForwardBenchRow> {
  await once(rt, prompt, Math.min(4, opts.decodeTokens)); // warm-up: pipelines, buffers, JIT
  const runs = [];
  for (let r = 0; r < opts.repeats; r++) runs.push(await once(rt, prompt, opts.decodeTokens));
  const prefillMs = median(runs.map((r) => r.prefillMs));
  const decodeMsPerToken = median(runs.map((r) => r.decodeMs)) / opts.decodeTokens;
  return {
    runtime: label,
    prefillTokensPerSecond: prompt.length / (prefillMs / 1000),
    decodeTokensPerSecond: 1000 / decodeMsPerToken,
    prefillMs,
    decodeMsPerToken,
  };
}

export function formatTable(rows: ForwardBenchRow[], opts: ForwardBenchOptions): string {
  const head = ['runtime', `prefill ${opts.promptTokens} tok/s`, 'prefill ms', `decode ${opts.decodeTokens} tok/s`, 'ms/token'];
  const body = rows.map((r) => [
    r.runtime, r.prefillTokensPerSecond.toFixed(0), r.prefillMs.toFixed(1), r.decodeTokensPerSecond.toFixed(1), r.decodeMsPerToken.toFixed(2),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** Llama shapes for timing at realistic sizes with random f32 weights (speed does not depend on the values). */
export const SHAPES: Record<string, ModelConfig> = {
  'llama-160m': {
    architecture: 'llama', hiddenSize: 768, intermediateSize: 2048, numLayers: 12, numHeads: 12, numKvHeads: 4, headDim: 64,
    vocabSize: 32000, maxPositions: 2048, rmsNormEps: 1e-5, ropeTheta: 10000, ropeStyle: 'half', attentionBias: false,
    tieWordEmbeddings: false, bosTokenId: 1, eosTokenId: 2,
  },
  'tinyllama-1.1b': {
    architecture: 'llama', hiddenSize: 2048, intermediateSize: 5632, numLayers: 22, numHeads: 32, numKvHeads: 4, headDim: 64,
    vocabSize: 32000, maxPositions: 2048, rmsNormEps: 1e-5, ropeTheta: 10000, ropeStyle: 'half', attentionBias: false,
    tieWordEmbeddings: false, bosTokenId: 1, eosTokenId: 2,
  },
};

/** A model of the given shape with small random weights (norms near 1), deterministic in `seed`. */
export function randomModel(config: ModelConfig, seed = 1): Model {
  let a = seed >>> 0;
  const tensors = new Map<string, Tensor>();
  for (const [name, shape] of expectedShapes(config)) {
    const isNorm = name.includes('norm');
    const scale = isNorm ? 0.1 : 1 / Math.sqrt(shape[shape.length - 1]);
    const values = new Float32Array(numel(shape));
    for (let i = 0; i < values.length; i++) {
      a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
      values[i] = (isNorm ? 1 : 0) + (a / 2 ** 32 - 0.5) * 2 * scale;
    }
    tensors.set(name, f32Tensor(name, shape, values));
  }
  return { config, tensors, source: { format: 'random', name: `random ${config.architecture} ${config.hiddenSize}x${config.numLayers}` } };
}
