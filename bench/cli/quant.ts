// Time per quantization method (bench/quant.ts); writes bench/results/quant-<date>.json.
import { benchQuant } from '../quant';
import { cliArgs } from './args';

cliArgs('node --import ./node/register.mjs bench/cli/quant.ts', {});
await benchQuant();
