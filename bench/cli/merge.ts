// Merge throughput per method (bench/merge.ts); writes bench/results/merge-<shape>-<date>.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import { SHAPES } from '../forward';
import { benchMerge, formatMergeTable, MERGE_SMALL } from '../merge';
import { resultsPath } from '../results-dir';
import { cliArgs } from './args';

const values = cliArgs(`node --import ./node/register.mjs bench/cli/merge.ts [--shape ${Object.keys(SHAPES).join('|')}]`, {
  shape: { type: 'string' },
});
const config = values.shape ? SHAPES[values.shape] : MERGE_SMALL;
if (!config) throw new Error(`unknown --shape ${values.shape}; known: ${Object.keys(SHAPES).join(', ')}`);
const rows = await benchMerge(config);
console.log(`merge per method, 3 random models (${values.shape ?? 'small'}), lazy stores -> streamed artifact, CPU (${cpus()[0]?.model}):`);
console.log(formatMergeTable(rows));
const date = new Date().toISOString();
const file = resultsPath(`merge-${values.shape ?? 'small'}-${date.slice(0, 10)}.json`);
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, JSON.stringify({ bench: 'merge', date, shape: values.shape ?? 'small', config, cpu: cpus()[0]?.model, cores: cpus().length, rows }, null, 2) + '\n');
console.log(`wrote ${file}`);
