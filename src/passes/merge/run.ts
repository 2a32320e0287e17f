// Runs a merge plan tensor by tensor: read one tensor from each input, decode to f32, merge, encode, hand
// the result on, forget it. Peak memory is a few tensors, never a model, whatever the models' size; the
// meter counts those bytes so tests can hold the merge to it.
import { cancelPoint } from '../cancel-point';
import { encode } from '../../model/dtype';
import { checkComplete, type Model } from '../../model/model';
import { makeTensor, toFloat32, type Tensor } from '../../model/tensor';
import { seededRandom } from '../../runtime/sampling';
import type { MergePlan } from './plan';

/** Bytes of tensors the merge holds right now (inputs as read, as f32, the output), and the most it held. */
export class MemoryMeter {
  live = 0;
  peak = 0;
  add(bytes: number) {
    this.live += bytes;
    this.peak = Math.max(this.peak, this.live);
  }
  sub(bytes: number) {
    this.live -= bytes;
  }
}

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: (p: { stage: string; done: number; total: number }) => void;
  meter?: MemoryMeter;
}

/** FNV-1a: a stable 32-bit seed from text, so each (seed, tensor, model) draws its own stream. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export async function* runMerge(plan: MergePlan, opts: RunOptions = {}): AsyncGenerator<Tensor> {
  const meter = opts.meter ?? new MemoryMeter();
  const total = plan.jobs.length;
  for (const [k, job] of plan.jobs.entries()) {
    await cancelPoint(opts.signal);
    const inputs = [];
    for (const x of job.inputs) {
      const raw = await x.store.load(x.name);
      meter.add(raw.data.byteLength);
      const values = toFloat32(raw);
      meter.add(values.byteLength);
      meter.sub(raw.data.byteLength);
      inputs.push({ model: x.ref, values, params: x.params });
    }
    const merged = plan.method.merge({
      inputs, baseIndex: job.baseIndex, params: job.params, tensor: job.out,
      random: (model) => seededRandom(hash32(`${plan.spec.seed}|${job.out}|${model}`)),
    });
    const fresh = !inputs.some((x) => x.values === merged);
    if (fresh) meter.add(merged.byteLength);
    const bytes = encode(job.dtype, merged);
    meter.add(bytes.byteLength);
    meter.sub(inputs.reduce((s, x) => s + x.values.byteLength, 0) + (fresh ? merged.byteLength : 0));
    yield makeTensor(job.out, job.shape, job.dtype, bytes);
    meter.sub(bytes.byteLength);
    opts.onProgress?.({ stage: `merge ${plan.spec.method}`, done: k + 1, total });
  }
}

/** The whole merged model in memory (what a recipe pass returns). */
export async function collectMerge(plan: MergePlan, opts: RunOptions = {}): Promise<Model> {
  const tensors = new Map<string, Tensor>();
  for await (const t of runMerge(plan, opts)) tensors.set(t.name, t);
  checkComplete(plan.config, tensors, `${plan.spec.method} merge`);
  return { config: plan.config, tensors, tokenizer: plan.tokenizer, source: { format: 'merge', name: `${plan.spec.method} merge` } };
}
