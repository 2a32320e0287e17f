// What `lab compress` and `lab quant` share: calibration text, running the recipe with progress, writing the
// artifact in the format its extension names, and the summary they print.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirSource } from '../node/data-source';
import { modelFileSet } from '../node/files';
import { nodeModelResolver } from '../node/model-resolver';
import { DEFAULT_DATA_DIR } from '../node/paths';
import { loadTaskLibrary } from '../node/tasks';
import { loadDocs } from '../src/eval/data-formats';
import { exportGguf } from '../src/io/gguf-export';
import { sha256Hex, sha256OfBytes } from '../src/io/hash';
import { writeLabArtifact } from '../src/io/lab-artifact';
import { DTYPES } from '../src/model/dtype';
import { modelBytes, type Model } from '../src/model/model';
import type { Tokenizer } from '../src/model/tokenizer/spec';
import { calibrationFromTokens } from '../src/passes/calibration';
import { passes } from '../src/passes/index';
import { recipeHash } from '../src/recipe/hash';
import { runRecipe } from '../src/recipe/runner';
import type { NormalizedRecipe } from '../src/recipe/schema';
import { endProgress, progressLine, UsageError } from './command';

async function calibrationText(source: string, dataDir: string): Promise<string> {
  if (existsSync(source)) return readFileSync(source, 'utf8');
  const task = loadTaskLibrary().get(source);
  if (!task) throw new UsageError(`calibration source "${source}" is neither a file nor a task of static/tasks`);
  if (!existsSync(dataDir)) throw new UsageError(`data folder ${dataDir} not found; pass --data DIR or --calib <file>`);
  return (await loadDocs(dirSource(dataDir), task.data)).map((d) => String(d.text ?? '')).join('\n\n');
}

export interface CompressOutcome {
  recipe: string;
  recipeHash: string;
  baseSha256: string;
  bytes: number;
  baseBytes: number;
  dtypes: Record<string, number>;
  out: string | null;
  artifactSha256: string | null;
  seconds: number;
  report: { pass: string; seconds: number; entries: Record<string, unknown>[] }[];
}

export async function compress(
  modelPath: string, model: Model, tok: Tokenizer, recipe: NormalizedRecipe,
  opts: { calib?: string; dataDir?: string; out?: string; signal: AbortSignal; /** where a merge step's model paths resolve first */ recipeDir?: string },
): Promise<CompressOutcome> {
  if (opts.out && !/\.(gguf|safetensors)$/.test(opts.out)) throw new UsageError(`--out ${opts.out}: use a .gguf or .safetensors file name`);
  const files = modelFileSet(modelPath);
  const [main] = [...files.values()].sort((a, b) => b.size - a.size);
  const baseSha256 = await sha256Hex(main, opts.signal);
  const c = recipe.calibration;
  let calibration;
  if (recipe.passes.some((s) => passes[s.pass].needsCalibration)) {
    const tokens = tok.encode((await calibrationText(opts.calib ?? c.source, opts.dataDir ?? DEFAULT_DATA_DIR)).replace(/\r\n/g, '\n'));
    const half = Math.floor(tokens.length / 2);
    const pool = c.half === 'second' ? tokens.slice(half) : c.half === 'first' ? tokens.slice(0, half) : tokens;
    calibration = calibrationFromTokens(pool, c.sequences, c.length, c.seed, tok.bosId, `${opts.calib ?? c.source} (${c.half} half)`);
  }
  const t0 = performance.now();
  const run = await runRecipe(model, recipe, {
    calibration, signal: opts.signal,
    onProgress: progressLine,
    models: nodeModelResolver(opts.recipeDir ?? process.cwd(), { signal: opts.signal }),
  });
  endProgress();
  const dtypes: Record<string, number> = {};
  for (const t of run.model.tensors.values()) dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1;
  let artifactSha256: string | null = null;
  if (opts.out) {
    const bytes = writeArtifact(run.model, opts.out);
    writeFileSync(opts.out, bytes);
    artifactSha256 = sha256OfBytes(bytes);
  }
  return {
    recipe: recipe.name, recipeHash: recipeHash(baseSha256, recipe), baseSha256,
    bytes: modelBytes(run.model), baseBytes: modelBytes(model), dtypes,
    out: opts.out ?? null, artifactSha256, seconds: (performance.now() - t0) / 1000, report: run.report,
  };
}

function writeArtifact(model: Model, out: string): Uint8Array {
  if (out.endsWith('.gguf')) {
    const foreign = [...new Set([...model.tensors.values()].map((t) => t.dtype))].filter((d) => DTYPES[d].ggmlType === undefined);
    if (foreign.length) throw new UsageError(`${foreign.join(', ')} ${foreign.length > 1 ? 'have' : 'has'} no GGUF type; write a .safetensors (lab artifact) instead`);
    return exportGguf(model);
  }
  if (out.endsWith('.safetensors')) return writeLabArtifact(model);
  throw new UsageError(`--out ${out}: use a .gguf or .safetensors file name`);
}

export function summary(o: CompressOutcome): string {
  const kb = (b: number) => `${b.toLocaleString('en-US')} B`;
  return [
    `${o.recipe}: ${kb(o.baseBytes)} -> ${kb(o.bytes)} (${((100 * o.bytes) / o.baseBytes).toFixed(1)}%) in ${o.seconds.toFixed(1)} s`,
    `dtypes: ${Object.entries(o.dtypes).map(([d, n]) => `${n} ${d}`).join(', ')}`,
    `recipe hash ${o.recipeHash}`,
    ...(o.out ? [`wrote ${o.out} (sha256 ${o.artifactSha256})`] : []),
  ].join('\n');
}
