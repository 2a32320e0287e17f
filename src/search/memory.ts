// The search's use of the market's runtime-memory definition (src/model/runtime-memory.ts): how many weight
// bytes a request leaves for its mixed-precision plans.
import type { ModelConfig } from '../model/config';
import { weightBudget } from '../model/runtime-memory';

/**
 * The weight bytes a request allows: its byte bound and what its RAM bound leaves for weights, whichever is
 * less (undefined when neither bounds them). The search space plans its mixed-precision recipes to it.
 */
export function weightBound(config: ModelConfig, r: { maxBytes?: number; maxRamBytes?: number; contextLength?: number }): number | undefined {
  const ram = r.maxRamBytes === undefined ? Infinity : weightBudget(config, r.maxRamBytes, { contextLength: r.contextLength ?? config.maxPositions });
  const bound = Math.min(r.maxBytes ?? Infinity, ram);
  return Number.isFinite(bound) ? Math.max(0, Math.floor(bound)) : undefined;
}
