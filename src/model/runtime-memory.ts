// Memory of running a model, from its shape and stored bytes alone: the market's one definition of "RAM at run
// time". The search screens a RAM bound with it before running anything, miners fill a Result's
// cost.runtimeBytes with it, and the validator recomputes it from the artifact it holds, so an honest miner
// and the validator always agree (what a runtime happens to allocate differs by backend and is no contract):
//   weights      the tensors as stored in the artifact (a runtime that keeps the quantized blocks: WebGPU, llama.cpp)
//   KV cache     K and V, f32 (both our runtimes), for every layer and `contextLength` positions:
//                2 x layers x contextLength x kvHeads x headDim x 4 B
//   activations  the largest working set of one forward over `batch` tokens (1: decoding; a runtime that
//                prefills in chunks of B tokens passes B), in f32. Through the layers the residual stream and
//                its normed copy (2 x hidden per token) live beside the larger of the attention block (q, k, v
//                and the attention output: 2 x qDim + 2 x kvDim per token, plus one row of `contextLength`
//                scores, since both runtimes attend a query row at a time) and the MLP (gate, up and their
//                product: 3 x intermediate per token); after them, the logits (vocab per token).
// Weights + KV cache is what CpuRuntime.memoryBytes holds for an f32 model.
import type { ModelConfig } from './config';
import { modelBytes, type Model } from './model';

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

/**
 * A model's runtime bytes as the market counts them (Result.cost.runtimeBytes, a request's maxRamBytes):
 * its stored tensor bytes, the KV cache for `contextLength` positions (a request's hardware.contextLength;
 * by default the model's maxPositions) and one decode step's activations.
 */
export function marketRuntimeBytes(model: Model, contextLength?: number): number {
  return runtimeMemory(model.config, modelBytes(model), { contextLength: contextLength ?? model.config.maxPositions }).total;
}

/**
 * How far a claimed runtimeBytes may fall below the validator's computation before it is an over-claim. Both
 * sides run the same function on the same tensors, so only a different context length (or a loader that
 * stores a tensor differently) can move it; 0.5% leaves room for the latter and none for a real under-claim.
 */
export const RUNTIME_BYTES_TOLERANCE = 0.005;

/** The most weight bytes that fit `maxRam` beside the KV cache and activations (negative when nothing fits). */
export function weightBudget(config: ModelConfig, maxRam: number, o: MemoryOptions): number {
  const { kvCache, activations } = runtimeMemory(config, 0, o);
  return maxRam - kvCache - activations;
}
