// The only place that knows every pass: a recipe names a pass by its key here. Adding a method is one file
// plus one line; nothing registers itself by being imported.
import type { Pass } from './pass';
import { awq, gptq, hqq, mixed, rtn } from './quant/index';
import { channels, heads, layers, magnitude, sparsegpt, wanda } from './prune/index';
import { merge } from './merge/pass';
import { distillPass as distill, heal } from './distill/index';

export const passes = { rtn, hqq, gptq, awq, mixed, magnitude, wanda, sparsegpt, heads, channels, layers, merge, distill, heal } satisfies Record<string, Pass<any>>;
export type PassId = keyof typeof passes;
