// One entry point for every model format. Each format says whether it recognises a set of files;
// the first that does loads them. Adding a format is one entry in FORMATS.
import type { Model } from '../model/model';
import type { TokenizerSpec } from '../model/tokenizer/spec';
import { FormatError, type LoadOptions } from './errors';
import { GGUF_MAGIC, readGguf } from './gguf';
import { readLabArtifact } from './lab-artifact';
import { readLlama2c } from './llama2c';
import { parseLlama2cTokenizer } from './llama2c-tokenizer';
import { readHfCheckpoint } from './safetensors';
import { readText, type ByteSource, type FileSet } from './source';

interface ModelFormat {
  readonly id: string;
  /** The file that holds the weights, if this format recognises the set. */
  detect(files: FileSet, heads: Map<string, Uint8Array>): ByteSource | undefined;
  load(main: ByteSource, files: FileSet, opts: LoadOptions): Promise<Model>;
}

export const isTokenizerBin = (name: string) => /^(tok\d*|tokenizer)\.bin$/i.test(name);
const startsWith = (head: Uint8Array | undefined, magic: number[]) => !!head && magic.every((b, i) => head[i] === b);

async function jsonFile(src: ByteSource): Promise<unknown> {
  try {
    return JSON.parse(await readText(src));
  } catch (e) {
    if (e instanceof SyntaxError) throw new FormatError('JSON', src.name, e.message);
    throw e;
  }
}

async function hfTokenizer(files: FileSet): Promise<TokenizerSpec | undefined> {
  const tj = files.get('tokenizer.json');
  if (!tj) return undefined;
  const cfg = files.get('tokenizer_config.json');
  return {
    kind: 'hf',
    tokenizerJson: await jsonFile(tj),
    tokenizerConfig: cfg ? await jsonFile(cfg) : undefined,
  };
}

export const FORMATS: readonly ModelFormat[] = [
  {
    id: 'gguf',
    detect: (files, heads) =>
      [...files.values()].find((f) => startsWith(heads.get(f.name), GGUF_MAGIC) || f.name.toLowerCase().endsWith('.gguf')),
    load: (main, _files, opts) => readGguf(main, opts),
  },
  {
    id: 'safetensors',
    detect: (files) => (files.has('config.json') ? files.get('config.json') : undefined),
    load: async (_main, files, opts) => readHfCheckpoint(files, await hfTokenizer(files), opts),
  },
  {
    id: 'lab',
    detect: (files) => (files.has('config.json') ? undefined : [...files.values()].find((f) => f.name.toLowerCase().endsWith('.safetensors'))),
    load: (main, _files, opts) => readLabArtifact(main, opts),
  },
  {
    id: 'llama2c',
    detect: (files) => [...files.values()].find((f) => f.name.toLowerCase().endsWith('.bin') && !isTokenizerBin(f.name)),
    load: async (main, files, opts) => {
      const tok = [...files.values()].find((f) => isTokenizerBin(f.name));
      const spec = tok ? parseLlama2cTokenizer(await tok.read(0, tok.size), tok.name) : await hfTokenizer(files);
      return readLlama2c(main, spec, opts);
    },
  },
];

export async function loadModel(files: FileSet, opts: LoadOptions = {}): Promise<Model> {
  if (files.size === 0) throw new Error('no model file given');
  const heads = new Map<string, Uint8Array>();
  for (const f of files.values()) heads.set(f.name, await f.read(0, Math.min(8, f.size)));
  for (const format of FORMATS) {
    const main = format.detect(files, heads);
    if (main) return format.load(main, files, opts);
  }
  const names = [...files.keys()].join(', ');
  throw new FormatError('model', names, 'unrecognised format: expected a .gguf file, a llama2.c .bin (with tok512.bin), or an HF folder with config.json and .safetensors');
}
