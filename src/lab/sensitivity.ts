// The per-layer sensitivity map: for every linear of every block (and the embedding), how far the next-token
// distribution moves (KLD from the base, on a few probe windows) when only that tensor is quantized to `dtype`.
// CPU reference, so it runs the same with or without WebGPU; stories260K takes seconds.
import type { DataSource } from '../eval/data-source';
import type { DTypeId } from '../model/dtype';
import type { Model } from '../model/model';
import type { Tokenizer } from '../model/tokenizer/spec';
import { calibrationFromTokens } from '../passes/calibration';
import { castTensor, fitDType, isQuantizable } from '../passes/quant/common';
import { measureSensitivity, probeDistribution } from '../passes/quant/sensitivity';
import { loadDocs } from '../eval/data-formats';
import { taskLibrary } from './catalog';
import type { Progress } from './compress';

export interface SensitivityCell {
  tensor: string;
  /** Block index, or -1 for tensors outside the blocks (embedding, output). */
  layer: number;
  /** Short name: q_proj, down_proj, embed_tokens ... */
  kind: string;
  dtype: string;
  kld: number;
  kldStderr: number;
}

export interface SensitivityOptions {
  dtype: DTypeId;
  /** Probe windows and their length in tokens. */
  windows?: number;
  length?: number;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

export async function sensitivityMap(model: Model, tok: Tokenizer, data: DataSource, o: SensitivityOptions): Promise<SensitivityCell[]> {
  const task = taskLibrary().get('tinystories') ?? [...taskLibrary().values()].find((t) => t.output_type === 'loglikelihood_rolling');
  if (!task) throw new Error('sensitivity needs a text task (loglikelihood_rolling) in the library');
  o.onProgress?.({ stage: 'reading probe text', done: 0, total: 1 });
  const text = (await loadDocs(data, task.data)).map((d) => String(d.text ?? '')).join('\n\n');
  const length = Math.min(o.length ?? 64, model.config.maxPositions);
  const probe = calibrationFromTokens(tok.encode(text), o.windows ?? 2, length, 7, tok.bosId, `${task.id} probe`);
  const base = await probeDistribution(model, probe, { signal: o.signal });
  const pairs = [...model.tensors.values()]
    .filter((t) => isQuantizable(t.name) && t.shape.length === 2)
    .map((t) => ({ tensor: t.name, dtype: fitDType(o.dtype, t.shape[1]) }));
  const entries = [];
  for (const [i, pair] of pairs.entries()) {
    // One tensor at a time with a macrotask between: the CPU reference never leaves the microtask queue, and
    // a worker hears a cancel only when its event loop turns.
    await new Promise((resolve) => setTimeout(resolve, 0));
    entries.push(...(await measureSensitivity(model, [pair], base, (t, d) => castTensor(t, d), { signal: o.signal })));
    o.onProgress?.({ stage: 'sensitivity', done: i + 1, total: pairs.length });
  }
  return entries.map((e) => {
    const m = /^model\.layers\.(\d+)\.(?:\w+\.)?(\w+)\.weight$/.exec(e.tensor);
    return {
      tensor: e.tensor, layer: m ? Number(m[1]) : -1, kind: m ? m[2] : e.tensor.replace(/^model\./, '').replace(/\.weight$/, ''),
      dtype: e.dtype, kld: e.kld, kldStderr: e.kldStderr,
    };
  });
}
