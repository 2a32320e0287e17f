// Time per quantization method on stories260K (CPU reference): the one-off calibration run, then each pass
// with its statistics cached (what a second method on the same model and calibration costs), with the
// bytes it produces and a short perplexity check. Prints a table and writes bench/results/quant-<date>.json.
//   node --import ./node/register.mjs bench/cli/quant.ts
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fileSetFromPath } from '../node/files';
import { perplexity } from '../src/eval/perplexity';
import { loadModel } from '../src/io/load';
import { modelBytes } from '../src/model/model';
import { createTokenizer } from '../src/model/tokenizer/index';
import { calibrationFromTokens } from '../src/passes/calibration';
import { passes, type PassId } from '../src/passes/index';
import { linearStats } from '../src/passes/quant/common';
import { CpuRuntime } from '../src/runtime/cpu-reference';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = process.env.SHARED_DIR ?? resolve(REPO, '../shared');

const CASES: [label: string, id: PassId, params: Record<string, unknown>][] = [
  ['RTN q4_0 (llama.cpp mix)', 'rtn', { dtype: 'q4_0', embedding: 'q4_0', lmHead: 'q8_0' }],
  ['RTN int4_g32', 'rtn', { dtype: 'int4_g32', embedding: 'int4_g32', lmHead: 'int8_g64' }],
  ['HQQ int4_g32', 'hqq', { dtype: 'int4_g32', embedding: 'int4_g32', lmHead: 'int8_g64' }],
  ['GPTQ int4_g32', 'gptq', { dtype: 'int4_g32', embedding: 'int4_g32', lmHead: 'int8_g64' }],
  ['AWQ int4_g32', 'awq', { dtype: 'int4_g32', embedding: 'int4_g32', lmHead: 'int8_g64' }],
  ['Mixed (GPTQ) <= 262624 B', 'mixed', { budget: 262_624, method: 'gptq' }],
];

interface BenchRow { method: string; pass: PassId | null; ms: number; bytes: number; ppl4: number }

export async function benchQuant(): Promise<object> {
  const model = await loadModel(fileSetFromPath(resolve(SHARED, 'models/stories260K/stories260K.gguf')));
  const tokens = createTokenizer(model.tokenizer!).encode(readFileSync(resolve(SHARED, 'data/tinystories/valid_a.txt'), 'utf8'));
  const half = Math.floor(tokens.length / 2);
  const calibration = calibrationFromTokens(tokens.slice(half), 32, 128, 1, model.config.bosTokenId, `valid_a.txt tokens ${half}+`);
  const ppl = async (m: typeof model) =>
    (await perplexity(new CpuRuntime(m, { maxPositions: 512 }), tokens, { contextLength: 512, maxChunks: 4, bosId: model.config.bosTokenId })).ppl;

  let t = performance.now();
  await linearStats(model, calibration, {});
  const calibrationMs = performance.now() - t;
  const rows: BenchRow[] = [{ method: 'F32', pass: null, ms: 0, bytes: modelBytes(model), ppl4: await ppl(model) }];
  for (const [method, id, params] of CASES) {
    const pass = passes[id];
    t = performance.now();
    const out = await pass.apply(model, pass.params.parse(params) as never, { calibration });
    rows.push({ method, pass: id, ms: performance.now() - t, bytes: modelBytes(out), ppl4: await ppl(out) });
  }

  console.log(`quantization on stories260K, CPU reference; calibration (${calibration.description}): ${calibrationMs.toFixed(0)} ms, shared by the methods that need it`);
  console.log(`${'method'.padEnd(26)} ${'time (ms)'.padStart(10)} ${'bytes'.padStart(9)} ${'ppl (4 chunks)'.padStart(15)}`);
  for (const r of rows) console.log(`${r.method.padEnd(26)} ${r.ms.toFixed(0).padStart(10)} ${String(r.bytes).padStart(9)} ${r.ppl4.toFixed(4).padStart(15)}`);

  const result = { bench: 'quant', date: new Date().toISOString(), model: 'stories260K', device: 'cpu-reference', calibration: calibration.description, calibrationMs, rows };
  const file = resolve(REPO, `bench/results/quant-${result.date.slice(0, 10)}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote ${file}`);
  return result;
}
