// mergekit's YAML configuration (merge_method, base_model, models or slices with layer_range, parameters with
// gradients and filters, dtype) <-> our merge spec (src/passes/merge/spec.ts), which is the same structure in
// camelCase. Keys mergekit has and we do not implement (modules, tokenizer unions, residual_weight) are
// refused by name rather than ignored, so a config never merges differently from what it says. One key is
// ours: `seed`, for DARE's random drops (mergekit draws them from torch's global generator).
import { parse, stringify } from 'yaml';
import { MERGE_METHOD_IDS } from '../passes/merge/index';
import { parseMergeSpec, type MergeSpec } from '../passes/merge/spec';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

function pick(o: Obj, where: string, known: Record<string, string>, unsupported: Record<string, string> = {}): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) {
    if (k in unsupported) throw new Error(`${where}: ${k} is not supported: ${unsupported[k]}`);
    if (!(k in known)) throw new Error(`${where}: unknown key "${k}" (known: ${Object.keys(known).join(', ')})`);
    if (v !== undefined && v !== null) out[known[k]] = v;
  }
  return out;
}

const list = (v: unknown, where: string): unknown[] => {
  if (!Array.isArray(v)) throw new Error(`${where}: expected a list`);
  return v;
};
const obj = (v: unknown, where: string): Obj => {
  if (!isObj(v)) throw new Error(`${where}: expected a mapping`);
  return v;
};

export function parseMergekitYaml(text: string, source = 'mergekit config'): MergeSpec {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new Error(`${source}: not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const top = pick(obj(doc, source), source, {
    merge_method: 'method', base_model: 'baseModel', models: 'models', slices: 'slices', parameters: 'parameters',
    dtype: 'dtype', out_dtype: 'outDtype', tokenizer_source: 'tokenizerSource', seed: 'seed',
  }, {
    modules: 'per-module merges are not implemented',
    tokenizer: 'building a tokenizer is not implemented; the models must share one',
    chat_template: 'chat templates are not carried by this lab',
  });
  if (typeof top.method === 'string' && !(MERGE_METHOD_IDS as string[]).includes(top.method)) {
    throw new Error(`${source}: merge_method "${top.method}" is not supported (supported: ${MERGE_METHOD_IDS.join(', ')})`);
  }
  if (top.tokenizerSource !== undefined && top.tokenizerSource !== 'base') {
    throw new Error(`${source}: tokenizer_source ${JSON.stringify(top.tokenizerSource)} is not supported: the models must share base_model's tokenizer`);
  }
  delete top.tokenizerSource;
  // the merged tensors are stored as out_dtype when given, else dtype (mergekit's own rule)
  if (top.outDtype !== undefined) top.dtype = top.outDtype;
  delete top.outDtype;
  if (top.models !== undefined) {
    top.models = list(top.models, `${source}: models`).map((m, i) => pick(obj(m, `${source}: models.${i}`), `${source}: models.${i}`, { model: 'model', parameters: 'parameters' }));
  }
  if (top.slices !== undefined) {
    top.slices = list(top.slices, `${source}: slices`).map((s, i) => {
      const where = `${source}: slices.${i}`;
      const slice = pick(obj(s, where), where, { sources: 'sources', base_model: 'baseModel', parameters: 'parameters' }, {
        residual_weight: 'residual weights are not implemented',
      });
      slice.sources = list(slice.sources, `${where}.sources`).map((x, j) =>
        pick(obj(x, `${where}.sources.${j}`), `${where}.sources.${j}`, { model: 'model', layer_range: 'layerRange', parameters: 'parameters' }));
      return slice;
    });
  }
  return parseMergeSpec(top, source);
}

/** The spec as mergekit YAML (our seed and sha256 pins have no mergekit key; seed is kept as a lab extension). */
export function toMergekitYaml(spec: MergeSpec): string {
  const doc: Obj = { merge_method: spec.method };
  if (spec.baseModel) doc.base_model = spec.baseModel;
  if (spec.models) doc.models = spec.models.map((m) => ({ model: m.model, ...(m.parameters ? { parameters: m.parameters } : {}) }));
  if (spec.slices) {
    doc.slices = spec.slices.map((s) => ({
      sources: s.sources.map((x) => ({ model: x.model, layer_range: x.layerRange, ...(x.parameters ? { parameters: x.parameters } : {}) })),
      ...(s.baseModel ? { base_model: s.baseModel } : {}),
      ...(s.parameters ? { parameters: s.parameters } : {}),
    }));
  }
  if (spec.parameters) doc.parameters = spec.parameters;
  if (spec.dtype) doc.dtype = spec.dtype;
  if (spec.seed !== 0) doc.seed = spec.seed;
  if (spec.sha256) throw new Error('sha256 pins have no mergekit YAML form; keep the JSON recipe');
  return stringify(doc, { flowCollectionPadding: false });
}
