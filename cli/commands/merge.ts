import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileSource } from '../../node/files';
import { nodeModelResolver } from '../../node/model-resolver';
import { exportGguf } from '../../src/io/gguf-export';
import { sha256Hex } from '../../src/io/hash';
import { parseMergekitYaml } from '../../src/io/mergekit-yaml';
import { SELF } from '../../src/passes/merge/pass';
import { planMerge, type ModelResolver } from '../../src/passes/merge/plan';
import { collectMerge, MemoryMeter } from '../../src/passes/merge/run';
import type { MergeSpec } from '../../src/passes/merge/spec';
import { writeMergedArtifact } from '../../src/passes/merge/write-artifact';
import { parseRecipe } from '../../src/recipe/schema';
import { endProgress, parse, progressLine, report, UsageError, type Command } from '../command';

function readSpec(path: string): MergeSpec {
  const text = readFileSync(path, 'utf8');
  if (/\.ya?ml$/i.test(path)) return parseMergekitYaml(text, path);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: neither YAML (by its name) nor JSON (${(e as Error).message})`);
  }
  const recipe = parseRecipe(json, path);
  if (recipe.passes.length !== 1 || recipe.passes[0].pass !== 'merge') {
    throw new UsageError(`${path}: lab merge runs a recipe whose one pass is merge; chain other passes with lab compress`);
  }
  return recipe.passes[0].params as MergeSpec;
}


export const mergeCommand: Command = {
  usage: '[model] --config merge.yaml|recipe.json --out merged.safetensors|merged.gguf [--json]',
  summary: 'merge models as a mergekit YAML config or a lab merge recipe says, tensor by tensor ("self" in the config is [model])',
  async run(argv, signal) {
    const { values, positionals } = parse(argv, { config: { type: 'string' }, out: { type: 'string' } });
    const config = values.config as string | undefined;
    const out = values.out as string | undefined;
    if (!config) throw new UsageError('--config is required');
    if (!out) throw new UsageError('--out is required');
    if (!/\.(safetensors|gguf)$/.test(out)) throw new UsageError(`--out ${out}: use a .safetensors (streamed) or .gguf file name`);
    if (!existsSync(config)) throw new Error(`${config}: no such file`);
    const spec = readSpec(config);
    const configDir = dirname(resolve(config));
    const refs: Record<string, string> = {};
    const aliases: Record<string, string> = positionals[0] ? { [SELF]: resolve(positionals[0]) } : {};
    const resolveOther = nodeModelResolver(configDir, { signal, aliases, hashes: refs });
    const open: ModelResolver = async (ref, sha256) => {
      if (ref === SELF && !positionals[0]) throw new UsageError(`the config merges "${SELF}": give that model as the first argument`);
      return resolveOther(ref, sha256);
    };
    const t0 = performance.now();
    const plan = await planMerge(spec, open);
    const meter = new MemoryMeter();
    const opts = { signal, meter, onProgress: progressLine };
    // written under a temporary name, so a failed or cancelled merge never leaves a half file at --out
    const partial = `${out}.partial`;
    try {
      if (out.endsWith('.safetensors')) {
        const fd = openSync(partial, 'w');
        try {
          await writeMergedArtifact(plan, (b) => { writeSync(fd, b); }, opts);
        } finally {
          closeSync(fd);
        }
      } else {
        writeFileSync(partial, exportGguf(await collectMerge(plan, opts)));
      }
      renameSync(partial, out);
    } catch (e) {
      rmSync(partial, { force: true });
      throw e;
    } finally {
      endProgress();
    }
    const written = fileSource(out);
    const result = {
      method: spec.method, models: refs, layers: plan.config.numLayers, tensors: plan.jobs.length,
      out, bytes: written.size, sha256: await sha256Hex(written, signal),
      peakTensorBytes: meter.peak, seconds: (performance.now() - t0) / 1000,
    };
    report(!!values.json, result, () => [
      `${spec.method} merge of ${Object.keys(refs).length} models: ${result.tensors} tensors, ${result.layers} layers in ${result.seconds.toFixed(1)} s`,
      `peak tensor memory ${result.peakTensorBytes.toLocaleString('en-US')} B`,
      `wrote ${out} (${result.bytes.toLocaleString('en-US')} B, sha256 ${result.sha256})`,
    ].join('\n'));
  },
};
