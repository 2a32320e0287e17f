// What the structured pruners (heads, channels, layers) share: importance scores from calibration activations,
// and cutting a model down to the kept heads, FFN channels and layers. The result is a genuinely smaller
// standard Llama config (fewer heads / a smaller intermediate_size / fewer layers), so every runtime and
// exporter handles it with no special case. HF's config has no per-layer sizes, so every layer keeps the
// same number of units; which units each layer keeps is its own choice.
//
// Importance is the calibration energy of a unit's contribution to the residual stream, i.e. what the layer's
// output loses when the unit is removed:
//   query head h:  sum over tokens of ||W_o[:, h] x_h||^2     (exact, cross terms inside the head included)
//   KV group g:    sum over tokens of ||sum_{h in g} W_o[:, h] x_h||^2
//   FFN channel j: ||W_down[:, j]||^2 * sum over tokens of x_j^2   (Wanda's |W| ||X||, aggregated per channel in L2)
//   layer:         block influence (ShortGPT, Men et al. 2024): mean over tokens of 1 - cos(x_in, x_out)
// The residual stream for block influence is rebuilt from the observed inputs of o_proj and down_proj, so the
// CPU reference needs no extra hook.
import { cancelPoint } from '../cancel-point';
import { byteSize } from '../../model/dtype';
import { validateConfig, type ModelConfig } from '../../model/config';
import type { Model } from '../../model/model';
import { EMBED, layerName, type LayerTensor } from '../../model/names';
import { f32Tensor, makeTensor, toFloat32, type Tensor } from '../../model/tensor';
import { CpuRuntime, embed } from '../../runtime/cpu-reference';
import type { Calibration, PassContext } from '../pass';

export interface StructuredStats {
  /** [layer][query head] */
  headEnergy: Float64Array[];
  /** [layer][kv group] */
  groupEnergy: Float64Array[];
  /** [layer][FFN channel] */
  channelEnergy: Float64Array[];
  /** [layer] mean 1 - cos(x_in, x_out) */
  blockInfluence: Float64Array;
  tokens: number;
}

const LAYER = /^model\.layers\.(\d+)\.(.+)$/;

/** One calibration run collecting every structured score (cached per model and calibration, as linearStats). */
export async function structuredStats(model: Model, calibration: Calibration, ctx: PassContext): Promise<StructuredStats> {
  let byCalib = cache.get(model);
  if (!byCalib) cache.set(model, (byCalib = new WeakMap()));
  let s = byCalib.get(calibration);
  if (!s) byCalib.set(calibration, (s = await collect(model, calibration, ctx)));
  return s;
}
const cache = new WeakMap<Model, WeakMap<Calibration, StructuredStats>>();

async function collect(model: Model, calibration: Calibration, ctx: PassContext): Promise<StructuredStats> {
  const c = model.config, D = c.hiddenSize, hd = c.headDim, group = c.numHeads / c.numKvHeads;
  const wo = Array.from({ length: c.numLayers }, (_, l) => toFloat32(model.tensors.get(layerName(l, 'self_attn.o_proj.weight'))!));
  const wdown = Array.from({ length: c.numLayers }, (_, l) => toFloat32(model.tensors.get(layerName(l, 'mlp.down_proj.weight'))!));
  // ||W_down[:, j]||^2 per channel, once
  const downNorm = wdown.map((W) => {
    const F = c.intermediateSize, n = new Float64Array(F);
    for (let o = 0; o < D; o++) for (let j = 0; j < F; j++) n[j] += W[o * F + j] ** 2;
    return n;
  });
  const stats: StructuredStats = {
    headEnergy: wo.map(() => new Float64Array(c.numHeads)),
    groupEnergy: wo.map(() => new Float64Array(c.numKvHeads)),
    channelEnergy: wo.map(() => new Float64Array(c.intermediateSize)),
    blockInfluence: new Float64Array(c.numLayers),
    tokens: 0,
  };
  let x: Float32Array = new Float32Array(0), xIn: Float32Array = new Float32Array(0);
  const yHead = new Float64Array(D), yGroup = new Float64Array(D);
  const observe = (weight: string, input: Float32Array, rows: number) => {
    const m = LAYER.exec(weight);
    if (!m) return;
    const l = Number(m[1]);
    if (m[2] === 'self_attn.q_proj.weight') xIn = Float32Array.from(x);
    else if (m[2] === 'self_attn.o_proj.weight') {
      const W = wo[l], Q = c.numHeads * hd;
      for (let r = 0; r < rows; r++) {
        for (let g = 0; g < c.numKvHeads; g++) {
          yGroup.fill(0);
          for (let h = g * group; h < (g + 1) * group; h++) {
            yHead.fill(0);
            for (let o = 0; o < D; o++) {
              let s = 0;
              for (let d = 0; d < hd; d++) s += W[o * Q + h * hd + d] * input[r * Q + h * hd + d];
              yHead[o] = s;
            }
            let e = 0;
            for (let o = 0; o < D; o++) {
              e += yHead[o] ** 2;
              yGroup[o] += yHead[o];
            }
            stats.headEnergy[l][h] += e;
          }
          let e = 0;
          for (let o = 0; o < D; o++) {
            e += yGroup[o] ** 2;
            x[r * D + o] += yGroup[o];
          }
          stats.groupEnergy[l][g] += e;
        }
      }
    } else if (m[2] === 'mlp.down_proj.weight') {
      const F = c.intermediateSize, W = wdown[l];
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < F; j++) stats.channelEnergy[l][j] += downNorm[l][j] * input[r * F + j] ** 2;
        for (let o = 0; o < D; o++) {
          let s = 0;
          for (let j = 0; j < F; j++) s += W[o * F + j] * input[r * F + j];
          x[r * D + o] += s;
        }
        let dot = 0, a = 0, b = 0;
        for (let o = 0; o < D; o++) {
          dot += xIn[r * D + o] * x[r * D + o];
          a += xIn[r * D + o] ** 2;
          b += x[r * D + o] ** 2;
        }
        stats.blockInfluence[l] += 1 - dot / Math.sqrt(a * b || 1);
      }
    }
  };
  const table = toFloat32(model.tensors.get(EMBED)!);
  const rt = new CpuRuntime(model, { observe, maxPositions: Math.max(...calibration.sequences.map((q) => q.length)) });
  for (const [i, seq] of calibration.sequences.entries()) {
    await cancelPoint(ctx.signal);
    x = embed(table, seq, D, c.vocabSize);
    rt.reset();
    rt.forwardSync(seq, { lastOnly: true });
    stats.tokens += seq.length;
    ctx.onProgress?.({ stage: 'calibration', done: i + 1, total: calibration.sequences.length });
  }
  for (let l = 0; l < c.numLayers; l++) stats.blockInfluence[l] /= stats.tokens;
  return stats;
}

/** Indices of the `keep` largest scores, in ascending index order (ties keep the lower index). */
export function topK(score: ArrayLike<number>, keep: number): number[] {
  const idx = Array.from({ length: score.length }, (_, i) => i);
  idx.sort((a, b) => score[b] - score[a] || a - b);
  return idx.slice(0, keep).sort((a, b) => a - b);
}

/** Units removed out of `total` at `sparsity`, rounded, leaving at least one. */
export function removedCount(total: number, sparsity: number, what: string): number {
  const k = Math.round(sparsity * total);
  if (k >= total) throw new Error(`pruning ${sparsity} of ${total} ${what} would remove all of them; keep at least one`);
  return k;
}

/**
 * What a structured pruner keeps. Per layer (old index): the query heads and KV heads kept, in order, and the
 * FFN channels kept; `layers`: the old indices of the layers kept. Absent = all kept.
 */
export interface Structure {
  heads?: readonly (readonly number[])[];
  kvHeads?: readonly (readonly number[])[];
  channels?: readonly (readonly number[])[];
  layers?: readonly number[];
}

const all = (n: number) => Array.from({ length: n }, (_, i) => i);

/** The runs of `size` consecutive indices starting at each kept unit: the rows of kept heads, for example. */
const expand = (units: readonly number[], size: number) => units.flatMap((u) => all(size).map((d) => u * size + d));

function sliceRows(t: Tensor, rows: readonly number[]): Tensor {
  const cols = t.shape.length === 2 ? t.shape[1] : 1;
  let rowBytes: number | undefined;
  try {
    rowBytes = byteSize(t.dtype, cols);
  } catch {
    rowBytes = undefined; // rows are not whole blocks: go through f32
  }
  const shape = t.shape.length === 2 ? [rows.length, cols] : [rows.length];
  if (rowBytes !== undefined) {
    const out = new Uint8Array(rows.length * rowBytes);
    rows.forEach((r, i) => out.set(t.data.subarray(r * rowBytes!, (r + 1) * rowBytes!), i * rowBytes!));
    return makeTensor(t.name, shape, t.dtype, out);
  }
  const v = toFloat32(t), out = new Float32Array(rows.length * cols);
  rows.forEach((r, i) => out.set(v.subarray(r * cols, (r + 1) * cols), i * cols));
  return f32Tensor(t.name, shape, out);
}

/** Columns cut through any block format, so the result is f32 (prune before you quantize). */
function sliceCols(t: Tensor, cols: readonly number[]): Tensor {
  const [rows, n] = t.shape, v = toFloat32(t), out = new Float32Array(rows * cols.length);
  for (let r = 0; r < rows; r++) cols.forEach((j, i) => (out[r * cols.length + i] = v[r * n + j]));
  return f32Tensor(t.name, [rows, cols.length], out);
}

const renamed = (t: Tensor, name: string): Tensor => ({ ...t, name });

/** Kept KV heads alone mean their whole groups of query heads. */
function withHeads(c: ModelConfig, s: Structure): Structure {
  if (!s.kvHeads || s.heads) return s;
  const group = c.numHeads / c.numKvHeads;
  return { ...s, heads: s.kvHeads.map((gs) => expand(gs, group)) };
}

/** Check that every layer keeps the same counts and that kept query heads still map onto kept KV heads. */
function checkStructure(c: ModelConfig, s: Structure): { heads: number; kv: number; ffn: number } {
  const same = (lists: readonly (readonly number[])[] | undefined, total: number, what: string) => {
    if (!lists) return total;
    if (lists.length !== c.numLayers) throw new Error(`structure: ${what} for ${lists.length} layers, the model has ${c.numLayers}`);
    const n = lists[0].length;
    for (const [l, u] of lists.entries()) {
      if (u.length !== n) throw new Error(`structure: layer ${l} keeps ${u.length} ${what}, layer 0 keeps ${n}; every layer must keep the same number`);
      if (u.length === 0 || u.some((i, k) => !Number.isInteger(i) || i < 0 || i >= total || (k > 0 && i <= u[k - 1]))) {
        throw new Error(`structure: layer ${l}: ${what} must be ascending indices below ${total}, at least one`);
      }
    }
    return n;
  };
  const heads = same(s.heads, c.numHeads, 'heads'), kv = same(s.kvHeads, c.numKvHeads, 'kv heads'), ffn = same(s.channels, c.intermediateSize, 'channels');
  if (heads % kv) throw new Error(`structure: ${heads} heads over ${kv} kv heads is not a whole group each`);
  const group = c.numHeads / c.numKvHeads, newGroup = heads / kv;
  for (let l = 0; l < c.numLayers; l++) {
    const h = s.heads?.[l] ?? all(c.numHeads), g = s.kvHeads?.[l] ?? all(c.numKvHeads);
    h.forEach((q, i) => {
      if (Math.floor(q / group) !== g[Math.floor(i / newGroup)]) throw new Error(`structure: layer ${l}: kept head ${q} does not belong to kept kv head ${g[Math.floor(i / newGroup)]}; keep the same number of heads in each kept group`);
    });
  }
  if (s.layers && (s.layers.length === 0 || s.layers.some((i, k) => i < 0 || i >= c.numLayers || (k > 0 && i <= s.layers![k - 1])))) {
    throw new Error(`structure: layers must be ascending indices below ${c.numLayers}, at least one`);
  }
  return { heads, kv, ffn };
}

/** The smaller model: kept heads, channels and layers only, with the config that says so. */
export function shrinkModel(model: Model, structure: Structure): Model {
  const c = model.config, hd = c.headDim, s = withHeads(c, structure);
  const n = checkStructure(c, s);
  const layers = s.layers ?? all(c.numLayers);
  const tensors = new Map<string, Tensor>();
  for (const [name, t] of model.tensors) if (!LAYER.test(name)) tensors.set(name, t);
  layers.forEach((old, l) => {
    const q = expand(s.heads?.[old] ?? all(c.numHeads), hd), kv = expand(s.kvHeads?.[old] ?? all(c.numKvHeads), hd);
    const ffn = s.channels?.[old] ?? all(c.intermediateSize);
    const cut: Partial<Record<LayerTensor, (t: Tensor) => Tensor>> = {
      'self_attn.q_proj.weight': (t) => sliceRows(t, q), 'self_attn.q_proj.bias': (t) => sliceRows(t, q),
      'self_attn.k_proj.weight': (t) => sliceRows(t, kv), 'self_attn.k_proj.bias': (t) => sliceRows(t, kv),
      'self_attn.v_proj.weight': (t) => sliceRows(t, kv), 'self_attn.v_proj.bias': (t) => sliceRows(t, kv),
      'self_attn.o_proj.weight': (t) => (q.length === c.numHeads * hd ? t : sliceCols(t, q)),
      'mlp.gate_proj.weight': (t) => sliceRows(t, ffn), 'mlp.up_proj.weight': (t) => sliceRows(t, ffn),
      'mlp.down_proj.weight': (t) => (ffn.length === c.intermediateSize ? t : sliceCols(t, ffn)),
    };
    for (const [name, t] of model.tensors) {
      const m = LAYER.exec(name);
      if (!m || Number(m[1]) !== old) continue;
      const f = cut[m[2] as LayerTensor];
      const kept = f ? f(t) : t;
      tensors.set(layerName(l, m[2] as LayerTensor), renamed(kept, layerName(l, m[2] as LayerTensor)));
    }
  });
  const config = validateConfig({ ...c, numHeads: n.heads, numKvHeads: n.kv, intermediateSize: n.ffn, numLayers: layers.length });
  return { ...model, config, tensors };
}

/**
 * The dense model that computes exactly what shrinkModel's result computes: the same shapes, with the
 * removed heads' o_proj columns, the removed channels' down_proj columns and the removed layers' o_proj and
 * down_proj zeroed, so those units add exactly zero to the residual stream. The oracle of the structured tests.
 */
export function maskModel(model: Model, structure: Structure): Model {
  const c = model.config, hd = c.headDim, s = withHeads(c, structure);
  checkStructure(c, s);
  const tensors = new Map(model.tensors);
  const zeroCols = (name: string, keep: readonly number[] | undefined, all: boolean) => {
    const t = model.tensors.get(name)!, [rows, cols] = t.shape, v = toFloat32(t), kept = new Set(keep);
    for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) if (all || (keep && !kept.has(j))) v[r * cols + j] = 0;
    tensors.set(name, f32Tensor(name, t.shape, v));
  };
  const layerKept = new Set(s.layers ?? all(c.numLayers));
  for (let l = 0; l < c.numLayers; l++) {
    const gone = !layerKept.has(l);
    zeroCols(layerName(l, 'self_attn.o_proj.weight'), s.heads && expand(s.heads[l], hd), gone);
    zeroCols(layerName(l, 'mlp.down_proj.weight'), s.channels?.[l], gone);
  }
  return { ...model, tensors };
}

/** One report line per pass: what went, and the parameter count before and after. */
export function reportShrink(ctx: PassContext, pass: string, before: Model, after: Model, detail: Record<string, unknown>) {
  const params = (m: Model) => [...m.tensors.values()].reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
  ctx.report?.({ pass, ...detail, paramsBefore: params(before), paramsAfter: params(after), config: after.config });
}
