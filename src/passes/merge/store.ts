// A model whose tensors are read one at a time, so a merge holds one tensor per input instead of whole
// models. `memoryStore` wraps a model already in memory (a recipe's input); `openLazyStore` indexes a model's
// files and reads each tensor from its ByteSource only when asked.
//
// The importers in src/io read every tensor eagerly. Rather than duplicate each format's header logic, the
// lazy store runs the importer once over sources that record which byte range each read came from and
// hand large reads back as views of one reusable scratch buffer. Every importer keeps the bytes a read
// returns as that tensor's data (makeTensor never copies), so each tensor of the skeleton model maps back to
// (file, offset, length), and the skeleton's own bytes are never all alive at once. A tensor whose data
// cannot be traced (an importer that transforms bytes) stays resident and is still served correctly.
import type { LoadOptions } from '../../io/errors';
import { loadModel } from '../../io/load';
import type { ByteSource, FileSet } from '../../io/source';
import type { ModelConfig } from '../../model/config';
import type { DTypeId } from '../../model/dtype';
import type { Model } from '../../model/model';
import { makeTensor, type Tensor } from '../../model/tensor';
import type { TokenizerSpec } from '../../model/tokenizer/spec';

export interface TensorInfo {
  readonly shape: readonly number[];
  readonly dtype: DTypeId;
  readonly bytes: number;
}

export interface TensorStore {
  /** For messages: the file or the model's source name. */
  readonly name: string;
  readonly config: ModelConfig;
  readonly tokenizer?: TokenizerSpec;
  readonly names: readonly string[];
  info(tensor: string): TensorInfo | undefined;
  load(tensor: string): Promise<Tensor>;
  /** Tensor bytes this store keeps in memory between loads (0 for a fully lazy store). */
  readonly residentBytes: number;
}

export function memoryStore(model: Model): TensorStore {
  const get = (name: string) => {
    const t = model.tensors.get(name);
    if (!t) throw new Error(`${model.source.name}: no tensor ${name}`);
    return t;
  };
  return {
    name: model.source.name, config: model.config, tokenizer: model.tokenizer, names: [...model.tensors.keys()],
    info: (name) => {
      const t = model.tensors.get(name);
      return t && { shape: t.shape, dtype: t.dtype, bytes: t.data.byteLength };
    },
    load: async (name) => get(name),
    residentBytes: [...model.tensors.values()].reduce((s, t) => s + t.data.byteLength, 0),
  };
}

interface Range { readonly src: ByteSource; readonly offset: number; readonly length: number }

/** Reads below this size come back as real copies (headers, small tensors); larger ones share the scratch. */
const SCRATCH_FROM = 64 * 1024;

function recordingSource(src: ByteSource, ranges: WeakMap<Uint8Array, Range>, scratch: { buf: ArrayBuffer }): ByteSource {
  return {
    name: src.name,
    size: src.size,
    async read(offset, length) {
      const bytes = await src.read(offset, length);
      let out = bytes;
      if (length >= SCRATCH_FROM) {
        if (scratch.buf.byteLength < length) scratch.buf = new ArrayBuffer(Math.max(length, 2 * scratch.buf.byteLength));
        out = new Uint8Array(scratch.buf, 0, length);
        out.set(bytes);
      }
      ranges.set(out, { src, offset, length });
      return out;
    },
  };
}

export async function openLazyStore(files: FileSet, opts: LoadOptions = {}): Promise<TensorStore> {
  const ranges = new WeakMap<Uint8Array, Range>();
  const scratch = { buf: new ArrayBuffer(0) };
  const recording = new Map([...files].map(([k, src]) => [k, recordingSource(src, ranges, scratch)]));
  const skeleton = await loadModel(recording, opts);
  const index = new Map<string, { info: TensorInfo; range?: Range; resident?: Tensor }>();
  let resident = 0;
  for (const [name, t] of skeleton.tensors) {
    const range = ranges.get(t.data);
    const info = { shape: t.shape, dtype: t.dtype, bytes: t.data.byteLength };
    if (range && range.length === t.data.byteLength) index.set(name, { info, range });
    else {
      index.set(name, { info, resident: t });
      resident += t.data.byteLength;
    }
  }
  return {
    name: skeleton.source.name, config: skeleton.config, tokenizer: skeleton.tokenizer, names: [...index.keys()],
    info: (name) => index.get(name)?.info,
    async load(name) {
      const e = index.get(name);
      if (!e) throw new Error(`${skeleton.source.name}: no tensor ${name}`);
      if (e.resident) return e.resident;
      const { src, offset, length } = e.range!;
      return makeTensor(name, e.info.shape, e.info.dtype, await src.read(offset, length));
    },
    residentBytes: resident,
  };
}
