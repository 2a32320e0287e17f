// Calibration comes from the --task text, as the recipe's calibration block says (its `source` is not read:
// the predictor's signals and the evaluation are on that one task).
import { modelBytes } from '../../src/model/model';
import { candidateFeatures, PROBE_FEATURES } from '../../src/predict/features';
import { fitPredictor, minRecords, type Prediction } from '../../src/predict/predictor';
import { addRecord, loadRecords } from '../../src/predict/records';
import { recipeHash } from '../../src/recipe/hash';
import { runRecipe } from '../../src/recipe/runner';
import { num, parse, report, UsageError, type Command } from '../command';
import { DEFAULT_RECORDS, predictSetup, readRecipe } from '../predict-setup';

export const predictCommand: Command = {
  usage: `<model> --recipe <file.json | name> [--task tinystories] [--measure] [--chunks 8] [--records ${DEFAULT_RECORDS}] [--data DIR] [--json]`,
  summary: 'predict the quality a recipe loses (ppl increase with an interval) from cheap signals; --measure also evaluates and stores the result to learn from',
  async run(argv, signal) {
    const { values, positionals } = parse(argv, {
      recipe: { type: 'string' }, task: { type: 'string', default: 'tinystories' }, measure: { type: 'boolean' },
      chunks: { type: 'string' }, records: { type: 'string' }, data: { type: 'string' },
    });
    if (!values.recipe) throw new UsageError('--recipe is required');
    const recipe = readRecipe(values.recipe as string);
    const s = await predictSetup(positionals[0], {
      task: values.task as string, dataDir: values.data as string | undefined, chunks: num(values.chunks, 'chunks', 8), records: values.records as string | undefined, signal,
    });
    const hash = recipeHash(s.baseId, recipe);
    const { model } = await runRecipe(s.model, recipe, { calibration: s.calibrationFor(recipe.calibration), signal });
    let t = performance.now();
    const features = await candidateFeatures(s.signals, model, { probe: true, signal });
    const featureSeconds = (performance.now() - t) / 1000;
    const known = (await loadRecords(s.records, s.baseId)).filter((r) => r.recipeHash !== hash); // never predict from itself
    const predictions: Record<string, Prediction & { records: number }> = {};
    const missing: string[] = [];
    // the task's perplexity, and whatever else stored records measured (kld, accuracies)
    for (const target of new Set([`${s.task}:ppl`, ...known.flatMap((r) => Object.keys(r.measured))])) {
      const o = { target, features: PROBE_FEATURES };
      const n = known.filter((r) => target in r.measured).length;
      if (n < minRecords(o)) missing.push(`${target}: ${n} stored records, need ${minRecords(o)} (run lab predict --measure on more recipes)`);
      else predictions[target] = { ...fitPredictor(known, o).predict(features), records: n };
    }
    let measured: Record<string, number> | null = null, evalSeconds: number | null = null;
    if (values.measure) {
      t = performance.now();
      measured = await s.evaluate(model, signal);
      evalSeconds = (performance.now() - t) / 1000;
      await addRecord(s.records, { schema: 'lab.predict-record/1', base: s.baseId, recipeHash: hash, label: recipe.name, bytes: modelBytes(model), features, measured });
    }
    const out = { recipe: recipe.name, recipeHash: hash, bytes: modelBytes(model), features, predictions, missing, measured, seconds: { features: featureSeconds, evaluation: evalSeconds } };
    const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
    report(!!values.json, out, () => [
      `${recipe.name}: ${out.bytes.toLocaleString('en-US')} B; probe KLD ${features.probeKld.toExponential(3)} (${featureSeconds.toFixed(1)} s)`,
      ...Object.entries(predictions).map(([k, p]) => {
        const fmt = (x: number) => (k.endsWith(':ppl') ? `${x >= 0 ? '+' : ''}${pct(x)}` : x.toExponential(2));
        const interval = Number.isFinite(p.hi) ? `[${fmt(p.lo)}, ${fmt(p.hi)}] (${p.level * 100}% interval` : `(too few records for a ${p.level * 100}% interval`;
        return `predicted ${k}: ${fmt(p.value)} ${interval}, ${p.records} records)`;
      }),
      ...missing.map((m) => `no prediction for ${m}`),
      ...(measured ? Object.entries(measured).map(([k, v]) => `measured ${k}: ${k.endsWith(':ppl') ? `+${pct(v)}` : v} (${evalSeconds!.toFixed(1)} s), stored`) : []),
    ].join('\n'));
  },
};
