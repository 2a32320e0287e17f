// A model's weights as plain f32 arrays (the trainer's masters) and back into the model IR.
import { expectedShapes, type Model } from '../../model/model';
import { f32Tensor, toFloat32, type Tensor } from '../../model/tensor';

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
