// Straight-through quantization-aware training on the GPU, as the CPU's fullTrainable with fakeQuant: the
// optimizer updates f32 masters, and after every update (and at the start) the forward's weights are
// rewritten as decode(encode(master)) in each tensor's stored dtype by one kernel per format family.
// Gradients are taken at the fake-quantized weights and applied to the masters unchanged. Each kernel
// reproduces the CPU encoder's arithmetic (f16 scale rounding included), so the forward sees the same
// weights as the CPU trainer's; formats without such a kernel are refused by name.
import type { DTypeId } from '../../model/dtype';
import { DTYPES } from '../../model/dtype';
import type { Model } from '../../model/model';
import type { GpuContext } from '../context';
import { Dispatch } from '../dispatch';
import { defineKernel, grid1d, type Kernel } from '../kernel';
import itemsWgsl from '../kernels/items.wgsl?raw';
import divRnWgsl from '../kernels/train/div-rn.wgsl?raw';
import bf16Wgsl from '../kernels/train/fake-bf16.wgsl?raw';
import copyWgsl from '../kernels/train/fake-copy.wgsl?raw';
import f16Wgsl from '../kernels/train/fake-f16.wgsl?raw';
import qSignedWgsl from '../kernels/train/fake-q-signed.wgsl?raw';
import q8Wgsl from '../kernels/train/fake-q8_0.wgsl?raw';
import ioWgsl from '../kernels/train/fake-quant-io.wgsl?raw';
import halfWgsl from '../kernels/train/half-round.wgsl?raw';
import type { UniformArena } from '../uniforms';
import type { Op } from './graph';
import type { ParamGroup } from './params';

const fakeKernel = (label: string, body: string, constants: Record<string, number>) => defineKernel({
  label: `fake_quant_${label}`, pieces: [ioWgsl, body, halfWgsl, divRnWgsl, itemsWgsl], constants: { WG: 64, ...constants },
  params: { count: 'u32', offset: 'u32' },
  buffers: { master: 'read', fw: 'read_write' },
  grid: (p) => grid1d(p.count, 64),
});

/** fw = master for an f32 tensor grouped with fake-quantized ones. */
export const fakeCopy = fakeKernel('copy', copyWgsl, { BLOCK: 1 });

/** The fake-quantization kernel of each dtype the GPU trainer can train through. */
export const FAKE_QUANT: Partial<Record<DTypeId, Kernel>> = {
  f16: fakeKernel('f16', f16Wgsl, { BLOCK: 1 }),
  bf16: fakeKernel('bf16', bf16Wgsl, { BLOCK: 1 }),
  q8_0: fakeKernel('q8_0', q8Wgsl, { BLOCK: 32 }),
  q4_0: fakeKernel('q4_0', qSignedWgsl, { BLOCK: 32, HALF: 8 }),
  q5_0: fakeKernel('q5_0', qSignedWgsl, { BLOCK: 32, HALF: 16 }),
};

export const FAKE_QUANT_KERNELS = [fakeCopy, ...Object.values(FAKE_QUANT) as Kernel[]];

/** Why the GPU trainer cannot train through `dtype` (undefined: it can). */
export function fakeQuantUnsupported(dtype: DTypeId): string | undefined {
  if (dtype === 'f32' || FAKE_QUANT[dtype]) return undefined;
  return `training through ${dtype} (straight-through) is CPU-only; the WebGPU trainer handles ${Object.keys(FAKE_QUANT).join(', ')}`;
}

/**
 * The kernels a trainer with these fake-quantized tensors needs (none when all are f32); refuses, naming the
 * tensor, a dtype the GPU has no kernel for.
 */
export function fakeQuantKernels(fakeQuant: ReadonlyMap<string, DTypeId> = new Map()): Kernel[] {
  const kernels = new Set<Kernel>();
  for (const [name, dtype] of fakeQuant) {
    const why = fakeQuantUnsupported(dtype);
    if (why) throw new Error(`GPU training: ${name} is stored as ${dtype}; ${why}`);
    if (dtype !== 'f32') kernels.add(FAKE_QUANT[dtype]!);
  }
  return kernels.size ? [fakeCopy, ...kernels] : [];
}

/** The dispatches that rewrite every fake-quantized group's forward weights from its masters. */
export function fakeQuantOps(ctx: GpuContext, arena: UniformArena, groups: readonly ParamGroup[]): Op[] {
  const ops: Op[] = [];
  for (const g of groups) {
    if (g.fw === g.w) continue;
    for (const part of g.parts) {
      const kernel = part.fakeQuant ? FAKE_QUANT[part.fakeQuant] : fakeCopy;
      if (!kernel) throw new Error(`${part.name}: ${fakeQuantUnsupported(part.fakeQuant!)}`);
      const block = part.fakeQuant ? DTYPES[part.fakeQuant].blockSize : 1;
      if (part.count % block) throw new Error(`${part.name}: ${part.count} weights is not a whole number of ${part.fakeQuant} blocks (${block})`);
      ops.push({ dispatch: new Dispatch(ctx, arena, kernel, { master: g.w, fw: g.fw }), params: { count: part.count / block, offset: part.offset } });
    }
  }
  return ops;
}

/** Why the GPU trainer cannot train `model` straight-through its stored formats, naming the tensor (undefined: it can). */
export function gpuTrainingUnsupported(model: Model): string | undefined {
  for (const t of model.tensors.values()) {
    const why = fakeQuantUnsupported(t.dtype);
    if (why) return `${t.name} is ${t.dtype}: ${why}`;
  }
  return undefined;
}
