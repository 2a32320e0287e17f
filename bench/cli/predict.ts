// The predictor's cost against the full evaluation (bench/predict.ts); writes bench/results/predict-<date>.json.
import { benchPredict } from '../predict';
import { cliArgs } from './args';

const values = cliArgs('node --import ./node/register.mjs bench/cli/predict.ts [--full-chunks N]', { 'full-chunks': { type: 'string' } });
await benchPredict({ fullChunks: values['full-chunks'] ? Number(values['full-chunks']) : undefined });
