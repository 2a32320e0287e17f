// Merge throughput per method: three random models of one shape written as lab artifacts, merged by each
// method from lazy stores (tensor by tensor, as `lab merge` does) into a counting sink. Reports seconds,
// MB/s of input read, and the merge's peak tensor memory against one model's size.
// Prints a table and writes bench/results/merge-<shape>-<date>.json.
//   node --import ./node/register.mjs bench/cli/merge.ts [--shape llama-160m]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSetFromPath } from '../node/files';
import { writeLabArtifact } from '../src/io/lab-artifact';
import type { ModelConfig } from '../src/model/config';
import { modelBytes } from '../src/model/model';
import { MERGE_METHOD_IDS, type MergeMethodId } from '../src/passes/merge/index';
import { planMerge } from '../src/passes/merge/plan';
import { MemoryMeter } from '../src/passes/merge/run';
import { parseMergeSpec } from '../src/passes/merge/spec';
import { openLazyStore } from '../src/passes/merge/store';
import { writeMergedArtifact } from '../src/passes/merge/write-artifact';
import { randomModel } from './forward';

export const MERGE_SMALL: ModelConfig = {
  architecture: 'llama', hiddenSize: 256, intermediateSize: 704, numLayers: 12, numHeads: 4, numKvHeads: 2, headDim: 64,
  vocabSize: 2048, maxPositions: 512, rmsNormEps: 1e-5, ropeTheta: 10000, ropeStyle: 'half', attentionBias: false,
  tieWordEmbeddings: false, bosTokenId: 1, eosTokenId: 2,
};

export interface MergeBenchRow { method: string; seconds: number; inputMB: number; mbPerSecond: number; peakTensorMB: number; modelMB: number }

const SPECS: Record<MergeMethodId, unknown> = {
  linear: { models: [{ model: 'a', parameters: { weight: 1 } }, { model: 'b', parameters: { weight: 1 } }, { model: 'c', parameters: { weight: 1 } }] },
  slerp: { baseModel: 'a', models: [{ model: 'a' }, { model: 'b' }], parameters: { t: 0.5 } },
  task_arithmetic: { baseModel: 'a', models: [{ model: 'b', parameters: { weight: 0.5 } }, { model: 'c', parameters: { weight: 0.5 } }] },
  ties: { baseModel: 'a', models: [{ model: 'b', parameters: { weight: 1, density: 0.5 } }, { model: 'c', parameters: { weight: 1, density: 0.5 } }] },
  dare_ties: { baseModel: 'a', models: [{ model: 'b', parameters: { weight: 0.5, density: 0.5 } }, { model: 'c', parameters: { weight: 0.5, density: 0.5 } }] },
  dare_linear: { baseModel: 'a', models: [{ model: 'b', parameters: { weight: 0.5, density: 0.5 } }, { model: 'c', parameters: { weight: 0.5, density: 0.5 } }] },
  passthrough: { slices: [{ sources: [{ model: 'a', layerRange: [0, 6] }] }, { sources: [{ model: 'b', layerRange: [6, 12] }] }] },
};

export async function benchMerge(config: ModelConfig = MERGE_SMALL): Promise<MergeBenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-merge-'));
  try {
    let modelMB = 0;
    for (const [i, ref] of ['a', 'b', 'c'].entries()) {
      const m = randomModel(config, i + 1);
      modelMB = modelBytes(m) / 1e6;
      writeFileSync(join(dir, `${ref}.safetensors`), writeLabArtifact(m));
    }
    const rows: MergeBenchRow[] = [];
    for (const method of MERGE_METHOD_IDS) {
      const spec = parseMergeSpec({ method, ...(SPECS[method] as object) });
      const plan = await planMerge(spec, (ref) => openLazyStore(fileSetFromPath(join(dir, `${ref}.safetensors`))));
      const inputBytes = plan.jobs.reduce((s, j) => s + j.inputs.reduce((t, x) => t + x.store.info(x.name)!.bytes, 0), 0);
      const meter = new MemoryMeter();
      const t0 = performance.now();
      await writeMergedArtifact(plan, () => {}, { meter });
      const seconds = (performance.now() - t0) / 1000;
      rows.push({ method, seconds, inputMB: inputBytes / 1e6, mbPerSecond: inputBytes / 1e6 / seconds, peakTensorMB: meter.peak / 1e6, modelMB });
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatMergeTable(rows: MergeBenchRow[]): string {
  const head = ['method', 'seconds', 'input MB', 'MB/s', 'peak tensor MB', 'model MB'];
  const body = rows.map((r) => [r.method, r.seconds.toFixed(2), r.inputMB.toFixed(1), r.mbPerSecond.toFixed(1), r.peakTensorMB.toFixed(2), r.modelMB.toFixed(1)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
