// Model IR -> a transformers.js model folder: onnx/model.onnx (fp32), onnx/model_fp16.onnx (float16),
// onnx/model_q4.onnx (4-bit MatMulNBits), onnx/model_quantized.onnx (Q8_0 in 8-bit MatMulNBits, transformers.js 'q8'),
// config.json, generation_config.json, tokenizer.json, tokenizer_config.json. Large models put their weights
// in external data files (onnx/model.onnx_data, _data_1 ...) that config.json's transformers.js_config names.
import { encode } from '../../model/dtype';
import { parseIntId } from '../../model/dtypes/intn';
import type { Model } from '../../model/model';
import { makeTensor, numel, toFloat32 } from '../../model/tensor';
import { isLinearWeight } from '../../passes/quant/common';
import { exportFile, hfMetadataFiles, type ExportFile } from '../hf-export';
import { buildDecoder, type DecoderOptions, type DecoderSignature } from './decoder';
import { fitsMatMulNBits, quantizeMatMulNBits } from './matmul-nbits';
import { defaultQ8, fitsQ8MatMulNBits } from './q8-weights';

export type { ExportFile } from '../hf-export';

/**
 * The ONNX files of a transformers.js folder, by its dtype names: the file, whether 4-bit weights stay 4-bit
 * and Q8_0 weights stay 8-bit (MatMulNBits), whether the graph computes in float16.
 */
export const ONNX_VARIANTS = {
  fp32: { file: 'model', matmulNBits: false, q8MatMulNBits: false, float16: false },
  fp16: { file: 'model_fp16', matmulNBits: false, q8MatMulNBits: false, float16: true },
  q4: { file: 'model_q4', matmulNBits: true, q8MatMulNBits: false, float16: false },
  q8: { file: 'model_quantized', matmulNBits: false, q8MatMulNBits: true, float16: false },
} as const;
export type OnnxVariant = keyof typeof ONNX_VARIANTS;

export interface OnnxExportOptions {
  /** MatMulNBits accuracy_level (written explicitly; see DecoderOptions). Default 1 (fp32). */
  accuracyLevel?: DecoderOptions['accuracyLevel'];
  /**
   * Weights in external data files: true, false, or 'auto' (default): when the weights exceed
   * `autoExternalBytes` (default 1.5 GiB; protobuf cannot hold a 2 GB message).
   */
  externalData?: boolean | 'auto';
  autoExternalBytes?: number;
  /** Most bytes of one external data file (default 1 GiB). */
  externalChunkBytes?: number;
}

export interface OnnxFileSet {
  /** onnx/NAME.onnx, then its external data files if any. */
  files: ExportFile[];
  signature: DecoderSignature;
  /** Number of external data files (transformers.js's use_external_data_format for this file). */
  externalChunks: number;
}

/** One ONNX decoder file (and its external data) of a transformers.js folder. */
export function exportOnnxVariant(model: Model, variant: OnnxVariant, opts: OnnxExportOptions = {}): OnnxFileSet {
  const { file, matmulNBits, q8MatMulNBits, float16 } = ONNX_VARIANTS[variant];
  const base = `${file}.onnx`;
  const build = (external: boolean) => buildDecoder(model, {
    matmulNBits, q8MatMulNBits, float16,
    accuracyLevel: opts.accuracyLevel,
    build: external ? { externalData: `${base}_data`, externalChunkBytes: opts.externalChunkBytes } : {},
  });
  const mode = opts.externalData ?? 'auto';
  const built = build(mode === true || (mode === 'auto' && onnxWeightBytes(model, variant) > (opts.autoExternalBytes ?? 1.5 * 2 ** 30)));
  if (matmulNBits && built.signature.quantized.length === 0) {
    throw new Error(`${base}: the model has no 4-bit weights of our int family to put in MatMulNBits; quantize it first (defaultQ4, or an int4 pass)`);
  }
  if (q8MatMulNBits && built.signature.quantized.length === 0) {
    throw new Error(`${base}: the model has no q8_0 weights to put in 8-bit MatMulNBits; quantize it first (defaultQ8, or a q8_0 pass)`);
  }
  const files = [
    exportFile(`onnx/${base}`, built.files.onnx),
    ...built.files.external.map((e) => exportFile(`onnx/${e.name}`, e.parts)),
  ];
  return { files, signature: built.signature, externalChunks: built.files.external.length };
}

/**
 * The 4-bit model a q4 export uses when none is given: every block linear round-to-nearest int4 with integer
 * zero points (group 32, or 16 where 32 does not divide a row; f16 where neither does, as our passes do), so
 * MatMulNBits runs it on onnxruntime-web's WebGPU kernel too. Weights already 4-bit in our int family, the
 * embedding and the output projection stay as they are.
 */
export async function defaultQ4(model: Model): Promise<Model> {
  const tensors = new Map(model.tensors);
  for (const [name, t] of model.tensors) {
    if (!isLinearWeight(name) || t.shape.length !== 2 || fitsMatMulNBits(t)) continue; // 4-bit already: kept as it is
    const group = ([32, 16] as const).find((g) => t.shape[1] % g === 0);
    tensors.set(name, group ? quantizeMatMulNBits(t, group) : makeTensor(name, t.shape, 'f16', encode('f16', toFloat32(t))));
  }
  return { ...model, tensors };
}

export interface TransformersJsExportOptions extends OnnxExportOptions {
  /** Which ONNX files to write (default all four: fp32, fp16, q4, q8). */
  variants?: readonly OnnxVariant[];
  /**
   * The model for model_q4.onnx: its 4-bit int tensors become MatMulNBits as they are, so the file computes
   * what this model computes. Default: `defaultQ4(model)`.
   */
  q4Model?: Model;
  /** The model for model_quantized.onnx (its q8_0 tensors become 8-bit MatMulNBits). Default: `defaultQ8(model)`. */
  q8Model?: Model;
}

export async function exportTransformersJs(model: Model, opts: TransformersJsExportOptions = {}): Promise<ExportFile[]> {
  const variants = opts.variants ?? ONNX_VARIANT_IDS;
  const onnx: ExportFile[] = [];
  const external: Record<string, number> = {};
  for (const v of variants) {
    const source = v === 'q4' ? (opts.q4Model ?? (await defaultQ4(model))) : v === 'q8' ? (opts.q8Model ?? (await defaultQ8(model))) : model;
    const set = exportOnnxVariant(source, v, opts);
    onnx.push(...set.files);
    if (set.externalChunks) external[`${ONNX_VARIANTS[v].file}.onnx`] = set.externalChunks;
  }
  const jsConfig = Object.keys(external).length ? { 'transformers.js_config': { use_external_data_format: external } } : {};
  return [...hfMetadataFiles(model, jsConfig), ...onnx];
}

export const ONNX_VARIANT_IDS = Object.keys(ONNX_VARIANTS) as OnnxVariant[];

/**
 * Bytes of the initializers a decoder will carry: 4 (fp16: 2) per float weight, MatMulNBits' B + scales +
 * zero points (4-bit in q4, 8-bit in q8).
 */
export function onnxWeightBytes(model: Model, variant: OnnxVariant): number {
  const v = ONNX_VARIANTS[variant];
  let bytes = 0;
  for (const t of model.tensors.values()) {
    const n = numel(t.shape);
    const int = parseIntId(t.dtype);
    if (v.matmulNBits && int && fitsMatMulNBits(t)) bytes += (n * int.bits) / 8 + (8 * n) / int.group;
    else if (v.q8MatMulNBits && fitsQ8MatMulNBits(t)) bytes += n + (5 * n) / 32;
    else bytes += (v.float16 ? 2 : 4) * n;
  }
  return bytes;
}
