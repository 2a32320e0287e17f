// llama2.c checkpoints (Karpathy's run.c format): legacy version 0 (7 x int32 header then fp32 arrays)
// and version 1 (magic "ak42", fp32, 256-byte header). Version 2 (int8 Q8_0 groups) is not read yet.
import { validateConfig, type ModelConfig } from '../model/config';
import { checkComplete, type Model } from '../model/model';
import { EMBED, FINAL_NORM, LM_HEAD, layerName, type LayerTensor } from '../model/names';
import { makeTensor, numel, type Tensor } from '../model/tensor';
import type { TokenizerSpec } from '../model/tokenizer/spec';
import { FormatError, throwIfAborted, type LoadOptions } from './errors';
import type { ByteSource } from './source';

const MAGIC_V1 = 0x616b3432; // "ak42" read as little-endian int32
const MAX_DIM = 1 << 20;

interface Header {
  version: 0 | 1;
  dim: number; hiddenDim: number; nLayers: number; nHeads: number; nKvHeads: number; vocab: number; seqLen: number;
  shared: boolean;
  dataOffset: number;
}

async function readHeader(src: ByteSource): Promise<Header> {
  if (src.size < 28) throw new FormatError('llama2.c', src.name, `only ${src.size} bytes, shorter than the 28-byte header`);
  const h = new DataView((await src.read(0, Math.min(src.size, 256))).slice().buffer);
  const int = (i: number) => h.getInt32(i, true);
  let base = 0, version: 0 | 1 = 0, dataOffset = 28, shared: boolean;
  if (h.getUint32(0, true) === MAGIC_V1) {
    const v = int(4);
    if (v !== 1) throw new FormatError('llama2.c', src.name, `checkpoint version ${v} is not supported (only 0 and 1)`);
    version = 1; base = 8; dataOffset = 256;
  }
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, rawVocab, seqLen] = Array.from({ length: 7 }, (_, i) => int(base + 4 * i));
  if (version === 1) shared = h.getUint8(base + 28) !== 0;
  else shared = rawVocab > 0;
  const vocab = Math.abs(rawVocab);
  const fields = { dim, hiddenDim, nLayers, nHeads, nKvHeads, vocab, seqLen };
  for (const [k, v] of Object.entries(fields)) {
    if (!(v > 0 && v <= MAX_DIM)) throw new FormatError('llama2.c', src.name, `header field ${k}=${v} is out of range`);
  }
  if (dim % nHeads !== 0 || nHeads % nKvHeads !== 0) {
    throw new FormatError('llama2.c', src.name, `inconsistent header: dim ${dim}, heads ${nHeads}, kv heads ${nKvHeads}`);
  }
  return { version, ...fields, shared, dataOffset };
}

function configFrom(h: Header): ModelConfig {
  return validateConfig({
    architecture: 'llama',
    hiddenSize: h.dim, intermediateSize: h.hiddenDim, numLayers: h.nLayers,
    numHeads: h.nHeads, numKvHeads: h.nKvHeads, headDim: h.dim / h.nHeads,
    vocabSize: h.vocab, maxPositions: h.seqLen,
    rmsNormEps: 1e-5, ropeTheta: 10000, ropeStyle: 'interleaved',
    attentionBias: false, tieWordEmbeddings: h.shared,
    bosTokenId: 1, eosTokenId: 2,
  });
}

/** The arrays in file order: [canonical name or null for skipped tables, shape per layer or whole]. */
function layout(h: Header, c: ModelConfig): { names: string[]; shape: number[] }[] {
  const kv = c.numKvHeads * c.headDim;
  const per = (t: LayerTensor, shape: number[]) => ({
    names: Array.from({ length: c.numLayers }, (_, l) => layerName(l, t)), shape,
  });
  const D = c.hiddenSize, F = c.intermediateSize;
  const embed = { names: [EMBED], shape: [c.vocabSize, D] };
  // v1 (export.py version1_export) puts every norm first; v0 (legacy_export) interleaves them.
  const arrays = h.version === 1
    ? [per('input_layernorm.weight', [D]), per('post_attention_layernorm.weight', [D]), { names: [FINAL_NORM], shape: [D] }, embed]
    : [embed, per('input_layernorm.weight', [D])];
  arrays.push(
    per('self_attn.q_proj.weight', [D, D]), per('self_attn.k_proj.weight', [kv, D]), per('self_attn.v_proj.weight', [kv, D]),
    per('self_attn.o_proj.weight', [D, D]),
  );
  if (h.version === 0) arrays.push(per('post_attention_layernorm.weight', [D]));
  arrays.push(per('mlp.gate_proj.weight', [F, D]), per('mlp.down_proj.weight', [D, F]), per('mlp.up_proj.weight', [F, D]));
  if (h.version === 0) {
    arrays.push({ names: [FINAL_NORM], shape: [D] });
    const half = c.headDim / 2;
    // legacy freq_cis_real/imag tables: run.c skips them and so do we
    arrays.push({ names: [''], shape: [c.maxPositions, half] }, { names: [''], shape: [c.maxPositions, half] });
  }
  if (!h.shared) arrays.push({ names: [LM_HEAD], shape: [c.vocabSize, D] });
  return arrays;
}

export const isLlama2cV1 = (head: Uint8Array) =>
  head.length >= 4 && new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true) === MAGIC_V1;

/**
 * The file size the header implies, from the header alone: a corrupt header may claim 2^20 layers, and the
 * layout (one name per tensor) must not be built before the file is known to hold them.
 */
function impliedBytes(h: Header, c: ModelConfig): number {
  const D = c.hiddenSize, F = c.intermediateSize, kv = c.numKvHeads * c.headDim;
  const perLayer = 2 * D + 2 * D * D + 2 * kv * D + 3 * F * D;
  const legacyTables = h.version === 0 ? 2 * c.maxPositions * (c.headDim / 2) : 0;
  return h.dataOffset + 4 * (c.numLayers * perLayer + D + c.vocabSize * D * (h.shared ? 1 : 2) + legacyTables);
}

export async function readLlama2c(src: ByteSource, tokenizer?: TokenizerSpec, opts: LoadOptions = {}): Promise<Model> {
  const h = await readHeader(src);
  const config = configFrom(h);
  const expected = impliedBytes(h, config);
  // A shared-classifier file may omit the trailing legacy tables; anything else must match exactly.
  if (src.size !== expected) {
    throw new FormatError('llama2.c', src.name,
      `size ${src.size} bytes does not match the header (dim ${h.dim}, layers ${h.nLayers}, vocab ${h.vocab}), which implies ${expected}`);
  }
  const plan = layout(h, config);
  const tensors = new Map<string, Tensor>();
  let offset = h.dataOffset;
  let done = 0;
  const total = plan.reduce((s, a) => s + a.names.length, 0);
  for (const { names, shape } of plan) {
    const bytes = numel(shape) * 4;
    for (const name of names) {
      throwIfAborted(opts.signal);
      if (name) tensors.set(name, makeTensor(name, shape, 'f32', await src.read(offset, bytes)));
      offset += bytes;
      opts.onProgress?.({ done: ++done, total, stage: 'tensors' });
    }
  }
  if (offset !== expected) throw new Error(`llama2.c reader: the layout reads ${offset} bytes, the header implies ${expected}`);
  checkComplete(config, tensors, src.name);
  return { config, tensors, tokenizer, source: { format: 'llama2c', name: src.name } };
}
