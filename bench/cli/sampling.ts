// Token sampling ns/token, full-sort reference vs sample (bench/sampling.ts); writes bench/results/sampling-<date>.json.
import { benchSampling, SAMPLING_VOCABS } from '../sampling';
import { cliArgs } from './args';

const values = cliArgs(`node --import ./node/register.mjs bench/cli/sampling.ts [--vocab ${SAMPLING_VOCABS.join(',')}] [--ms 500]`, {
  vocab: { type: 'string' }, ms: { type: 'string' },
});
benchSampling({ vocabs: values.vocab?.split(',').map(Number), minMs: values.ms ? Number(values.ms) : undefined });
