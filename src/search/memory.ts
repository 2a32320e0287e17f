// Peak memory of running a candidate, estimated from its shape alone, so the search can screen a RAM bound
// before running anything:
//   weights      the tensors as stored (a runtime that keeps the quantized blocks: WebGPU, llama.cpp)
//   KV cache     K and V, f32 (both our runtimes), for every layer and `contextLength` positions:
//                2 x layers x contextLength x kvHeads x headDim x 4 B
//   activations  the largest working set of one forward over `batch` tokens (1: decoding; a runtime that
//                prefills in chunks of B tokens passes B), in f32. Through the layers the residual stream and
//                its normed copy (2 x hidden per token) live beside the larger of the attention block (q, k, v
//                and the attention output: 2 x qDim + 2 x kvDim per token, plus one row of `contextLength`
//                scores, since both runtimes attend a query row at a time) and the MLP (gate, up and their
//                product: 3 x intermediate per token); after them, the logits (vocab per token).
// Weights + KV cache is what the market's runtimeBytes counts for an f32 model (CpuRuntime.memoryBytes).
import type { ModelConfig } from '../model/config';

export interface RuntimeMemory { weights: number; kvCache: number; activations: number; total: number }

export interface MemoryOptions {
  /** Positions the KV cache holds (the runtimes allocate the model's maxPositions unless told less). */
  contextLength: number;
  /** Tokens per forward (default 1). */
  batch?: number;
}

const F32 = 4;

export function runtimeMemory(config: ModelConfig, weightBytes: number, o: MemoryOptions): RuntimeMemory {
  const ctx = o.contextLength, rows = o.batch ?? 1;
  const qDim = config.numHeads * config.headDim, kvDim = config.numKvHeads * config.headDim;
  const kvCache = 2 * config.numLayers * ctx * kvDim * F32;
  const attention = rows * (2 * qDim + 2 * kvDim) + ctx;
  const mlp = rows * 3 * config.intermediateSize;
  const logits = rows * config.vocabSize;
  const activations = F32 * (rows * 2 * config.hiddenSize + Math.max(attention, mlp, logits));
  return { weights: weightBytes, kvCache, activations, total: weightBytes + kvCache + activations };
}

/** The most weight bytes that fit `maxRam` beside the KV cache and activations (negative when nothing fits). */
export function weightBudget(config: ModelConfig, maxRam: number, o: MemoryOptions): number {
  const { kvCache, activations } = runtimeMemory(config, 0, o);
  return maxRam - kvCache - activations;
}

/**
 * The weight bytes a request allows: its byte bound and what its RAM bound leaves for weights, whichever is
 * less (undefined when neither bounds them). The search space plans its mixed-precision recipes to it.
 */
export function weightBound(config: ModelConfig, r: { maxBytes?: number; maxRamBytes?: number; contextLength?: number }): number | undefined {
  const ram = r.maxRamBytes === undefined ? Infinity : weightBudget(config, r.maxRamBytes, { contextLength: r.contextLength ?? config.maxPositions });
  const bound = Math.min(r.maxBytes ?? Infinity, ram);
  return Number.isFinite(bound) ? Math.max(0, Math.floor(bound)) : undefined;
}
