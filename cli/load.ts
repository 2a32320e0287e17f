// What every verb that takes a model shares: read it, build its tokenizer, pick a backend.
import { existsSync } from 'node:fs';
import { modelFileSet } from '../node/files';
import { loadModel } from '../src/io/load';
import type { Model } from '../src/model/model';
import { createTokenizer } from '../src/model/tokenizer/index';
import type { Tokenizer } from '../src/model/tokenizer/spec';
import { CpuRuntime } from '../src/runtime/cpu-reference';
import type { Runtime } from '../src/runtime/runtime';
import { UsageError } from './command';

export async function openModel(path: string | undefined, signal: AbortSignal): Promise<Model> {
  if (!path) throw new UsageError('a model path is required');
  if (!existsSync(path)) throw new Error(`${path}: no such file or directory`);
  return loadModel(modelFileSet(path), { signal });
}

export function tokenizerOf(model: Model): Tokenizer {
  if (!model.tokenizer) throw new Error(`${model.source.name} carries no tokenizer (for llama2.c, put tok512.bin beside it)`);
  return createTokenizer(model.tokenizer);
}

export type Backend = 'cpu' | 'webgpu';

export function backendOf(value: string | boolean | undefined): Backend {
  const b = (value ?? 'webgpu') as string;
  if (b !== 'cpu' && b !== 'webgpu') throw new UsageError(`--backend must be cpu or webgpu, got "${b}"`);
  return b;
}

export async function openRuntime(model: Model, backend: Backend, maxPositions?: number): Promise<Runtime> {
  if (backend === 'cpu') return new CpuRuntime(model, { maxPositions });
  const [{ getNodeGpuDevice }, { WebGpuRuntime }] = await Promise.all([import('../node/gpu'), import('../src/runtime/webgpu')]);
  return WebGpuRuntime.create(await getNodeGpuDevice(), model, { maxPositions });
}
