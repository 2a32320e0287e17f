import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { jsonFileStore } from '../../node/json-store';
import type { DTypeId } from '../../src/model/dtype';
import { DTYPES } from '../../src/model/dtype';
import { addRecord, loadRecords } from '../../src/predict/records';
import { parseLimit, SearchRequest } from '../../src/search/request';
import { search } from '../../src/search/search';
import { weightBound } from '../../src/search/memory';
import { DEFAULT_SPACE, searchSpace } from '../../src/search/space';
import { num, parse, progressLine, endProgress, report, UsageError, type Command } from '../command';
import { DEFAULT_RECORDS, predictSetup } from '../predict-setup';
import { parseBytes } from '../size';

const list = (v: unknown) => (v === undefined ? undefined : String(v).split(',').map((x) => x.trim()).filter(Boolean));

export const searchCommand: Command = {
  usage: `<model> [--objective min-ppl|min-bytes] [--max-bytes 300KB] [--max-ram 3MB] [--task tinystories:ppl<=+5% ...] [--budget-s 120] [--state .lab/search-state.json] [--out recipe.json] [--methods rtn,hqq,gptq,awq] [--dtypes int4_g32,...] [--sparsity 0.1|none] [--chunks 8] [--max-evals 3] [--probe-top 6] [--records ${DEFAULT_RECORDS}] [--data DIR] [--json]`,
  summary: 'search recipes for the least perplexity (min-ppl) or the smallest file (min-bytes) under constraints (bytes, estimated RAM, quality limits), guided by the predictor; resumable; the best is verified by a full evaluation',
  async run(argv, signal) {
    const { values, positionals } = parse(argv, {
      'max-bytes': { type: 'string' }, 'max-ram': { type: 'string' }, task: { type: 'string', multiple: true }, objective: { type: 'string' }, 'budget-s': { type: 'string' },
      state: { type: 'string', default: '.lab/search-state.json' }, out: { type: 'string' }, methods: { type: 'string' }, dtypes: { type: 'string' },
      sparsity: { type: 'string' }, chunks: { type: 'string' }, 'max-evals': { type: 'string' }, 'probe-top': { type: 'string' },
      records: { type: 'string' }, data: { type: 'string' },
    });
    let limits;
    try {
      limits = ((values.task as string[] | undefined) ?? []).map(parseLimit);
    } catch (e) {
      throw new UsageError(`--task ${(e as Error).message}`);
    }
    // --objective is the goal; a "<task>:ppl" (what it used to take) still means min-ppl on that task
    const given = values.objective as string | undefined;
    const goal = given === undefined || given.endsWith(':ppl') ? 'min-ppl' : given;
    if (goal !== 'min-ppl' && goal !== 'min-bytes') throw new UsageError(`--objective: "${given}" is not min-ppl or min-bytes`);
    if (goal === 'min-bytes' && limits.length === 0) throw new UsageError('--objective min-bytes needs a quality limit to stay within (e.g. --task tinystories:ppl<=+5%)');
    const objective = given?.endsWith(':ppl') ? given : limits[0]?.target ?? 'tinystories:ppl';
    for (const t of [objective, ...limits.map((l) => l.target)]) {
      if (!t.endsWith(':ppl') || t.split(':')[0] !== objective.split(':')[0]) throw new UsageError(`lab search measures one task's perplexity ("<task>:ppl"); got "${t}" with objective "${objective}"`);
    }
    const bytes = (flag: 'max-bytes' | 'max-ram') => (values[flag] ? parseBytes(values[flag] as string, flag) : undefined);
    const request = SearchRequest.parse({ maxBytes: bytes('max-bytes'), maxRamBytes: bytes('max-ram'), limits, objective, goal });
    const methods = list(values.methods) ?? [...DEFAULT_SPACE.methods];
    for (const m of methods) if (!(DEFAULT_SPACE.methods as readonly string[]).includes(m)) throw new UsageError(`--methods: "${m}" is not one of ${DEFAULT_SPACE.methods.join(', ')}`);
    const dtypes = list(values.dtypes) ?? [...DEFAULT_SPACE.dtypes];
    for (const d of dtypes) if (!(d in DTYPES)) throw new UsageError(`--dtypes: unknown dtype "${d}"`);
    const sparsity = values.sparsity === 'none' ? [] : (list(values.sparsity) ?? DEFAULT_SPACE.sparsity.map(String)).map(Number);
    if (sparsity.some((x) => !(x > 0 && x < 1))) throw new UsageError('--sparsity: fractions in (0, 1), comma separated, or "none"');

    const s = await predictSetup(positionals[0], {
      task: objective.split(':')[0], dataDir: values.data as string | undefined, chunks: num(values.chunks, 'chunks', 8), records: values.records as string | undefined, signal,
    });
    const candidates = searchSpace(s.model, s.signals, weightBound(s.model.config, request), { methods: methods as typeof DEFAULT_SPACE.methods, dtypes: dtypes as DTypeId[], sparsity });
    const r = await search({
      base: s.signals, baseId: s.baseId, request, candidates, calibration: s.calibration, evaluate: s.evaluate,
      records: await loadRecords(s.records, s.baseId), learn: (rec) => addRecord(s.records, rec),
      store: jsonFileStore(values.state as string), key: 'search',
      probeTop: num(values['probe-top'], 'probe-top', 6), maxFullEvals: num(values['max-evals'], 'max-evals', 3),
      budgetSeconds: values['budget-s'] === undefined ? undefined : num(values['budget-s'], 'budget-s', 0), signal, onProgress: progressLine,
    });
    endProgress();
    if (r.best && values.out) {
      mkdirSync(dirname(values.out as string), { recursive: true });
      const { schema, name, description, calibration, passes } = r.best.recipe;
      writeFileSync(values.out as string, JSON.stringify({ schema, name, description, calibration, passes: passes.map((p) => ({ pass: p.pass, params: p.params })) }, null, 2) + '\n');
    }
    const brief = (c: { name: string; recipeHash: string; bytes?: number; ram?: number; measured?: Record<string, number> }) => ({ name: c.name, recipeHash: c.recipeHash, bytes: c.bytes, ram: c.ram, measured: c.measured });
    const out = {
      request, candidates: candidates.length, stoppedBy: r.stoppedBy, seconds: r.seconds, out: r.best && values.out ? values.out : null,
      best: r.best ? { ...brief(r.best), recipe: r.best.recipe } : null,
      evaluated: r.evaluated.map(brief), front: r.front.map((c) => ({ ...brief(c), loss: c.loss })), rejected: r.rejected.map((c) => ({ name: c.name, reason: c.reason })),
    };
    const pct = (x: number) => `+${(100 * x).toFixed(2)}%`;
    report(!!values.json, out, () => [
      `${goal}: ${candidates.length} candidates, ${r.rejected.length} over the bytes or RAM, ${r.evaluated.length} fully evaluated in ${r.seconds.toFixed(1)} s (stopped: ${r.stoppedBy})`,
      ...r.evaluated.map((c) => `  ${c.name.padEnd(32)} ${String(c.bytes).padStart(9)} B  ${objective} ${pct(c.measured![objective])}`),
      r.best ? `best: ${r.best.name}, ${r.best.bytes} B, ${objective} ${pct(r.best.measured![objective])}${values.out ? ` -> ${values.out}` : ''}` : 'no evaluated recipe satisfies every constraint',
    ].join('\n'));
    if (!r.best) process.exitCode = 1;
  },
};
