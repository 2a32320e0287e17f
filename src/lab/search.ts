// The constraint-driven search (src/search) in the lab worker, as `lab search` runs it in the CLI
// (cli/predict-setup.ts): one perplexity task's text, the first half evaluates and the second calibrates and
// probes; the full evaluation is the relative perplexity increase on the first chunks. Its state lives in
// IndexedDB under the caller's key, so a search stopped (or a page reloaded) resumes where it was.
import type { DataSource } from '../eval/data-source';
import { loadDocs } from '../eval/data-formats';
import { perplexity } from '../eval/perplexity';
import { modelBytes, type Model } from '../model/model';
import type { Tokenizer } from '../model/tokenizer/spec';
import { calibrationFromTokens } from '../passes/calibration';
import { prepareBase } from '../predict/signals';
import { Calibration as CalibrationSpec, type NormalizedRecipe } from '../recipe/schema';
import { CpuRuntime } from '../runtime/cpu-reference';
import { idbJsonStore } from '../search/idb-store';
import { weightBound } from '../search/memory';
import { SearchRequest, type SearchGoal } from '../search/request';
import { search } from '../search/search';
import { searchSpace } from '../search/space';
import { taskLibrary } from './catalog';
import type { Progress } from './compress';

export interface MineSearchSpec {
  /** A perplexity task of the library (its text is what the search measures). */
  task: string;
  /** min-ppl: the least perplexity within the bounds; min-bytes: the smallest file within the perplexity limit. */
  goal: SearchGoal;
  maxBytes?: number;
  /** Bound on the estimated peak runtime memory at the model's context length (src/model/runtime-memory.ts, the market's definition). */
  maxRamBytes?: number;
  /** Positions of KV cache the RAM bound counts (a request's hardware.contextLength; default the model's maxPositions). */
  contextLength?: number;
  /** Largest relative perplexity increase allowed (0.1 = 10% worse than the base). */
  maxIncrease: number;
  /** Perplexity chunks (of at most 512 tokens) per full evaluation. */
  chunks: number;
  maxFullEvals: number;
  probeTop: number;
  budgetSeconds?: number;
  /** IndexedDB key of this search's state (one per request, so picking it again resumes). */
  key: string;
}

export interface SearchCandidate {
  name: string; bytes: number; increase: number; ok: boolean;
  /** The search's answer for its goal (in the outcome only). */
  best?: boolean;
  /** The recipe as a lab.recipe/1 document (in the outcome; live reports come before the search names them). */
  json?: unknown;
}

export interface MineSearchOutcome {
  /** The search's best for its goal (least perplexity or fewest bytes within the limits) as a lab.recipe/1 document, or null when none met them. */
  best: { name: string; json: unknown } | null;
  evaluated: SearchCandidate[];
  stoppedBy: 'done' | 'time';
}

export async function mineSearch(
  model: Model, tok: Tokenizer, baseSha: string, data: DataSource, spec: MineSearchSpec,
  opts: { onProgress?: (p: Progress) => void; onCandidate?: (c: SearchCandidate) => void; signal?: AbortSignal },
): Promise<MineSearchOutcome> {
  const task = taskLibrary().get(spec.task);
  if (!task || task.output_type !== 'loglikelihood_rolling') throw new Error(`search task "${spec.task}" is not a perplexity task of the library`);
  opts.onProgress?.({ stage: `reading ${spec.task}`, done: 0, total: 1 });
  const text = (await loadDocs(data, task.data)).map((d) => String(d.text ?? '')).join('\n\n').replace(/\r\n/g, '\n');
  const tokens = tok.encode(text);
  const half = Math.floor(tokens.length / 2);
  const c = CalibrationSpec.parse({});
  const calibration = calibrationFromTokens(tokens.slice(half), c.sequences, c.length, c.seed, tok.bosId, `${spec.task} (second half)`);
  const probe = calibrationFromTokens(tokens.slice(half), 2, 256, c.seed + 6, tok.bosId, `${spec.task} (second half, probe)`);
  const signals = await prepareBase(model, calibration, probe, { signal: opts.signal, onProgress: opts.onProgress });
  const ctx = Math.min(task.context_length, 512);
  const ppl = async (m: Model, signal?: AbortSignal) =>
    (await perplexity(new CpuRuntime(m, { maxPositions: ctx }), tokens, { contextLength: ctx, maxChunks: spec.chunks, bosId: tok.bosId, signal })).ppl;
  const basePpl = await ppl(model, opts.signal);
  const target = `${spec.task}:ppl`;
  const request = SearchRequest.parse({ maxBytes: spec.maxBytes, maxRamBytes: spec.maxRamBytes, contextLength: spec.contextLength, limits: [{ target, max: spec.maxIncrease }], objective: target, goal: spec.goal });
  const candidates = searchSpace(model, signals, weightBound(model.config, request));
  const evaluated: SearchCandidate[] = [];
  const r = await search({
    base: signals, baseId: baseSha, request, candidates, calibration, store: idbJsonStore(), key: spec.key,
    probeTop: spec.probeTop, maxFullEvals: spec.maxFullEvals, budgetSeconds: spec.budgetSeconds, signal: opts.signal, onProgress: opts.onProgress,
    evaluate: async (m, signal) => {
      const increase = (await ppl(m, signal)) / basePpl - 1;
      // live best-so-far: every full evaluation is reported as it lands (the search keeps its own order)
      const cand = { name: `evaluation ${evaluated.length + 1}`, bytes: modelBytes(m), increase, ok: increase <= spec.maxIncrease && (spec.maxBytes === undefined || modelBytes(m) <= spec.maxBytes) };
      evaluated.push(cand);
      opts.onCandidate?.(cand);
      return { [target]: increase };
    },
  });
  // the final list is the state's (named, and including evaluations of a resumed run's earlier sessions)
  return {
    best: r.best && { name: r.best.name, json: recipeDocument(r.best.recipe) },
    evaluated: r.evaluated.map((e) => ({
      name: e.name, bytes: e.bytes ?? 0, increase: e.measured?.[target] ?? NaN, ok: (e.measured?.[target] ?? Infinity) <= spec.maxIncrease, json: recipeDocument(e.recipe),
      best: e.recipeHash === r.best?.recipeHash,
    })),
    stoppedBy: r.stoppedBy,
  };
}

/** What `lab search --out` writes: the recipe's own fields, without what normalizing added to each pass. */
function recipeDocument({ schema, name, description, calibration, passes }: NormalizedRecipe): unknown {
  return { schema, name, description, calibration, passes: passes.map((p) => ({ pass: p.pass, params: p.params })) };
}
