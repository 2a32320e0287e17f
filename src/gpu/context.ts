// Per-device caches: bind group layouts by signature and compiled pipelines by kernel. Shared by every
// runtime and test on a device, so each WGSL module compiles once per process.
import { adapterClass, type AdapterClass } from './device';
import type { Access, Kernel } from './kernel';

export class GpuContext {
  private readonly layouts = new Map<string, GPUBindGroupLayout>();
  private readonly pipelines = new Map<Kernel, Promise<GPUComputePipeline>>();
  private readonly ready = new Map<Kernel, GPUComputePipeline>();

  /** Which kernel variants suit this device (see adapterClass). */
  readonly adapterClass: AdapterClass;

  private constructor(readonly device: GPUDevice) {
    this.adapterClass = adapterClass(device);
  }

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
    await Promise.all(kernels.map((k) => this.compileOne(k)));
  }

  private compileOne(kernel: Kernel): Promise<GPUComputePipeline> {
    let p = this.pipelines.get(kernel);
    if (!p) {
      p = this.create(kernel);
      p.catch(() => this.pipelines.delete(kernel));
      this.pipelines.set(kernel, p);
    }
    return p;
  }

  private async create(kernel: Kernel): Promise<GPUComputePipeline> {
    const { device } = this;
    const module = device.createShaderModule({ label: kernel.label, code: kernel.code });
    try {
      const pipeline = await device.createComputePipelineAsync({
        label: kernel.label,
        layout: device.createPipelineLayout({ bindGroupLayouts: [this.layout(kernel)] }),
        compute: { module, entryPoint: 'main', constants: kernel.constants },
      });
      this.ready.set(kernel, pipeline);
      return pipeline;
    } catch (e) {
      const info = await module.getCompilationInfo();
      const lines = info.messages.map((m) => `${m.type} at ${m.lineNum}:${m.linePos}: ${m.message}`);
      throw new Error(`kernel ${kernel.label} failed to compile: ${[(e as Error).message, ...lines].join('\n')}`);
    }
  }

  pipeline(kernel: Kernel): GPUComputePipeline {
    const p = this.ready.get(kernel);
    if (!p) throw new Error(`kernel ${kernel.label} used before compile()`);
    return p;
  }
}
