// `lab prune`: a structured prune in a real child process writes a smaller GGUF that `lab inspect` reads back
// with the new config; in process (no second Node start-up), a 2:4 SparseGPT prune reports its sparsity and
// packed size, and misuse is a usage error naming the flag.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, vi } from 'vitest';
import { UsageError } from '../../cli/command';
import { pruneCommand } from '../../cli/commands/prune';
import { nmBytes } from '../../src/model/dtypes/sparse-nm';
import { describeWithShared, sharedPath, STORIES } from '../fixtures';
import { lab } from '../cli';


describeWithShared('lab prune', [STORIES.gguf, STORIES.tinystories], () => {
  const model = sharedPath(STORIES.gguf);
  const calib = ['--calib', sharedPath(STORIES.tinystories), '--sequences', '4', '--length', '64'];

  it('--method channels writes a smaller GGUF with the new config; --method sparsegpt --pattern 2:4 reports its packed size', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'lab-prune-')), 'small.gguf');
    const r = await lab('prune', model, '--method', 'channels', '--sparsity', '0.25', '--multiple-of', '8', ...calib, '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(o.config).toMatchObject({ intermediateSize: 128, numLayers: 5, numHeads: 8 });
    expect(o.paramsAfter).toBe(o.paramsBefore - 5 * 3 * 64 * (172 - 128));
    const back = JSON.parse((await lab('inspect', out, '--json')).stdout);
    expect(back).toMatchObject({ parameters: o.paramsAfter, bytes: o.bytes });
    expect(back.config.intermediateSize).toBe(128);

    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
    try {
      await pruneCommand.run([model, '--method', 'sparsegpt', '--pattern', '2:4', ...calib, '--json'], new AbortController().signal);
    } finally {
      log.mockRestore();
    }
    const p = JSON.parse(printed[0]);
    expect(p.sparsity).toBe(0.5);
    // every block linear (down_proj's 172 inputs are whole groups of 4) packed: 17/32 of its f32 bytes
    const linears = 5 * (64 * 64 * 2 + 32 * 64 * 2 + 172 * 64 * 3);
    const packed = 5 * (2 * nmBytes({ n: 2, m: 4, valueType: 'f32', rows: 64, cols: 64 }) + 2 * nmBytes({ n: 2, m: 4, valueType: 'f32', rows: 32, cols: 64 })
      + 2 * nmBytes({ n: 2, m: 4, valueType: 'f32', rows: 172, cols: 64 }) + nmBytes({ n: 2, m: 4, valueType: 'f32', rows: 64, cols: 172 }));
    expect(p.packedBytes).toBe(p.bytes - linears * 4 + packed);
    console.log(`lab prune: channels 0.25 -> ${o.paramsBefore} -> ${o.paramsAfter} params, ${o.baseBytes} -> ${o.bytes} B; sparsegpt 2:4 packed ${p.bytes} -> ${p.packedBytes} B`);
  });

  it('misuse: usage errors naming the problem (main() turns them into exit code 2)', async () => {
    const prune = (...args: string[]) => pruneCommand.run([model, ...args], new AbortController().signal);
    await expect(prune('--method', 'heads', '--pattern', '2:4')).rejects.toThrow(new UsageError('--pattern applies to magnitude, wanda, sparsegpt, not heads'));
    await expect(prune('--method', 'lottery')).rejects.toThrow(/--method must be one of magnitude, wanda, sparsegpt, heads, channels, layers/);
    await expect(prune('--method', 'wanda', '--sparsity', '2')).rejects.toThrow(UsageError);
    await expect(prune('--method', 'wanda', '--sparsity', '2')).rejects.toThrow(/passes\.0 \(wanda\): sparsity/);
  });
});
