// Constraint-driven recipe search, multi-fidelity: every candidate is screened (bytes and estimated RAM,
// then the static features: no forward pass), the most promising get the probe (one short forward), and only
// the best of those, in the goal's order, get the full evaluation, which alone decides. The goal orders
// everything: min-ppl probes and evaluates by predicted loss and stops when no candidate's interval reaches
// below the best verified loss; min-bytes walks the sizes upwards, probing as it goes (skipping what the
// prior predictor says breaks a limit), evaluates the smallest plausible candidate first and stops when
// every plausible one left is larger than the best verified. "Plausible" is the predictor's interval
// reaching the limit; before a predictor can be fitted, "no evaluated candidate with the same or less probe
// KLD broke a limit" (the predictor's rank feature, taken as monotone). The predictor is refitted
// after every full evaluation (its records are the prior ones plus this search's own); with too few records
// the raw feature ranks instead. The state is saved after every unit of work, and is all the search knows:
// resumed from any point it makes the same decisions, so it ends with the same answer (unless the time
// budget, which is wall-clock, runs out first).
import { throwIfAborted } from '../io/errors';
import { canonicalJson } from '../recipe/canonical';
import { modelBytes, type Model } from '../model/model';
import { sha256OfBytes } from '../io/hash';
import { candidateFeatures, PROBE_FEATURES, STATIC_FEATURES, type Features } from '../predict/features';
import { fitPredictor, minRecords, type Prediction } from '../predict/predictor';
import type { JsonStore, PredictRecord } from '../predict/records';
import type { BaseSignals } from '../predict/signals';
import type { Calibration } from '../passes/pass';
import { recipeHash } from '../recipe/hash';
import { runRecipe } from '../recipe/runner';
import type { NormalizedRecipe } from '../recipe/schema';
import { recipeBytes } from './bytes';
import { runtimeMemory } from '../model/runtime-memory';
import { paretoFront } from './pareto';
import type { SearchRequest } from './request';
import { SearchState, type CandidateState } from './state';

export interface SearchOptions {
  base: BaseSignals;
  /** The base model's sha256 (or a stable name): keys the records and the recipe hashes. */
  baseId: string;
  request: SearchRequest;
  candidates: readonly NormalizedRecipe[];
  calibration?: Calibration;
  /** The full evaluation: measured deltas of a candidate (at least the objective and every limit's target). */
  evaluate(model: Model, signal?: AbortSignal): Promise<Record<string, number>>;
  /** What the predictor already knows about this base (stored records). */
  records?: readonly PredictRecord[];
  /** Called with each full evaluation's record, to store it for later predictions. */
  learn?(record: PredictRecord): Promise<void>;
  store: JsonStore;
  /** Key of this search's state in the store. */
  key: string;
  probeTop?: number;
  maxFullEvals?: number;
  budgetSeconds?: number;
  signal?: AbortSignal;
  onProgress?(p: { stage: string; done: number; total: number }): void;
}

export interface SearchOutcome {
  /** The best recipe that satisfies every constraint, verified by a full evaluation; null when none did. */
  best: (CandidateState & { recipe: NormalizedRecipe }) | null;
  front: (CandidateState & { loss: number })[];
  evaluated: CandidateState[];
  /** Candidates over the byte or RAM budget, with the reason. */
  rejected: CandidateState[];
  stoppedBy: 'done' | 'time';
  seconds: number;
}

type Fidelity = 'static' | 'probe';

export async function search(o: SearchOptions): Promise<SearchOutcome> {
  const probeTop = o.probeTop ?? 6, maxFullEvals = o.maxFullEvals ?? 3;
  const { request } = o;
  const hashes = o.candidates.map((r) => recipeHash(o.baseId, r));
  // min-ppl (the default) is left out of the hash so that states saved before goals existed still resume
  const id = sha256OfBytes(new TextEncoder().encode(canonicalJson({ base: o.baseId, request: { ...request, goal: request.goal === 'min-ppl' ? undefined : request.goal }, hashes, probeTop, maxFullEvals })));
  const contextLength = request.contextLength ?? o.base.model.config.maxPositions;
  const raw = await o.store.get(o.key);
  let state: SearchState;
  if (raw === undefined) {
    state = {
      schema: 'lab.search-state/1', id, seconds: 0, prior: [...(o.records ?? [])],
      candidates: o.candidates.map((r, i) => ({ recipeHash: hashes[i], name: r.name, recipe: r, stage: 'listed' })),
    };
  } else {
    const parsed = SearchState.safeParse(raw);
    if (!parsed.success) throw new Error(`search state "${o.key}": ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`);
    state = parsed.data;
    if (state.id !== id) throw new Error(`search state "${o.key}" belongs to another search (other base, request or candidates); use a new state key`);
  }
  const started = performance.now(), before = state.seconds;
  const elapsed = () => before + (performance.now() - started) / 1000;
  const save = async () => {
    state.seconds = elapsed();
    await o.store.put(o.key, state);
  };
  const outOfTime = () => o.budgetSeconds !== undefined && elapsed() > o.budgetSeconds;
  const models = new Map<string, Model>(); // this session's compressed candidates (re-run after a resume)
  const compressed = async (c: CandidateState) => {
    let m = models.get(c.recipeHash);
    if (!m) {
      m = (await runRecipe(o.base.model, c.recipe, { calibration: o.calibration, signal: o.signal })).model;
      models.set(c.recipeHash, m);
    }
    return m;
  };
  const records = (): PredictRecord[] => [
    ...state.prior,
    ...state.candidates.filter((c) => c.measured).map((c) => record(o.baseId, c)),
  ];
  /** The objective's prediction at a fidelity; the raw feature (no interval) until enough records exist. */
  const predict = (c: CandidateState, fidelity: Fidelity, from = records()): Prediction => {
    const features = fidelity === 'static' ? STATIC_FEATURES : PROBE_FEATURES;
    const opts = { target: request.objective, features };
    const known = from.filter((r) => request.objective in r.measured && features.every((f) => f in r.features));
    if (known.length >= minRecords(opts)) return fitPredictor(known, opts).predict(c.features!);
    const v = c.features![features[0]];
    return { value: v, lo: -Infinity, hi: Infinity, level: 0 };
  };
  const limitsMayHold = (c: CandidateState, fidelity: Fidelity = 'probe', from?: PredictRecord[]) => request.limits.every((l) => {
    if (l.target !== request.objective) return true;
    const p = predict(c, fidelity, from);
    return p.level === 0 || p.lo <= l.max;
  });
  /** min-bytes without a fitted predictor: a candidate whose rank feature is at least a failed one's is out. */
  const failed = () => state.candidates.filter((c) => c.stage === 'evaluated' && !meetsLimits(c, request)).map((c) => c.features![PROBE_FEATURES[0]]);
  const plausible = (c: CandidateState) => {
    if (!limitsMayHold(c)) return false;
    if (request.goal !== 'min-bytes' || predict(c, 'probe').level > 0) return true;
    return failed().every((f) => c.features![PROBE_FEATURES[0]] < f);
  };
  /** Why a candidate of this size and shape is over a bound, or undefined when it fits. */
  const overBound = (bytes: number, m: Model): { reason?: string; ram: number } => {
    const ram = runtimeMemory(m.config, bytes, { contextLength }).total;
    if (request.maxBytes !== undefined && bytes > request.maxBytes) return { reason: `${bytes} B > ${request.maxBytes} B`, ram };
    if (request.maxRamBytes !== undefined && ram > request.maxRamBytes) return { reason: `RAM ${ram} B (estimated, ${contextLength} positions) > ${request.maxRamBytes} B`, ram };
    return { ram };
  };

  let stoppedBy: SearchOutcome['stoppedBy'] = 'done';
  // 1. screen: bytes and RAM (without running where the passes allow: they keep the model's shape), then
  // the static features
  for (const [i, c] of state.candidates.entries()) {
    if (c.stage !== 'listed') continue;
    throwIfAborted(o.signal);
    if (outOfTime()) { stoppedBy = 'time'; break; }
    const known = recipeBytes(o.base.model, c.recipe);
    let bound = known === undefined ? undefined : overBound(known, o.base.model);
    c.bytes = known;
    if (!bound || !bound.reason) {
      const m = await compressed(c);
      c.bytes = modelBytes(m);
      bound = overBound(c.bytes, m);
      if (!bound.reason) c.features = await candidateFeatures(o.base, m, { signal: o.signal });
    }
    c.ram = bound.ram;
    c.stage = c.features ? 'screened' : 'rejected';
    if (!c.features) c.reason = bound.reason;
    await save();
    o.onProgress?.({ stage: 'screen', done: i + 1, total: state.candidates.length });
  }
  const probe = async (c: CandidateState) => {
    c.features = await candidateFeatures(o.base, await compressed(c), { probe: true, signal: o.signal });
    c.stage = 'probed';
    await save();
  };
  const evaluate = async (c: CandidateState, p: Prediction) => {
    const done = state.candidates.filter((x) => x.stage === 'evaluated').length + 1;
    c.predicted = p;
    c.measured = await o.evaluate(await compressed(c), o.signal);
    c.stage = 'evaluated';
    c.evaluation = done;
    await save();
    await o.learn?.(record(o.baseId, c));
    o.onProgress?.({ stage: 'evaluate', done, total: maxFullEvals });
  };
  const hash = (a: CandidateState, b: CandidateState) => a.recipeHash.localeCompare(b.recipeHash);
  /** The static prediction from the prior records only: what this search measures must not change, on a resume, what was probed before. */
  const staticValue = (c: CandidateState) => predict(c, 'static', state.prior).value;
  const evaluations = () => state.candidates.filter((c) => c.stage === 'evaluated').length;

  if (request.goal === 'min-ppl') {
    // 2. probe the most promising by the static prediction
    if (stoppedBy === 'done') {
      const order = state.candidates.filter((c) => c.stage !== 'listed' && c.stage !== 'rejected').sort((a, b) => staticValue(a) - staticValue(b) || hash(a, b));
      for (const [k, c] of order.slice(0, probeTop).entries()) {
        if (c.stage !== 'screened') continue;
        throwIfAborted(o.signal);
        if (outOfTime()) { stoppedBy = 'time'; break; }
        await probe(c);
        o.onProgress?.({ stage: 'probe', done: k + 1, total: Math.min(probeTop, order.length) });
      }
    }
    // 3. full evaluations in predicted order, while a candidate's interval reaches below the best verified loss
    while (stoppedBy === 'done' && evaluations() < maxFullEvals) {
      const best = bestOf(state.candidates, request);
      const next = state.candidates.filter((c) => c.stage === 'probed' && plausible(c)).map((c) => ({ c, p: predict(c, 'probe') }))
        .filter(({ p }) => !best || p.level === 0 || p.lo < best.measured![request.objective])
        .sort((a, b) => a.p.value - b.p.value || hash(a.c, b.c))[0];
      if (!next) break;
      throwIfAborted(o.signal);
      if (outOfTime()) { stoppedBy = 'time'; break; }
      await evaluate(next.c, next.p);
    }
  } else {
    // 2-3. min-bytes walks the sizes upwards: at the smallest size that some plausible candidate smaller than the
    // best verified one has, probe (lazily: a probe is one short forward) every candidate the prior predictor does
    // not rule out, then fully evaluate the plausible one with the least predicted loss; stop when no plausible
    // candidate smaller than the best verified one is left. probeTop does not apply: each probe precedes a decision.
    while (stoppedBy === 'done' && evaluations() < maxFullEvals) {
      const best = bestOf(state.candidates, request);
      const open = state.candidates.filter((c) => (!best || c.bytes! < best.bytes!)
        && ((c.stage === 'screened' && limitsMayHold(c, 'static', state.prior)) || (c.stage === 'probed' && plausible(c))));
      if (!open.length) break;
      const size = Math.min(...open.map((c) => c.bytes!));
      const unprobed = open.filter((c) => c.bytes === size && c.stage === 'screened').sort((a, b) => staticValue(a) - staticValue(b) || hash(a, b))[0];
      throwIfAborted(o.signal);
      if (outOfTime()) { stoppedBy = 'time'; break; }
      if (unprobed) {
        await probe(unprobed);
        const probed = state.candidates.filter((c) => c.features?.probeKld !== undefined).length;
        o.onProgress?.({ stage: 'probe', done: probed, total: probed + open.filter((c) => c.stage === 'screened').length - 1 });
        continue;
      }
      const next = open.filter((c) => c.bytes === size).map((c) => ({ c, p: predict(c, 'probe') })).sort((a, b) => a.p.value - b.p.value || hash(a.c, b.c))[0];
      await evaluate(next.c, next.p);
    }
  }
  await save();
  const best = bestOf(state.candidates, request);
  // the front: measured losses, and predicted ones where a fitted predictor gives them in the same units
  const loss = (c: CandidateState) => {
    if (c.measured) return c.measured[request.objective];
    const p = c.features && predict(c, c.features.probeKld !== undefined ? 'probe' : 'static');
    return p && p.level > 0 ? p.value : undefined;
  };
  // in the goal's order: what it minimises first (min-bytes cheapest first, min-ppl least loss first)
  const front = paretoFront(state.candidates.flatMap((c) => {
    const l = loss(c);
    return l === undefined ? [] : [{ ...c, bytes: c.bytes!, loss: l }];
  }));
  if (request.goal === 'min-ppl') front.reverse();
  return {
    best: best ? { ...best, recipe: best.recipe } : null,
    front, rejected: state.candidates.filter((c) => c.stage === 'rejected'), evaluated: state.candidates.filter((c) => c.stage === 'evaluated').sort((x, y) => x.evaluation! - y.evaluation!), stoppedBy, seconds: state.seconds,
  };
}

function meetsLimits(c: CandidateState, request: SearchRequest): boolean {
  return !!c.measured && request.limits.every((l) => l.target in c.measured! && c.measured![l.target] <= l.max);
}

function satisfies(c: CandidateState, request: SearchRequest): boolean {
  if (!c.measured || (request.maxBytes !== undefined && c.bytes! > request.maxBytes)) return false;
  if (request.maxRamBytes !== undefined && !(c.ram! <= request.maxRamBytes)) return false;
  return meetsLimits(c, request) && request.objective in c.measured;
}

/** The verified best for the goal: least measured loss (min-ppl) or fewest bytes (min-bytes), the other breaking ties. */
function bestOf(candidates: readonly CandidateState[], request: SearchRequest): CandidateState | undefined {
  const loss = (c: CandidateState) => c.measured![request.objective];
  const order = request.goal === 'min-bytes'
    ? (a: CandidateState, b: CandidateState) => a.bytes! - b.bytes! || loss(a) - loss(b)
    : (a: CandidateState, b: CandidateState) => loss(a) - loss(b) || a.bytes! - b.bytes!;
  return candidates.filter((c) => satisfies(c, request)).sort((a, b) => order(a, b) || a.recipeHash.localeCompare(b.recipeHash))[0];
}

function record(base: string, c: CandidateState): PredictRecord {
  return { schema: 'lab.predict-record/1', base, recipeHash: c.recipeHash, label: c.name, bytes: c.bytes!, features: c.features as Features, measured: c.measured! };
}
