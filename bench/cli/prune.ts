// Sparse matmul vs dense and bytes per pruning method (bench/prune.ts); writes bench/results/prune-<adapter>-<date>.json.
import { getNodeGpuDevice } from '../../node/gpu';
import { benchPrune } from '../prune';
import { cliArgs } from './args';

const values = cliArgs('node --import ./node/register.mjs bench/cli/prune.ts [--dim 4096]', { dim: { type: 'string' } });
await benchPrune(await getNodeGpuDevice(), values.dim ? Number(values.dim) : undefined);
process.exit(0); // Dawn keeps the event loop alive otherwise
