// `lab export`: a model as the files other runtimes load. onnx: a transformers.js folder with every decoder
// variant asked for (model.onnx, model_fp16.onnx, model_q4.onnx, model_quantized.onnx); gguf: one file for
// llama.cpp-family runtimes in one dtype; hf: safetensors + config.json. Files are written part by part.
import { existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { writeExportFiles } from '../../node/export-dir';
import { exportGgufParts } from '../../src/io/gguf-export';
import { exportFile, exportHfFolder, type ExportFile } from '../../src/io/hf-export';
import { exportTransformersJs, ONNX_VARIANT_IDS, type OnnxVariant } from '../../src/io/onnx/export';
import { DTYPES, type DTypeId } from '../../src/model/dtype';
import type { Model } from '../../src/model/model';
import { passes } from '../../src/passes/index';
import { endProgress, parse, progressLine, report, UsageError, type Command } from '../command';
import { openModel } from '../load';

const GGUF_DTYPES = ['keep', 'f32', 'f16', 'q8_0', 'q4_0'] as const;
const HF_DTYPES = ['f32', 'f16'] as const;

/** Every block linear, the embedding and the output projection in `dtype` (rows no block fits go f16). */
async function castLinears(model: Model, dtype: DTypeId, lmHead: DTypeId, signal: AbortSignal): Promise<Model> {
  const params = passes.rtn.params.parse({ dtype, embedding: dtype, lmHead });
  return passes.rtn.apply(model, params, { signal, onProgress: progressLine });
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], fallback: T, flag: string): T {
  const v = (value ?? fallback) as T;
  if (!allowed.includes(v)) throw new UsageError(`--${flag} ${value}: use one of ${allowed.join(', ')}`);
  return v;
}

const FORMATS = {
  async onnx(model: Model, dtype: string | undefined, external: boolean | undefined): Promise<ExportFile[]> {
    const variants = (dtype ?? ONNX_VARIANT_IDS.join(',')).split(',').map((v) => oneOf(v.trim(), ONNX_VARIANT_IDS, 'fp32', 'dtype')) as OnnxVariant[];
    return exportTransformersJs(model, { variants, externalData: external ?? 'auto' });
  },
  async gguf(model: Model, dtype: string | undefined, _external: boolean | undefined, out: string, signal: AbortSignal): Promise<ExportFile[]> {
    const d = oneOf(dtype, GGUF_DTYPES, 'keep', 'dtype');
    // llama.cpp's own Q4_0 files keep the output projection at higher precision; ours is Q8_0
    const m = d === 'keep' ? model : await castLinears(model, d, d === 'q4_0' ? 'q8_0' : d, signal);
    const foreign = [...new Set([...m.tensors.values()].map((t) => t.dtype))].filter((x) => DTYPES[x].ggmlType === undefined);
    if (foreign.length) throw new UsageError(`GGUF has no type for ${foreign.join(', ')}; pass --dtype ${GGUF_DTYPES.slice(1).join('|')} or use --format hf`);
    return [exportFile(basename(out), exportGgufParts(m))];
  },
  async hf(model: Model, dtype: string | undefined, _external: boolean | undefined, _out: string, signal: AbortSignal): Promise<ExportFile[]> {
    const d = oneOf(dtype, HF_DTYPES, 'f32', 'dtype');
    return exportHfFolder(d === 'f16' ? await castLinears(model, 'f16', 'f16', signal) : model, { dequantizeTo: d });
  },
};
type FormatId = keyof typeof FORMATS;

export const exportCommand: Command = {
  usage: '<model> --format onnx|gguf|hf --out DIR|FILE [--dtype fp32,fp16,q4,q8 | f32|f16|q8_0|q4_0 | f32|f16] [--external-data] [--json]',
  summary: 'write the model for other runtimes: a transformers.js ONNX folder (every dtype), a GGUF file, or an HF safetensors folder',
  async run(argv, signal) {
    const { values, positionals } = parse(argv, {
      format: { type: 'string' }, out: { type: 'string' }, dtype: { type: 'string' }, 'external-data': { type: 'boolean' },
    });
    const format = values.format as string | undefined;
    if (!format || !(format in FORMATS)) throw new UsageError(`--format must be one of ${Object.keys(FORMATS).join(', ')}`);
    const out = values.out as string | undefined;
    if (!out) throw new UsageError('--out is required (a folder for onnx and hf, a .gguf file for gguf)');
    if (format === 'gguf' && !out.endsWith('.gguf')) throw new UsageError(`--out ${out}: a GGUF export is one file; name it *.gguf`);
    if (format !== 'gguf' && existsSync(out) && !statSync(out).isDirectory()) throw new UsageError(`--out ${out}: ${format} writes a folder, and this is a file`);
    const model = await openModel(positionals[0], signal);
    const t0 = performance.now();
    const files = await FORMATS[format as FormatId](model, values.dtype as string | undefined, values['external-data'] as boolean | undefined, out, signal);
    endProgress();
    writeExportFiles(format === 'gguf' ? (out.slice(0, -basename(out).length) || '.') : out, files);
    const result = {
      format, out, files: files.map((f) => ({ path: f.path, bytes: f.bytes })),
      bytes: files.reduce((s, f) => s + f.bytes, 0), seconds: (performance.now() - t0) / 1000,
    };
    report(!!values.json, result, () => [
      ...result.files.map((f) => `${f.bytes.toLocaleString('en-US').padStart(14)}  ${f.path}`),
      `wrote ${result.files.length} file(s), ${result.bytes.toLocaleString('en-US')} bytes, to ${out} in ${result.seconds.toFixed(1)} s`,
    ].join('\n'));
  },
};
