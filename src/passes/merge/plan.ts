// From a merge spec to a list of output tensors, each with the input tensors it reads and its parameters,
// following mergekit's MergePlanner: `models` becomes one slice over every layer (base_model added when
// missing); the embedding is planned from the first slice at t = 0, each slice's layers at
// t = index / (length - 1), the final norm and head from the last slice at t = 1. Output layers are numbered
// consecutively, so slices of different models or ranges stack (passthrough frankenmerges).
import type { ModelConfig } from '../../model/config';
import { DTYPES, type DTypeId } from '../../model/dtype';
import { expectedShapes } from '../../model/model';
import { EMBED, FINAL_NORM, LM_HEAD } from '../../model/names';
import type { TokenizerSpec } from '../../model/tokenizer/spec';
import { checkArchitectures, checkTokenizers } from './compat';
import { MERGE_METHODS } from './index';
import type { MergeMethod, ParamDef, ParamValue } from './method';
import { lookup } from './settings';
import { OUT_DTYPES, type MergeSpec, type Parameters } from './spec';
import type { TensorStore } from './store';

/** Opens a referenced model (verifying its sha256 when the spec pins one). */
export type ModelResolver = (ref: string, sha256?: string) => Promise<TensorStore>;

export interface JobInput {
  readonly ref: string;
  readonly store: TensorStore;
  /** The tensor's name in that model (layer indices are the source's own). */
  readonly name: string;
  readonly params: Record<string, ParamValue | undefined>;
}

export interface TensorJob {
  readonly out: string;
  readonly shape: readonly number[];
  readonly dtype: DTypeId;
  readonly t: number;
  readonly inputs: readonly JobInput[];
  readonly baseIndex: number;
  readonly params: Record<string, ParamValue | undefined>;
}

export interface MergePlan {
  readonly spec: MergeSpec;
  readonly method: MergeMethod;
  readonly config: ModelConfig;
  readonly tokenizer?: TokenizerSpec;
  readonly jobs: readonly TensorJob[];
}

type Slice = NonNullable<MergeSpec['slices']>[number];

function referenced(spec: MergeSpec): string[] {
  const refs = [spec.baseModel, ...(spec.models ?? []).map((m) => m.model)];
  for (const s of spec.slices ?? []) refs.push(s.baseModel, ...s.sources.map((x) => x.model));
  return [...new Set(refs.filter((r): r is string => !!r))];
}

function normalizeSlices(spec: MergeSpec, stores: Map<string, TensorStore>): Slice[] {
  if (spec.slices) return spec.slices;
  const layers = (ref: string) => stores.get(ref)!.config.numLayers;
  const sources = spec.models!.map((m) => ({ model: m.model, layerRange: [0, layers(m.model)] as [number, number], parameters: m.parameters }));
  if (spec.baseModel && !sources.some((s) => s.model === spec.baseModel)) {
    sources.push({ model: spec.baseModel, layerRange: [0, layers(spec.baseModel)], parameters: undefined });
  }
  return [{ sources }];
}

function checkSlices(slices: Slice[], stores: Map<string, TensorStore>) {
  slices.forEach((s, k) => {
    const lengths = s.sources.map((x) => x.layerRange[1] - x.layerRange[0]);
    if (lengths.some((n) => n !== lengths[0])) {
      throw new Error(`merge: slice ${k}: every source must span the same number of layers, got ${lengths.join(', ')}`);
    }
    for (const x of s.sources) {
      const n = stores.get(x.model)!.config.numLayers;
      if (x.layerRange[1] > n) throw new Error(`merge: slice ${k}: layerRange [${x.layerRange}] of ${x.model} runs past its ${n} layers`);
    }
  });
}

function outDtype(spec: MergeSpec, first: DTypeId): DTypeId {
  if (spec.dtype) return OUT_DTYPES[spec.dtype];
  return DTYPES[first].blockSize === 1 ? first : 'f32';
}

function evaluate(defs: readonly ParamDef[], tensor: string, t: number, scopes: (Parameters | undefined)[], missing: (d: ParamDef) => void) {
  const out: Record<string, ParamValue | undefined> = {};
  for (const d of defs) {
    const v = lookup(d.name, tensor, t, scopes) ?? d.default;
    if (v === undefined && d.required) missing(d);
    out[d.name] = v;
  }
  return out;
}

export async function planMerge(spec: MergeSpec, resolve: ModelResolver): Promise<MergePlan> {
  const method = MERGE_METHODS[spec.method];
  const stores = new Map<string, TensorStore>();
  for (const ref of referenced(spec)) stores.set(ref, await resolve(ref, spec.sha256?.[ref]));
  const all = [...stores].map(([ref, store]) => ({ ref, store }));
  checkArchitectures(all);
  checkTokenizers(all);

  const slices = normalizeSlices(spec, stores);
  checkSlices(slices, stores);
  const baseOf = (s: Slice) => s.baseModel ?? spec.baseModel;
  if (method.needsBase) {
    slices.forEach((s, k) => {
      const base = baseOf(s);
      if (!base) throw new Error(`merge: ${spec.method} needs base_model`);
      if (!s.sources.some((x) => x.model === base)) throw new Error(`merge: slice ${k}: base_model ${base} is not one of its sources`);
    });
  }
  const main = stores.get(spec.baseModel ?? slices[0].sources[0].model)!;
  const numLayers = slices.reduce((n, s) => n + s.sources[0].layerRange[1] - s.sources[0].layerRange[0], 0);
  // untied as soon as one input has its own head; a tied input then contributes its embedding as head
  const tieWordEmbeddings = [...stores.values()].every((s) => s.config.tieWordEmbeddings);
  const config: ModelConfig = { ...main.config, numLayers, tieWordEmbeddings };
  const shapes = expectedShapes(config);
  const layerSuffixes = [...shapes.keys()].filter((n) => n.startsWith('model.layers.0.')).map((n) => n.slice('model.layers.0.'.length));

  const jobs: TensorJob[] = [];
  const plan = (out: string, slice: Slice, t: number, inName: (src: Slice['sources'][number]) => string) => {
    const base = baseOf(slice);
    const inputs = slice.sources.map((src): JobInput => {
      const name = inName(src);
      const store = stores.get(src.model)!;
      const info = store.info(name);
      if (!info) throw new Error(`merge: ${src.model} has no tensor ${name}`);
      const own = slice.sources.filter((x) => x.model === src.model).map((x) => x.parameters);
      const params = evaluate(method.tensorParams, name, t, [...own, slice.parameters, spec.parameters], (d) => {
        if (src.model !== base) throw new Error(`merge: missing required parameter ${d.name} for ${src.model}.${name}`);
      });
      return { ref: src.model, store, name, params };
    });
    const params = evaluate(method.params, out, t, [slice.parameters, spec.parameters], (d) => {
      throw new Error(`merge: missing required parameter ${d.name} for ${out}`);
    });
    const first = inputs[0].store.info(inputs[0].name)!;
    jobs.push({
      out, shape: shapes.get(out)!, dtype: outDtype(spec, first.dtype), t, inputs, params,
      baseIndex: base ? inputs.findIndex((x) => x.ref === base) : -1,
    });
  };

  plan(EMBED, slices[0], 0, () => EMBED);
  let layer = 0;
  for (const slice of slices) {
    const length = slice.sources[0].layerRange[1] - slice.sources[0].layerRange[0];
    for (let i = 0; i < length; i++) {
      const t = length > 1 ? i / (length - 1) : 1;
      for (const suffix of layerSuffixes) {
        plan(`model.layers.${layer}.${suffix}`, slice, t, (src) => `model.layers.${src.layerRange[0] + i}.${suffix}`);
      }
      layer++;
    }
  }
  const last = slices[slices.length - 1];
  plan(FINAL_NORM, last, 1, () => FINAL_NORM);
  if (!tieWordEmbeddings) plan(LM_HEAD, last, 1, (src) => (stores.get(src.model)!.config.tieWordEmbeddings ? EMBED : LM_HEAD));
  return { spec, method, config, tokenizer: main.tokenizer, jobs };
}
