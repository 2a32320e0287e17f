// A model's weights as plain f32 arrays (the trainer's masters) and back into the model IR.
import { encode, type DTypeId } from '../../model/dtype';
import { expectedShapes, type Model } from '../../model/model';
import { f32Tensor, makeTensor, toFloat32, type Tensor } from '../../model/tensor';

export type Weights = Map<string, Float32Array>;

/** Every tensor of the model dequantized to a fresh f32 copy. */
export function weightsOf(model: Model): Weights {
  return new Map([...model.tensors].map(([name, t]) => [name, toFloat32(t)]));
}

/** The model with each weight present in `weights` replaced by an f32 tensor of it (others kept as they are). */
export function withWeights(model: Model, weights: ReadonlyMap<string, Float32Array>, sourceName?: string): Model {
  const shapes = expectedShapes(model.config);
  const tensors = new Map<string, Tensor>();
  for (const [name, t] of model.tensors) {
    const w = weights.get(name);
    tensors.set(name, w ? f32Tensor(name, shapes.get(name) ?? t.shape, w.slice()) : t);
  }
  return { ...model, tensors, source: sourceName ? { ...model.source, name: sourceName } : model.source };
}

/**
 * The model after training: each master as an f32 tensor, except those named in `formats` (trained
 * straight-through a quantized dtype), which are encoded from their masters back into that dtype.
 */
export function withTrainedWeights(model: Model, masters: ReadonlyMap<string, Float32Array>, formats: ReadonlyMap<string, DTypeId>, sourceName?: string): Model {
  const m = withWeights(model, new Map([...masters].filter(([n]) => !formats.has(n))), sourceName);
  const tensors = new Map(m.tensors);
  for (const [n, dtype] of formats) tensors.set(n, makeTensor(n, model.tensors.get(n)!.shape, dtype, encode(dtype, masters.get(n)!)));
  return { ...m, tensors };
}
