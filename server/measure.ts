// Re-measurement with the same core the lab uses: load the artifact from the blob store, build its tokenizer,
// run each task on the items the epoch's seed picks from the (held-out) data. CPU reference by default;
// Node + Dawn WebGPU with `backend: 'webgpu'`. Runtime memory is computed from the artifact's config and stored
// tensor bytes (the market's definition, src/model/runtime-memory.ts), not read off whichever runtime ran it.
import type { DataSource } from '../src/eval/data-source';
import { runTask } from '../src/eval/runner';
import type { TaskDefinition } from '../src/eval/task-schema';
import type { ByteSource } from '../src/io/source';
import { loadModel } from '../src/io/load';
import type { Measured } from '../src/market/schema';
import { marketRuntimeBytes } from '../src/model/runtime-memory';
import { createTokenizer } from '../src/model/tokenizer/index';
import { CpuRuntime } from '../src/runtime/cpu-reference';
import type { Runtime } from '../src/runtime/runtime';

export type Backend = 'cpu' | 'webgpu';

export interface Measurement {
  tasks: Measured;
  n: Record<string, number>;
  itemsHash: Record<string, string>;
  /** src/model/runtime-memory.ts on the artifact, for `contextLength` KV positions. */
  runtimeBytes: number;
  contextLength: number;
  /** The positions the artifact's config allows. */
  maxPositions: number;
  backend: Backend;
  seconds: number;
}

export interface MeasureOptions {
  tasks: TaskDefinition[];
  data: DataSource;
  seed: string;
  limit: number;
  backend: Backend;
  /** KV positions runtimeBytes counts (a request's hardware.contextLength; default the artifact's maxPositions). */
  contextLength?: number;
  signal?: AbortSignal;
}

/** What the validator calls; tests may pass another implementation only to count calls, never to fake numbers. */
export type Measurer = (artifact: ByteSource, o: MeasureOptions) => Promise<Measurement>;

async function openRuntime(model: Awaited<ReturnType<typeof loadModel>>, backend: Backend): Promise<Runtime> {
  if (backend === 'cpu') return new CpuRuntime(model);
  const [{ getNodeGpuDevice }, { WebGpuRuntime }] = await Promise.all([import('../node/gpu'), import('../src/runtime/webgpu')]);
  return WebGpuRuntime.create(await getNodeGpuDevice(), model, {});
}

export const measureArtifact: Measurer = async (artifact, o) => {
  const t0 = performance.now();
  const model = await loadModel(new Map([[artifact.name, artifact]]), { signal: o.signal });
  if (!model.tokenizer) throw new Error(`${artifact.name} carries no tokenizer; the validator needs a self-contained artifact`);
  const tok = createTokenizer(model.tokenizer);
  const rt = await openRuntime(model, o.backend);
  try {
    const tasks: Measured = {};
    const n: Record<string, number> = {};
    const itemsHash: Record<string, string> = {};
    for (const task of o.tasks) {
      const r = await runTask(rt, tok, task, { data: o.data, limit: o.limit, seed: o.seed, signal: o.signal });
      tasks[task.id] = r.metrics;
      n[task.id] = r.n;
      itemsHash[task.id] = r.itemsHash;
    }
    const contextLength = o.contextLength ?? model.config.maxPositions;
    return {
      tasks, n, itemsHash, runtimeBytes: marketRuntimeBytes(model, contextLength), contextLength, maxPositions: model.config.maxPositions,
      backend: o.backend, seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    rt.dispose();
  }
};
