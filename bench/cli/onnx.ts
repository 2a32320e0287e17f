// Our WebGPU decode vs onnxruntime-web's in Chromium (bench/onnx.ts); prints the table.
import { benchOnnx, formatOnnxTable } from '../onnx';
import { cliArgs } from './args';

const values = cliArgs('node --import ./node/register.mjs bench/cli/onnx.ts [--prompt 32] [--decode 64] [--repeats 3]', {
  prompt: { type: 'string', default: '32' }, decode: { type: 'string', default: '64' }, repeats: { type: 'string', default: '3' },
});
const result = await benchOnnx({ promptTokens: Number(values.prompt), decodeTokens: Number(values.decode), repeats: Number(values.repeats) });
console.log(formatOnnxTable(result));
process.exit(0);
