// Training checkpoints: one safetensors file holding the trainable arrays, AdamW's moments and (in the
// metadata) the step, the optimizer's t, the config and the loss history. Bytes in, bytes out: Node writes
// them to disk, the browser to IndexedDB.
import { FormatError } from '../../io/errors';
import { readSafetensorsHeader, readShard } from '../../io/safetensors';
import { writeSafetensors } from '../../io/safetensors-writer';
import { bytesSource } from '../../io/source';
import { f32Tensor, toFloat32, type Tensor } from '../../model/tensor';
import type { Trainer } from './trainer';

const FORMAT = 'lab-train-checkpoint';

export function encodeCheckpoint(t: Trainer): Uint8Array {
  const tensors: Tensor[] = [];
  for (const [n, p] of t.trainable.params) {
    tensors.push(f32Tensor(`param:${n}`, [p.length], p));
    tensors.push(f32Tensor(`adam.m:${n}`, [p.length], t.optimizer.m.get(n)!));
    tensors.push(f32Tensor(`adam.v:${n}`, [p.length], t.optimizer.v.get(n)!));
  }
  return writeSafetensors(tensors, {
    format: FORMAT,
    'train.state': JSON.stringify({ step: t.step, t: t.optimizer.t, config: t.config, trainable: t.trainable.describe(), history: t.history }),
  });
}

export async function decodeCheckpoint(t: Trainer, bytes: Uint8Array): Promise<void> {
  const src = bytesSource(bytes, 'checkpoint');
  const { metadata } = await readSafetensorsHeader(src);
  if (metadata.format !== FORMAT || !metadata['train.state']) throw new FormatError(FORMAT, src.name, 'no train.state metadata');
  const state = JSON.parse(metadata['train.state']);
  for (const [k, v] of Object.entries(t.config)) {
    // `steps` may change: a run can be extended (its schedule is then the new total's from here on)
    if (k !== 'steps' && JSON.stringify(state.config[k]) !== JSON.stringify(v)) {
      throw new Error(`checkpoint was written with ${k}=${JSON.stringify(state.config[k])}, this run has ${k}=${JSON.stringify(v)}`);
    }
  }
  const tensors = new Map<string, Tensor>();
  await readShard(src, tensors, {}, { done: 0, total: 0 });
  const load = (key: string, into: Float32Array) => {
    const saved = tensors.get(key);
    if (!saved) throw new Error(`checkpoint has no ${key}: it was written for a different model or trainable`);
    const values = toFloat32(saved);
    if (values.length !== into.length) throw new Error(`checkpoint ${key} has ${values.length} values, this run needs ${into.length}`);
    into.set(values);
  };
  for (const [n, p] of t.trainable.params) {
    load(`param:${n}`, p);
    load(`adam.m:${n}`, t.optimizer.m.get(n)!);
    load(`adam.v:${n}`, t.optimizer.v.get(n)!);
  }
  if (state.step > t.config.steps) throw new Error(`checkpoint is at step ${state.step}, past this run's ${t.config.steps} steps`);
  t.optimizer.t = state.t;
  t.step = state.step;
  t.history.splice(0, t.history.length, ...state.history);
  t.trainable.refresh();
}
