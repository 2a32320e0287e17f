// Matmul throughput per weight format on WebGPU (bench/matmul.ts); writes bench/results/matmul-<adapter>-<date>.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { getNodeGpuDevice } from '../../node/gpu';
import { benchMatmul } from '../matmul';
import { resultsPath } from '../results-dir';
import { cliArgs } from './args';

const values = cliArgs('node --import ./node/register.mjs bench/cli/matmul.ts [--dim 4096] [--rows 128]', {
  dim: { type: 'string' }, rows: { type: 'string' },
});
const result = await benchMatmul(await getNodeGpuDevice(), {
  dim: values.dim ? Number(values.dim) : undefined, prefillRows: values.rows ? Number(values.rows) : undefined,
}) as { date: string; adapter: Record<string, string> };
// the adapter in the name, so runs on different machines on the same day do not overwrite each other
const a = result.adapter;
const slug = (a.architecture || a.device || a.vendor || 'gpu').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
const file = resultsPath(`matmul-${slug}-${result.date.slice(0, 10)}.json`);
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
console.log(`wrote ${file}`);
process.exit(0); // Dawn keeps the event loop alive otherwise
