import { NM_PATTERNS, nmBytes, type NmPattern } from '../../src/model/dtypes/sparse-nm';
import { modelParams, type Model } from '../../src/model/model';
import { numel } from '../../src/model/tensor';
import { parseRecipe } from '../../src/recipe/schema';
import { num, parse, report, UsageError, type Command } from '../command';
import { compress, summary } from '../compress-run';
import { openModel, tokenizerOf } from '../load';

const UNSTRUCTURED = ['magnitude', 'wanda', 'sparsegpt'] as const;
const STRUCTURED = ['heads', 'channels', 'layers'] as const;
const METHODS: readonly string[] = [...UNSTRUCTURED, ...STRUCTURED];
/** Which methods each method-specific flag applies to. */
const FLAG_METHODS: Record<string, readonly string[]> = {
  pattern: UNSTRUCTURED, allocation: UNSTRUCTURED, dtype: ['sparsegpt'], unit: ['heads'], 'multiple-of': ['channels'], count: ['layers'],
};

export const pruneCommand: Command = {
  usage: '<model> --method magnitude|wanda|sparsegpt|heads|channels|layers [--sparsity 0.5] [--pattern 2:4|4:8] [--allocation owl] [--dtype q4_0|q5_0|q8_0 (sparsegpt: prune and quantize in one sweep)] [--unit kv-group|query] [--multiple-of N] [--count N] [--calib <file|task>] [--out PATH] [--json]',
  summary: 'prune with one method: zeros, unstructured or N:M (magnitude, wanda, sparsegpt), or a smaller config (heads, channels, layers)',
  async run(argv, signal) {
    const { values, positionals } = parse(argv, {
      method: { type: 'string', default: 'wanda' }, sparsity: { type: 'string' }, pattern: { type: 'string' }, allocation: { type: 'string' }, dtype: { type: 'string' },
      unit: { type: 'string' }, 'multiple-of': { type: 'string' }, count: { type: 'string' },
      calib: { type: 'string' }, data: { type: 'string' }, out: { type: 'string' },
      sequences: { type: 'string' }, length: { type: 'string' }, seed: { type: 'string' },
    });
    const method = values.method as string;
    if (!METHODS.includes(method)) throw new UsageError(`--method must be one of ${METHODS.join(', ')}`);
    for (const [flag, methods] of Object.entries(FLAG_METHODS)) {
      if (values[flag as keyof typeof values] !== undefined && !methods.includes(method)) throw new UsageError(`--${flag} applies to ${methods.join(', ')}, not ${method}`);
    }
    const structured = (STRUCTURED as readonly string[]).includes(method);
    const params: Record<string, unknown> = {
      ...(values.sparsity !== undefined || !structured ? { sparsity: num(values.sparsity, 'sparsity', 0.5) } : {}),
      ...(values.pattern !== undefined ? { pattern: values.pattern } : {}),
      ...(values.allocation !== undefined ? { allocation: values.allocation } : {}),
      ...(values.dtype !== undefined ? { dtype: values.dtype } : {}),
      ...(values.unit !== undefined ? { unit: values.unit } : {}),
      ...(values['multiple-of'] !== undefined ? { multipleOf: num(values['multiple-of'], 'multiple-of', 1) } : {}),
      ...(values.count !== undefined ? { count: num(values.count, 'count', 1) } : {}),
    };
    let recipe;
    try {
      recipe = parseRecipe({
        schema: 'lab.recipe/1',
        name: `${method}-${values.pattern ?? values.count ?? params.sparsity ?? 'default'}${values.dtype ? `-${values.dtype}` : ''}`,
        calibration: { sequences: num(values.sequences, 'sequences', 32), length: num(values.length, 'length', 128), seed: num(values.seed, 'seed', 1) },
        passes: [{ pass: method, params }],
      }, 'command line');
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const model = await openModel(positionals[0], signal);
    const o = await compress(positionals[0]!, model, tokenizerOf(model), recipe, {
      calib: values.calib as string | undefined, dataDir: values.data as string | undefined, out: values.out as string | undefined, signal,
    });
    const entries = o.report[0].entries;
    const shrink = entries.find((e) => e.config);
    const config = (shrink?.config as Model['config'] | undefined) ?? model.config;
    const pruned = entries.filter((e) => typeof e.tensor === 'string' && typeof e.sparsity === 'number');
    const weights = pruned.reduce((s, e) => s + numel(model.tensors.get(e.tensor as string)!.shape), 0);
    const zeros = pruned.reduce((s, e) => s + (e.sparsity as number) * numel(model.tensors.get(e.tensor as string)!.shape), 0);
    const pattern = values.pattern as NmPattern | undefined;
    const result = {
      ...o, method,
      paramsBefore: modelParams(model),
      paramsAfter: (shrink?.paramsAfter as number | undefined) ?? modelParams(model),
      config,
      /** Fraction of zeros over the pruned tensors (unstructured and N:M methods). */
      sparsity: structured ? null : weights ? zeros / weights : 0,
      /** The artifact's bytes with its N:M matrices packed (f32 values + indices), as the WebGPU runtime holds them. */
      packedBytes: pattern && pattern in NM_PATTERNS && values.dtype === undefined ? o.bytes + pruned.reduce((s, e) => {
        const [rows, cols] = model.tensors.get(e.tensor as string)!.shape;
        return s + nmBytes({ ...NM_PATTERNS[pattern], valueType: 'f32', rows, cols }) - rows * cols * 4;
      }, 0) : null,
    };
    const dims = (c: Model['config']) => `${c.numLayers} layers, ${c.numHeads} heads (${c.numKvHeads} kv), ffn ${c.intermediateSize}`;
    report(!!values.json, result as unknown as Record<string, unknown>, () => [
      summary(o),
      structured
        ? `config: ${dims(model.config)} -> ${dims(config)}; parameters ${result.paramsBefore.toLocaleString('en-US')} -> ${result.paramsAfter.toLocaleString('en-US')}`
        : `pruned tensors: ${(result.sparsity! * 100).toFixed(1)}% zeros (exact zeros in ${values.dtype ?? 'f32'})${result.packedBytes !== null ? `; packed ${pattern}: ${result.packedBytes.toLocaleString('en-US')} B` : ''}`,
    ].join('\n'));
  },
};
