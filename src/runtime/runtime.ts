import type { ModelConfig } from '../model/config';

/**
 * One forward pass, two implementations: cpu-reference.ts (the oracle) and webgpu.ts (the fast path).
 * Each keeps its own KV cache; `forward` appends `tokens` at positions [position, position + n).
 */
export interface Runtime {
  readonly kind: 'cpu' | 'webgpu';
  readonly config: ModelConfig;
  /** Positions the KV cache holds (at most config.maxPositions). */
  readonly maxPositions: number;
  /** Number of tokens already in the KV cache. */
  readonly position: number;
  /** Bytes this runtime holds for weights and KV cache (GPU buffers on WebGPU, typed arrays on CPU). */
  readonly memoryBytes: number;
  /**
   * Logits for the given tokens, row-major [n, vocab]; with `lastOnly`, only the last row [vocab]
   * (what generation needs, and cheaper to read back).
   */
  forward(tokens: ArrayLike<number>, opts?: { lastOnly?: boolean }): Promise<Float32Array>;
  /** Empty the KV cache (position back to 0). */
  reset(): void;
  /** Forget every cached position from `position` on, so a shared prefix is computed once (0 <= position <= this.position). */
  rewind(position: number): void;
  /** Free GPU buffers; the runtime is unusable afterwards. */
  dispose(): void;
}
