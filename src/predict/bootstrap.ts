// A spread of recipes to teach the predictor about a new base model: every quantization method at 2, 3, 4
// and 8 bits and two group sizes, unstructured and 2:4 pruning at light and heavy levels, a prune-then-
// quantize pipeline, and hand-made mixes (sensitive layers kept wide). Measured once per base, they span
// near-lossless to broken, which is what a rank predictor has to order.
import { parseRecipe, type NormalizedRecipe } from '../recipe/schema';
import type { Model } from '../model/model';

const quant = (pass: string, dtype: string, extra: Record<string, unknown> = {}) => ({ pass, params: { dtype, embedding: dtype, lmHead: 'int8_g64', ...extra } });
const prune = (pass: string, params: Record<string, unknown>) => ({ pass, params });

export function bootstrapRecipes(model: Model): NormalizedRecipe[] {
  const layers = model.config.numLayers;
  const names = (pick: RegExp) => [...model.tensors.keys()].filter((n) => pick.test(n));
  const wide = (pick: RegExp, dtype: string) => Object.fromEntries(names(pick).map((n) => [n, dtype]));
  const list: [string, object[]][] = [
    ['rtn q8_0', [{ pass: 'rtn', params: { dtype: 'q8_0', embedding: 'q8_0', lmHead: 'q8_0' } }]],
    ['rtn q4_0', [{ pass: 'rtn', params: { dtype: 'q4_0', embedding: 'q4_0', lmHead: 'q8_0' } }]],
    ...['rtn', 'hqq', 'gptq', 'awq'].map((m): [string, object[]] => [`${m} int4`, [quant(m, 'int4_g32')]]),
    ['gptq int4_g128', [quant('gptq', 'int4_g128')]],
    ...['rtn', 'hqq', 'gptq', 'awq'].map((m): [string, object[]] => [`${m} int3`, [quant(m, 'int3_g32')]]),
    ['rtn int2', [quant('rtn', 'int2_g32')]],
    ['hqq int2', [quant('hqq', 'int2_g32')]],
    ['gptq int2_g16', [quant('gptq', 'int2_g16')]],
    ['magnitude 30%', [prune('magnitude', { sparsity: 0.3 })]],
    ['wanda 30%', [prune('wanda', { sparsity: 0.3 })]],
    ['wanda 50%', [prune('wanda', { sparsity: 0.5 })]],
    ['sparsegpt 50%', [prune('sparsegpt', { sparsity: 0.5 })]],
    ['sparsegpt 2:4', [prune('sparsegpt', { pattern: '2:4' })]],
    ['wanda 20% then rtn int4', [prune('wanda', { sparsity: 0.2 }), quant('rtn', 'int4_g32')]],
    ['gptq int3, first layer int8', [quant('gptq', 'int3_g32', { overrides: wide(/^model\.layers\.0\.(self_attn|mlp\.(gate|up))/, 'int8_g64') })]],
    [`rtn int2 mlp, int8 attention (${layers} layers)`, [quant('rtn', 'int2_g32', { embedding: 'int8_g64', overrides: wide(/self_attn\.[qkvo]_proj/, 'int8_g64') })]],
  ];
  return list.map(([name, passes]) => parseRecipe({ schema: 'lab.recipe/1', name, passes }, name));
}
