import { parseRecipe } from '../../src/recipe/schema';
import { num, parse, report, UsageError, type Command } from '../command';
import { compress, summary } from '../compress-run';
import { openModel, tokenizerOf } from '../load';
import { parseBytes } from '../size';

const METHODS = ['rtn', 'hqq', 'gptq', 'awq'] as const;

export const quantCommand: Command = {
  usage: '<model> --method rtn|hqq|gptq|awq (--bits 2|3|4|8 [--group 32] | --dtype q4_0 | --budget 300KB) [--calib <file|task>] [--out PATH] [--json]',
  summary: 'quantize with one method: a fixed format, or mixed precision chosen per tensor to fit a byte budget',
  async run(argv, signal) {
    const { values, positionals } = parse(argv, {
      method: { type: 'string', default: 'gptq' }, bits: { type: 'string' }, group: { type: 'string' }, dtype: { type: 'string' },
      budget: { type: 'string' }, calib: { type: 'string' }, data: { type: 'string' }, out: { type: 'string' },
      sequences: { type: 'string' }, length: { type: 'string' }, seed: { type: 'string' },
    });
    const method = values.method as (typeof METHODS)[number];
    if (!METHODS.includes(method)) throw new UsageError(`--method must be one of ${METHODS.join(', ')}`);
    const dtype = (values.dtype as string | undefined) ?? `int${num(values.bits, 'bits', 4)}_g${num(values.group, 'group', 32)}`;
    const step = values.budget
      ? { pass: 'mixed', params: { budget: parseBytes(values.budget as string, 'budget'), method } }
      : { pass: method, params: { dtype, embedding: dtype, lmHead: dtype.startsWith('q') ? 'q8_0' : 'int8_g64' } };
    const recipe = parseRecipe({
      schema: 'lab.recipe/1',
      name: values.budget ? `${method}-mixed-${values.budget}` : `${method}-${dtype}`,
      calibration: {
        sequences: num(values.sequences, 'sequences', 32), length: num(values.length, 'length', 128), seed: num(values.seed, 'seed', 1),
      },
      passes: [step],
    }, 'command line');
    const model = await openModel(positionals[0], signal);
    const o = await compress(positionals[0]!, model, tokenizerOf(model), recipe, {
      calib: values.calib as string | undefined, dataDir: values.data as string | undefined, out: values.out as string | undefined, signal,
    });
    report(!!values.json, o as unknown as Record<string, unknown>, () => summary(o));
  },
};
