// Every kernel's composed WGSL, for every weight format: it compiles with no errors (getCompilationInfo),
// and the Params struct and storage bindings the pieces declare are those the definition lists, in order.
// One pipeline per distinct source is built too (with the kernel's constants and the bind group layout
// derived from its definition): formats that differ only in constants share a source, and a SwiftShader
// pipeline costs about a second.
// Kernels are glued from shared .wgsl pieces, so a broken or mismatched piece fails here, fast, before
// any numeric test. (Numbers are checked against cpu-reference in the other files of this folder.)
import { describe, expect, it } from 'vitest';
import type { Kernel } from '../../src/gpu/kernel';
import { ALL_KERNELS, QUANT_MATMUL } from '../../src/gpu/kernels';
import { SPARSE_MATMUL } from '../../src/gpu/sparse';
import { TRAIN_KERNELS } from '../../src/gpu/train/kernels';
import { ctx, device, useGpu } from './setup';

useGpu([]); // the compiling is what these tests do
const built = new Set<string>();

const families: [string, Kernel[]][] = [
  ['forward', ALL_KERNELS],
  ['training', TRAIN_KERNELS],
  ...Object.entries(QUANT_MATMUL).map(([f, k]): [string, Kernel[]] => [`quantized ${f}`, Object.values(k)]),
  ...Object.entries(SPARSE_MATMUL).map(([f, k]): [string, Kernel[]] => [`sparse ${f}`, Object.values(k).flatMap((v) => Object.values(v))]),
];

/** The Params fields and the storage bindings (name, access) the WGSL declares, in order. */
function declared(code: string) {
  const struct = /struct Params \{([^}]*)\}/.exec(code)?.[1] ?? '';
  const params = [...struct.matchAll(/(\w+)\s*:\s*(\w+)/g)].map((m) => `${m[1]}: ${m[2]}`);
  const bindings = [...code.matchAll(/@binding\((\d+)\) var<(uniform|storage)(?:, (read_write|read))?> (\w+)/g)]
    .map((m) => ({ binding: Number(m[1]), what: m[2] === 'uniform' ? `uniform ${m[4]}` : `${m[4]}: ${m[3]}` }))
    .sort((a, b) => a.binding - b.binding);
  return { params, bindings: bindings.map((b) => `${b.binding} ${b.what}`) };
}

describe.each(families)('%s kernels', (_, kernels) => {
  it('declare the params and bindings of their definitions', () => {
    for (const k of kernels) {
      expect(declared(k.code), k.label).toEqual({
        params: Object.entries(k.params).map(([n, t]) => `${n}: ${t}`),
        bindings: ['0 uniform p', ...Object.entries(k.buffers).map(([n, a], i) => `${i + 1} ${n}: ${a}`)],
      });
    }
  });

  it('compile without errors and build their pipelines', async () => {
    for (const k of kernels) {
      const info = await device.createShaderModule({ label: k.label, code: k.code }).getCompilationInfo();
      const errors = info.messages.filter((m) => m.type === 'error').map((m) => `${m.lineNum}:${m.linePos} ${m.message}`);
      expect(errors, k.label).toEqual([]);
    }
    const distinct = [...new Map(kernels.map((k) => [k.code, k])).values()].filter((k) => !built.has(k.code));
    await ctx.compile(...distinct);
    for (const k of distinct) {
      expect(ctx.pipeline(k), k.label).toBeDefined();
      built.add(k.code);
    }
  });
});
