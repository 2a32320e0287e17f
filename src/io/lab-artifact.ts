// The lab's own single-file artifact: a safetensors file whose metadata carries the model config, the
// tokenizer and every tensor's real dtype, so any format of the dtype table (our int family included)
// round-trips exactly. What `lab compress --out x.safetensors` writes and the market passes around.
import { validateConfig } from '../model/config';
import { checkComplete, type Model } from '../model/model';
import type { Tensor } from '../model/tensor';
import type { TokenizerSpec } from '../model/tokenizer/spec';
import { FormatError, type LoadOptions } from './errors';
import { readSafetensorsHeader, readShard } from './safetensors';
import { safetensorsParts, writeSafetensors } from './safetensors-writer';
import type { ByteSource } from './source';

export function writeLabArtifact(model: Model): Uint8Array {
  return writeSafetensors(model.tensors.values(), labMetadata(model));
}

/** The same bytes as parts (header, then each tensor's own bytes), for files too big for one buffer. */
export function labArtifactParts(model: Model): Uint8Array[] {
  return safetensorsParts(model.tensors.values(), labMetadata(model));
}

function labMetadata(model: Model): Record<string, string> {
  const tok = model.tokenizer;
  const tokenizer = tok?.kind === 'spm' ? { ...tok, scores: Array.from(tok.scores) } : tok;
  return {
    format: 'lab',
    'lab.config': JSON.stringify(model.config),
    ...(tokenizer ? { 'lab.tokenizer': JSON.stringify(tokenizer) } : {}),
  };
}

export async function readLabArtifact(src: ByteSource, opts: LoadOptions = {}): Promise<Model> {
  const { metadata, entries } = await readSafetensorsHeader(src);
  if (!metadata['lab.config']) {
    throw new FormatError('lab artifact', src.name, 'a lone .safetensors file needs config.json beside it (HF layout) or lab.config metadata');
  }
  let config, tokenizer: TokenizerSpec | undefined;
  try {
    config = validateConfig(JSON.parse(metadata['lab.config']));
    tokenizer = metadata['lab.tokenizer'] ? JSON.parse(metadata['lab.tokenizer']) : undefined;
  } catch (e) {
    throw new FormatError('lab artifact', src.name, `metadata: ${(e as Error).message}`);
  }
  const tensors = new Map<string, Tensor>();
  await readShard(src, tensors, opts, { done: 0, total: entries.size });
  checkComplete(config, tensors, src.name);
  return { config, tensors, tokenizer, source: { format: 'lab', name: src.name } };
}
