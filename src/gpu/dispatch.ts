// One dispatch of a kernel on fixed buffers: its bind group and params slot are made once, then
// record() writes the params and appends the dispatch to a compute pass, as often as needed.
// A Dispatch may be recorded once per submission (its params slot holds one value at a time).
import type { GpuContext } from './context';
import type { Kernel, KernelBuffers, KernelParams } from './kernel';
import type { UniformArena, UniformSlot } from './uniforms';

export class Dispatch<K extends Kernel> {
  private readonly slot: UniformSlot;
  private readonly bindGroup: GPUBindGroup;

  constructor(
    private readonly ctx: GpuContext,
    private readonly arena: UniformArena,
    readonly kernel: K,
    buffers: KernelBuffers<K>,
  ) {
    this.slot = arena.alloc();
    const named = buffers as Record<string, GPUBuffer>;
    this.bindGroup = ctx.device.createBindGroup({
      label: kernel.label,
      layout: ctx.layout(kernel),
      entries: [
        { binding: 0, resource: { buffer: this.slot.page.buffer, offset: this.slot.offset, size: this.slot.size } },
        ...Object.keys(kernel.buffers).map((name, i) => {
          const buffer = named[name];
          if (!buffer) throw new Error(`${kernel.label}: no buffer for binding ${name}`);
          return { binding: i + 1, resource: { buffer } };
        }),
      ],
    });
  }

  /**
   * Append this dispatch to `pass`. `variant` swaps in another kernel with the same signature
   * (e.g. matvec for matmul when there is a single row); the bind group is shared.
   */
  record(pass: GPUComputePassEncoder, params: KernelParams<K>, variant: K = this.kernel) {
    this.arena.write(this.slot, variant.params, params);
    pass.setPipeline(this.ctx.pipeline(variant));
    pass.setBindGroup(0, this.bindGroup);
    pass.dispatchWorkgroups(...variant.grid(params));
  }
}
