import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { RECIPES_DIR } from '../../node/paths';
import { parseRecipe } from '../../src/recipe/schema';
import { parse, report, UsageError, type Command } from '../command';
import { compress, summary } from '../compress-run';
import { openModel, tokenizerOf } from '../load';

export const compressCommand: Command = {
  usage: '<model> --recipe <file.json | name in static/recipes> [--calib <file|task>] [--data DIR] [--out x.gguf|x.safetensors] [--json]',
  summary: 'apply a recipe (passes in order, calibration as it says) and write the compressed model',
  async run(argv, signal) {
    const { values, positionals } = parse(argv, {
      recipe: { type: 'string' }, calib: { type: 'string' }, data: { type: 'string' }, out: { type: 'string' },
    });
    const name = values.recipe as string | undefined;
    if (!name) throw new UsageError('--recipe is required');
    const path = existsSync(name) ? name : resolve(RECIPES_DIR, `${name}.json`);
    if (!existsSync(path)) throw new UsageError(`recipe "${name}" is neither a file nor one of static/recipes`);
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new Error(`${path}: not JSON (${(e as Error).message})`);
    }
    const recipe = parseRecipe(json, path);
    const model = await openModel(positionals[0], signal);
    const o = await compress(positionals[0]!, model, tokenizerOf(model), recipe, {
      calib: values.calib as string | undefined, dataDir: values.data as string | undefined, out: values.out as string | undefined, signal,
      recipeDir: dirname(resolve(path)),
    });
    report(!!values.json, o as unknown as Record<string, unknown>, () => summary(o));
  },
};
