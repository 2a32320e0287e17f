// Round-to-nearest: every block quantized on its own by the format table's reference encoder (llama.cpp's
// *_ref quantizers for GGUF types, min/max for our int family). The baseline every other method must beat.
import { definePass } from '../pass';
import { castTensor, quantizeTensors, quantPlan, TargetParams } from './common';

export const rtn = definePass({
  id: 'rtn',
  version: 1,
  family: 'quant',
  summary: 'Round-to-nearest into any dtype of the format table (per-block min/max or llama.cpp rules)',
  params: TargetParams,
  needsCalibration: false,
  async apply(model, params, ctx) {
    const plan = quantPlan(model, params);
    return quantizeTensors(model, plan, ctx, 'rtn', (t, dtype) => castTensor(t, dtype));
  },
});
