import type { DTypeId } from '../dtype';

export interface DTypeTraits {
  readonly id: DTypeId;
  /** One line for people: what the format is and who reads it. */
  readonly summary: string;
  /** Weights per block; 1 for plain element types. */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly blockBytes: number;
  /** Quantization levels' bit width (16/32 for floats). */
  readonly bits: number;
  /** Whether zero is representable exactly without an offset (x = d * (q - c)) or an offset is stored. */
  readonly symmetric: boolean;
  /** ggml_type id in GGUF files, when llama.cpp has this format. */
  readonly ggmlType?: number;
  /** Safetensors dtype string, when the format has one. */
  readonly safetensors?: string;
  /** ONNX operator that consumes this layout directly (after a relayout, see io/onnx). */
  readonly onnx?: 'MatMulNBits';
  /** Decode `count` weights starting at byte 0 of `src` into `dst` (count is a multiple of blockSize). */
  decode(src: Uint8Array, dst: Float32Array, count: number): void;
  /** Encode `count` weights into `dst` with the format's reference (round-to-nearest) quantizer. */
  encode(src: Float32Array, dst: Uint8Array, count: number): void;
}

export const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** C's roundf: halves away from zero (Math.round sends -2.5 to -2). */
export const roundAway = (x: number) => Math.sign(x) * Math.round(Math.abs(x));
