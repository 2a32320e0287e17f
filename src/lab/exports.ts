// The download formats, one table: each turns a model into named files. A format that cannot hold the model
// (a dtype GGUF has no type for) says so by name. Files are lists of byte parts (headers, then each tensor's
// own bytes), never joined: a browser cannot make one ArrayBuffer of a multi-GB model, but a Blob of parts,
// the tar writer and the cache take them as they are.
import { exportGgufParts } from '../io/gguf-export';
import { exportFile, exportHfFolder, type ExportFile } from '../io/hf-export';
import { labArtifactParts } from '../io/lab-artifact';
import { exportTransformersJs } from '../io/onnx/export';
import { DTYPES } from '../model/dtype';
import type { Model } from '../model/model';

export type { ExportFile } from '../io/hf-export';

export interface ExportFormat {
  label: string;
  /** What a user gets, in one line. */
  note: string;
  files(model: Model, stem: string): Promise<ExportFile[]>;
}

export const EXPORT_FORMATS = {
  gguf: {
    label: 'GGUF',
    note: 'one file for llama.cpp, Ollama, LM Studio, wllama',
    async files(model, stem) {
      const foreign = [...new Set([...model.tensors.values()].map((t) => t.dtype))].filter((d) => DTYPES[d].ggmlType === undefined);
      if (foreign.length) throw new Error(`GGUF has no type for ${foreign.join(', ')}; export safetensors or the lab artifact instead`);
      return [exportFile(`${stem}.gguf`, exportGgufParts(model))];
    },
  },
  safetensors: {
    label: 'safetensors + config',
    note: 'a Hugging Face folder (quantized tensors dequantized to f32)',
    async files(model) {
      return exportHfFolder(model);
    },
  },
  onnx: {
    label: 'ONNX',
    note: 'transformers.js folder: fp32 and 4-bit MatMulNBits decoders',
    async files(model) {
      return exportTransformersJs(model);
    },
  },
  lab: {
    label: 'Lab artifact',
    note: 'one .safetensors keeping every dtype exactly (what the market takes)',
    async files(model, stem) {
      return [exportFile(`${stem}.safetensors`, labArtifactParts(model))];
    },
  },
} satisfies Record<string, ExportFormat>;

export type ExportFormatId = keyof typeof EXPORT_FORMATS;

/** Parts as a Blob part list (the DOM's BlobPart type wants ArrayBuffer-backed views; ours are). */
export const blobOf = (parts: readonly Uint8Array[], type = 'application/octet-stream') => new Blob(parts as unknown as BlobPart[], { type });
