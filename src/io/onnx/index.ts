// ONNX export (transformers.js layout) and a KV-cache runner for the exported decoder in onnxruntime.
export { buildDecoder, ONNX_OPSET, type DecoderOptions, type DecoderSignature } from './decoder';
export {
  defaultQ4, exportOnnxVariant, exportTransformersJs, onnxWeightBytes, ONNX_VARIANT_IDS, ONNX_VARIANTS,
  type ExportFile, type OnnxExportOptions, type OnnxFileSet, type OnnxVariant, type TransformersJsExportOptions,
} from './export';
export { defaultQ8, fitsQ8MatMulNBits, q8ToMatMulNBits } from './q8-weights';
export { GraphBuilder, type BuildOptions, type OnnxModelFiles } from './graph';
export { dequantMatMulNBits, exactScale, fitsMatMulNBits, quantizeMatMulNBits, toMatMulNBits, type MatMulNBitsWeight } from './matmul-nbits';
export { OrtDecoder, type OrtDecoderOptions, type OrtModule } from './ort-decoder';
export { decodeModel, encodeModel } from './proto';
