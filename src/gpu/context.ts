// Per-device caches: bind group layouts by signature and compiled pipelines by kernel. Shared by every
// runtime and test on a device, so each WGSL module compiles once per process.
import type { Access, Kernel } from './kernel';

export class GpuContext {
  private readonly layouts = new Map<string, GPUBindGroupLayout>();
  private readonly pipelines = new Map<Kernel, Promise<GPUComputePipeline>>();
  private readonly ready = new Map<Kernel, GPUComputePipeline>();

  private constructor(readonly device: GPUDevice) {}

  private static readonly byDevice = new WeakMap<GPUDevice, GpuContext>();
  static for(device: GPUDevice): GpuContext {
    let ctx = GpuContext.byDevice.get(device);
    if (!ctx) GpuContext.byDevice.set(device, (ctx = new GpuContext(device)));
    return ctx;
  }

  layout(kernel: Kernel): GPUBindGroupLayout {
    const access = Object.values(kernel.buffers) as Access[];
    const key = access.join(',');
    let layout = this.layouts.get(key);
    if (!layout) {
      layout = this.device.createBindGroupLayout({
        label: `params,${key}`,
        entries: [
          { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } },
          ...access.map((a, i): GPUBindGroupLayoutEntry => ({
            binding: i + 1,
            visibility: GPUShaderStage.COMPUTE,
            buffer: { type: a === 'read' ? 'read-only-storage' : 'storage' },
          })),
        ],
      });
      this.layouts.set(key, layout);
    }
    return layout;
  }

  /** Compile (once) every kernel given; afterwards pipeline() returns them synchronously. */
  async compile(...kernels: Kernel[]): Promise<void> {
    for (const k of kernels) {
      let p = this.pipelines.get(k);
      if (!p) {
        p = this.compileOne(k);
        p.catch(() => this.pipelines.delete(k));
        this.pipelines.set(k, p);
      }
      await p;
    }
  }

  // createComputePipeline, not ...Async: dawn.node 0.6 deadlocks on the async form (SwiftShader), and
  // compile() runs once per kernel and device, off the forward path.
  private async compileOne(kernel: Kernel): Promise<GPUComputePipeline> {
    const { device } = this;
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ label: kernel.label, code: kernel.code });
    const pipeline = device.createComputePipeline({
      label: kernel.label,
      layout: device.createPipelineLayout({ bindGroupLayouts: [this.layout(kernel)] }),
      compute: { module, entryPoint: 'main', constants: kernel.constants },
    });
    const error = await device.popErrorScope();
    if (error) {
      const info = await module.getCompilationInfo();
      const lines = info.messages.map((m) => `${m.type} at ${m.lineNum}:${m.linePos}: ${m.message}`);
      throw new Error(`kernel ${kernel.label} failed to compile: ${[error.message, ...lines].join('\n')}`);
    }
    this.ready.set(kernel, pipeline);
    return pipeline;
  }

  pipeline(kernel: Kernel): GPUComputePipeline {
    const p = this.ready.get(kernel);
    if (!p) throw new Error(`kernel ${kernel.label} used before compile()`);
    return p;
  }
}
