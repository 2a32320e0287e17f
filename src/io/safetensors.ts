// HF checkpoints: config.json + model.safetensors, or shards listed in model.safetensors.index.json.
// Each tensor is read on its own from its shard, so no file is ever held whole.
import { DTYPES, byteSize, dtypeFromSafetensors, isDType } from '../model/dtype';
import { checkComplete, type Model } from '../model/model';
import { makeTensor, numel, type Tensor } from '../model/tensor';
import type { TokenizerSpec } from '../model/tokenizer/spec';
import { FormatError, throwIfAborted, type LoadOptions } from './errors';
import { configFromHf } from './hf-config';
import { readText, type ByteSource, type FileSet } from './source';

const MAX_HEADER = 100 * 1024 * 1024; // the format's own limit

interface Entry { dtype: string; shape: number[]; data_offsets: [number, number] }

export async function readSafetensorsHeader(src: ByteSource): Promise<{ entries: Map<string, Entry>; dataStart: number; metadata: Record<string, string> }> {
  if (src.size < 8) throw new FormatError('safetensors', src.name, 'shorter than the 8-byte header length');
  const len = Number(new DataView((await src.read(0, 8)).slice().buffer).getBigUint64(0, true));
  if (len > MAX_HEADER || 8 + len > src.size) {
    throw new FormatError('safetensors', src.name, `header length ${len} exceeds the file (${src.size} bytes) or the 100 MB limit`);
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(new TextDecoder().decode(await src.read(8, len)));
  } catch (e) {
    throw new FormatError('safetensors', src.name, `header is not JSON (${(e as Error).message})`);
  }
  const dataStart = 8 + len;
  const entries = new Map<string, Entry>();
  const metadata = (json.__metadata__ ?? {}) as Record<string, string>;
  for (const [name, v] of Object.entries(json)) {
    if (name === '__metadata__') continue;
    const e = v as Entry;
    if (!e || typeof e.dtype !== 'string' || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets)) {
      throw new FormatError('safetensors', src.name, `tensor ${name} has a malformed header entry`);
    }
    const [a, b] = e.data_offsets;
    if (!(Number.isInteger(a) && Number.isInteger(b) && a >= 0 && b >= a && dataStart + b <= src.size)) {
      throw new FormatError('safetensors', src.name, `tensor ${name} data [${a}, ${b}) lies outside the file (truncated?)`);
    }
    entries.set(name, e);
  }
  return { entries, dataStart, metadata };
}

/** Our block-quantized tensors travel as U8 with their real dtype and shape in `lab.tensors` (see the writer). */
function labDtypes(src: ByteSource, metadata: Record<string, string>): Record<string, { dtype: string; shape: number[] }> {
  if (!metadata['lab.tensors']) return {};
  try {
    return JSON.parse(metadata['lab.tensors']);
  } catch {
    throw new FormatError('safetensors', src.name, 'metadata lab.tensors is not JSON');
  }
}

export async function readShard(src: ByteSource, into: Map<string, Tensor>, opts: LoadOptions, progress: { done: number; total: number }) {
  const { entries, dataStart, metadata } = await readSafetensorsHeader(src);
  const quantized = labDtypes(src, metadata);
  for (const [name, e] of entries) {
    throwIfAborted(opts.signal);
    const q = quantized[name];
    const dtype = q ? (isDType(q.dtype) ? DTYPES[q.dtype] : undefined) : dtypeFromSafetensors(e.dtype);
    if (!dtype) throw new FormatError('safetensors', src.name, `tensor ${name} has dtype ${q?.dtype ?? e.dtype}, which this lab does not read`);
    const shape = q ? q.shape : e.shape;
    const [a, b] = e.data_offsets;
    if (b - a !== byteSize(dtype.id, numel(shape))) {
      throw new FormatError('safetensors', src.name, `tensor ${name}: ${b - a} bytes for ${dtype.id}[${shape}]`);
    }
    into.set(name, makeTensor(name, shape, dtype.id, await src.read(dataStart + a, b - a)));
    opts.onProgress?.({ done: ++progress.done, total: progress.total, stage: `tensors (${src.name})` });
  }
}

function need(files: FileSet, name: string): ByteSource {
  const f = files.get(name);
  if (!f) throw new Error(`HF checkpoint: ${name} is missing (files given: ${[...files.keys()].join(', ')})`);
  return f;
}

export async function shardNames(files: FileSet): Promise<string[]> {
  const index = files.get('model.safetensors.index.json');
  if (!index) return files.has('model.safetensors') ? ['model.safetensors'] : [...files.keys()].filter((n) => n.endsWith('.safetensors'));
  let map: Record<string, string>;
  try {
    map = JSON.parse(await readText(index)).weight_map;
  } catch (e) {
    throw new FormatError('safetensors index', index.name, (e as Error).message);
  }
  if (!map || typeof map !== 'object') throw new FormatError('safetensors index', index.name, 'no weight_map');
  return [...new Set(Object.values(map))];
}

export async function readHfCheckpoint(files: FileSet, tokenizer: TokenizerSpec | undefined, opts: LoadOptions = {}): Promise<Model> {
  let configJson: unknown;
  try {
    configJson = JSON.parse(await readText(need(files, 'config.json')));
  } catch (e) {
    if (e instanceof SyntaxError) throw new FormatError('HF config.json', 'config.json', e.message);
    throw e;
  }
  const config = configFromHf(configJson);
  const shards = await shardNames(files);
  if (shards.length === 0) throw new Error('HF checkpoint: no .safetensors file given');
  const tensors = new Map<string, Tensor>();
  const progress = { done: 0, total: 0 };
  for (const s of shards) progress.total += (await readSafetensorsHeader(need(files, s))).entries.size;
  for (const s of shards) await readShard(need(files, s), tensors, opts, progress);
  // Some tied checkpoints still ship lm_head; identical bytes, so keep the config's word.
  const name = shards.length === 1 ? shards[0] : `${shards.length} shards`;
  checkComplete(config, tensors, name);
  return { config, tensors, tokenizer, source: { format: 'safetensors', name } };
}
