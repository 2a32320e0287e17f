// Training throughput, healing and fine-tuning (bench/train.ts); writes bench/results/{train,heal,finetune}-<adapter>-<date>.json.
import { getNodeGpuDevice } from '../../node/gpu';
import { benchTrain, TRAIN_BENCH_DEFAULTS } from '../train';
import { cliArgs } from './args';

const values = cliArgs('node --import ./node/register.mjs bench/cli/train.ts [--steps 8] [--heal-steps 60] [--finetune-steps 40] [--no-heal]', {
  steps: { type: 'string', default: String(TRAIN_BENCH_DEFAULTS.steps) },
  'heal-steps': { type: 'string', default: String(TRAIN_BENCH_DEFAULTS.healSteps) },
  'finetune-steps': { type: 'string', default: String(TRAIN_BENCH_DEFAULTS.finetuneSteps) },
  'no-heal': { type: 'boolean', default: false },
});
await benchTrain(await getNodeGpuDevice(), {
  ...TRAIN_BENCH_DEFAULTS, steps: Number(values.steps), healSteps: values['no-heal'] ? 0 : Number(values['heal-steps']),
  finetuneSteps: Number(values['finetune-steps']),
});
process.exit(0); // Dawn keeps the event loop alive otherwise
