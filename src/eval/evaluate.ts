// One evaluation of one model, start to finish, as a Result: the tasks, optionally KLD/top-1 against a
// base model, and the cost figures. Hosts (CLI, worker, validator) supply runtimes and data.
import type { Model } from '../model/model';
import type { CodeRunner } from './code/runner';
import { modelBytes, modelParams } from '../model/model';
import { marketRuntimeBytes } from '../model/runtime-memory';
import type { Tokenizer } from '../model/tokenizer/spec';
import type { Runtime } from '../runtime/runtime';
import { loadDocs } from './data-formats';
import type { DataSource } from './data-source';
import { baseDistribution, klDivergence, type BaseDistribution } from './kld';
import { Result } from './result';
import { runTask } from './runner';
import type { TaskDefinition } from './task-schema';

export interface EvaluateOptions {
  model: Model;
  runtime: Runtime;
  tokenizer: Tokenizer;
  tasks: TaskDefinition[];
  data: DataSource;
  limit?: number;
  seed?: string;
  /** Base model to measure KLD/top-1 against, on the text of `kldTask` (a loglikelihood_rolling task). */
  base?: { runtime: Runtime; name: string; sha256: string | null; cache?: BaseDistribution };
  kldTask?: TaskDefinition;
  kldChunks?: number;
  artifactSha256?: string | null;
  /** KV positions cost.runtimeBytes counts: the request's hardware.contextLength (default the model's maxPositions). */
  contextLength?: number;
  /** Size of the model's file(s); defaults to the bytes of its tensors. */
  bytesOnDisk?: number;
  recipeHash?: string | null;
  host: 'node' | 'browser';
  adapter?: string | null;
  peakHostBytes?: () => number | null;
  /** Sandbox for tasks that execute generated code (pass@1); the host provides it. */
  codeRunner?: CodeRunner;
  signal?: AbortSignal;
  onProgress?: (p: { stage: string; done: number; total: number }) => void;
}

export async function evaluate(o: EvaluateOptions): Promise<Result> {
  const startedAt = new Date();
  const t0 = performance.now();
  const tasks = [];
  for (const task of o.tasks) {
    tasks.push(await runTask(o.runtime, o.tokenizer, task, {
      data: o.data, limit: o.limit, seed: o.seed, signal: o.signal, codeRunner: o.codeRunner,
      onProgress: (p) => o.onProgress?.({ stage: p.task, done: p.done, total: p.total }),
    }));
  }
  let distribution: Result['distribution'] = null;
  if (o.base) {
    if (!o.kldTask || o.kldTask.output_type !== 'loglikelihood_rolling') throw new Error('KLD needs a text task (loglikelihood_rolling)');
    const text = (await loadDocs(o.data, o.kldTask.data)).map((d) => String(d.text)).join('\n\n').replace(/\r\n/g, '\n');
    const tokens = o.tokenizer.encode(text);
    const kopts = {
      contextLength: Math.min(o.kldTask.context_length, o.runtime.maxPositions),
      maxChunks: o.kldChunks ?? 8, bosId: o.tokenizer.bosId, signal: o.signal,
      onProgress: (p: { done: number; total: number }) => o.onProgress?.({ stage: 'kld', ...p }),
    };
    const cache = o.base.cache ?? (await baseDistribution(o.base.runtime, tokens, kopts));
    const k = await klDivergence(o.runtime, cache, kopts);
    distribution = { base: { name: o.base.name, sha256: o.base.sha256 }, ...k };
  }
  // one generation-shaped measurement for the speed figures: a 128-token prefill, then 32 decode steps
  const speed = await measureSpeed(o.runtime);
  return Result.parse({
    schema: 'lab.result/1',
    model: { name: o.model.source.name, format: o.model.source.format, parameters: modelParams(o.model) },
    recipeHash: o.recipeHash ?? null,
    artifactSha256: o.artifactSha256 ?? null,
    tasks,
    distribution,
    cost: {
      bytesOnDisk: o.bytesOnDisk ?? modelBytes(o.model),
      // the market's definition, which the validator recomputes from the artifact (not what this runtime allocates)
      runtimeBytes: marketRuntimeBytes(o.model, o.contextLength),
      peakHostBytes: o.peakHostBytes?.() ?? null,
      ...speed,
    },
    device: { backend: o.runtime.kind, host: o.host, adapter: o.adapter ?? null },
    timing: { startedAt: startedAt.toISOString(), seconds: (performance.now() - t0) / 1000 },
  });
}

async function measureSpeed(rt: Runtime) {
  const prompt = Math.min(128, rt.maxPositions - 33);
  const ids = Array.from({ length: prompt }, (_, i) => (i * 7 + 3) % rt.config.vocabSize);
  rt.reset();
  const t0 = performance.now();
  await rt.forward(ids, { lastOnly: true });
  const t1 = performance.now();
  for (let i = 0; i < 32; i++) await rt.forward([ids[i]], { lastOnly: true });
  const t2 = performance.now();
  rt.reset();
  return { prefillTokensPerSecond: prompt / ((t1 - t0) / 1000), decodeTokensPerSecond: 32 / ((t2 - t1) / 1000) };
}
