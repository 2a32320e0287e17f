// The export buttons, in the order shown (labels match src/lab/exports.ts, which the worker runs).
import type { ExportFormatId } from '../lab/exports';

export const EXPORT_LABELS: { id: ExportFormatId; label: string; note: string }[] = [
  { id: 'gguf', label: 'GGUF', note: 'llama.cpp, Ollama, LM Studio, wllama' },
  { id: 'safetensors', label: 'safetensors + config', note: 'Hugging Face folder as one .tar (quantized tensors as f32)' },
  { id: 'onnx', label: 'ONNX', note: 'transformers.js folder as one .tar: fp32 and 4-bit MatMulNBits' },
  { id: 'lab', label: 'lab artifact', note: 'one .safetensors keeping every dtype (the market takes it)' },
];
