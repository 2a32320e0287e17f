// Checkpoints of WebGPU training in the CPU trainer's format (src/passes/distill/checkpoint.ts): one
// safetensors file with param:/adam.m:/adam.v: arrays per canonical tensor and the step, AdamW's t,
// the config and the loss history in its metadata. So a run can stop on one backend and resume on the
// other (a browser tab's GPU run continued by the CLI, or the reverse), and resumes are exact on one.
import { FormatError } from '../../io/errors';
import { readSafetensorsHeader, readShard } from '../../io/safetensors';
import { writeSafetensors } from '../../io/safetensors-writer';
import { bytesSource } from '../../io/source';
import { f32Tensor, toFloat32, type Tensor } from '../../model/tensor';
import type { StepInfo } from '../../passes/distill/trainer';
import type { GpuTrainer } from './trainer';

const FORMAT = 'lab-train-checkpoint';

export interface CheckpointState {
  step: number;
  config: Record<string, unknown>;
  history: StepInfo[];
}

export async function encodeGpuCheckpoint(trainer: GpuTrainer, s: CheckpointState): Promise<Uint8Array> {
  const { w, m, v, t } = await trainer.state();
  const tensors: Tensor[] = [];
  for (const [n, p] of w) {
    tensors.push(f32Tensor(`param:${n}`, [p.length], p));
    tensors.push(f32Tensor(`adam.m:${n}`, [p.length], m.get(n)!));
    tensors.push(f32Tensor(`adam.v:${n}`, [p.length], v.get(n)!));
  }
  const trainable = { kind: 'full', params: trainer.params.count, backend: 'webgpu' };
  return writeSafetensors(tensors, {
    format: FORMAT,
    'train.state': JSON.stringify({ step: s.step, t, config: s.config, trainable, history: s.history }),
  });
}

/**
 * Load checkpoint bytes into the trainer (weights, moments, t) and return where the run stood. The
 * config must equal `config` except for `steps` (a run may be extended), as on the CPU.
 */
export async function decodeGpuCheckpoint(trainer: GpuTrainer, bytes: Uint8Array, config: Record<string, unknown>): Promise<CheckpointState> {
  const src = bytesSource(bytes, 'checkpoint');
  const { metadata } = await readSafetensorsHeader(src);
  if (metadata.format !== FORMAT || !metadata['train.state']) throw new FormatError(FORMAT, src.name, 'no train.state metadata');
  const state = JSON.parse(metadata['train.state']);
  for (const [k, v] of Object.entries(config)) {
    if (k !== 'steps' && JSON.stringify(state.config[k]) !== JSON.stringify(v)) {
      throw new Error(`checkpoint was written with ${k}=${JSON.stringify(state.config[k])}, this run has ${k}=${JSON.stringify(v)}`);
    }
  }
  if (state.step > (config.steps as number)) throw new Error(`checkpoint is at step ${state.step}, past this run's ${config.steps} steps`);
  const tensors = new Map<string, Tensor>();
  await readShard(src, tensors, {}, { done: 0, total: 0 });
  const part = (prefix: string) => {
    const out = new Map<string, Float32Array>();
    for (const name of trainer.params.groups.flatMap((g) => g.parts.map((p) => p.name))) {
      const saved = tensors.get(`${prefix}:${name}`);
      if (!saved) throw new Error(`checkpoint has no ${prefix}:${name}: it was written for a different model or trainable`);
      out.set(name, toFloat32(saved));
    }
    return out;
  };
  await trainer.restore({ w: part('param'), m: part('adam.m'), v: part('adam.v'), t: state.t });
  return { step: state.step, config: state.config, history: state.history };
}
