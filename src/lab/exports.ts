// The download formats, one table: each turns a model into named files. A format that cannot hold the model
// (a dtype GGUF has no type for) says so by name.
import { exportGguf } from '../io/gguf-export';
import { exportHfFolder, fileBytes, type ExportFile } from '../io/hf-export';
import { writeLabArtifact } from '../io/lab-artifact';
import { exportTransformersJs } from '../io/onnx/export';
import { DTYPES } from '../model/dtype';
import type { Model } from '../model/model';

export interface OutFile { path: string; bytes: Uint8Array }

export interface ExportFormat {
  label: string;
  /** What a user gets, in one line. */
  note: string;
  files(model: Model, stem: string): Promise<OutFile[]>;
}

const flatten = (files: ExportFile[]): OutFile[] => files.map((f) => ({ path: f.path, bytes: fileBytes(f) }));

export const EXPORT_FORMATS = {
  gguf: {
    label: 'GGUF',
    note: 'one file for llama.cpp, Ollama, LM Studio, wllama',
    async files(model, stem) {
      const foreign = [...new Set([...model.tensors.values()].map((t) => t.dtype))].filter((d) => DTYPES[d].ggmlType === undefined);
      if (foreign.length) throw new Error(`GGUF has no type for ${foreign.join(', ')}; export safetensors or the lab artifact instead`);
      return [{ path: `${stem}.gguf`, bytes: exportGguf(model) }];
    },
  },
  safetensors: {
    label: 'safetensors + config',
    note: 'a Hugging Face folder (quantized tensors dequantized to f32)',
    async files(model) {
      return flatten(exportHfFolder(model));
    },
  },
  onnx: {
    label: 'ONNX',
    note: 'transformers.js folder: fp32 and 4-bit MatMulNBits decoders',
    async files(model) {
      return flatten(await exportTransformersJs(model));
    },
  },
  lab: {
    label: 'Lab artifact',
    note: 'one .safetensors keeping every dtype exactly (what the market takes)',
    async files(model, stem) {
      return [{ path: `${stem}.safetensors`, bytes: writeLabArtifact(model) }];
    },
  },
} satisfies Record<string, ExportFormat>;

export type ExportFormatId = keyof typeof EXPORT_FORMATS;
