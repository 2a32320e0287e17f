// Passthrough: copy one model's tensor unchanged (optionally times `scale`). With slices taken from different
// models or layer ranges this stacks layers into a "frankenmerge" whose depth is the sum of the slices.
import { defineMethod, num } from './method';

export const passthroughMethod = defineMethod({
  id: 'passthrough',
  summary: 'Copy tensors from one model per slice (optionally scaled); slices stack layers',
  needsBase: false,
  params: [],
  tensorParams: [{ name: 'scale' }],
  merge({ inputs, tensor }) {
    if (inputs.length !== 1) throw new Error(`${tensor}: passthrough takes exactly one model per slice, got ${inputs.length}`);
    const [x] = inputs;
    if (x.params.scale === undefined) return x.values;
    const s = num(x.params.scale, 'scale', `${tensor} (${x.model})`);
    return x.values.map((v) => v * s);
  },
});
