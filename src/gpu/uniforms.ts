// Params for every dispatch live in 256-byte slots of a few shared uniform buffers. A slot is bound
// once (bind groups are built ahead and reused); per forward, the CPU mirror is filled and each page
// is uploaded with a single writeBuffer before submit, instead of one small buffer write per dispatch.
import type { ParamType } from './kernel';

const SLOTS_PER_PAGE = 64;

interface Page {
  buffer: GPUBuffer;
  bytes: ArrayBuffer;
  u32: Uint32Array;
  f32: Float32Array;
  used: number;
  dirty: boolean;
}

export interface UniformSlot {
  readonly page: Page;
  readonly offset: number;
  readonly size: number;
}

export class UniformArena {
  private readonly pages: Page[] = [];
  private readonly slotSize: number;

  constructor(private readonly device: GPUDevice) {
    this.slotSize = Math.max(256, device.limits.minUniformBufferOffsetAlignment);
  }

  alloc(): UniformSlot {
    let page = this.pages.at(-1);
    if (!page || page.used === SLOTS_PER_PAGE) {
      const size = this.slotSize * SLOTS_PER_PAGE;
      const bytes = new ArrayBuffer(size);
      const buffer = this.device.createBuffer({ label: 'params', size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
      page = { buffer, bytes, u32: new Uint32Array(bytes), f32: new Float32Array(bytes), used: 0, dirty: false };
      this.pages.push(page);
    }
    return { page, offset: this.slotSize * page.used++, size: this.slotSize };
  }

  /** Fill a slot's mirror; visible to the GPU after the next flush(). */
  write(slot: UniformSlot, types: Record<string, ParamType>, values: Record<string, number>) {
    const { page } = slot;
    let i = slot.offset / 4;
    for (const [name, type] of Object.entries(types)) {
      const v = values[name];
      if (type === 'u32') {
        if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`param ${name} = ${v} is not a u32`);
        page.u32[i++] = v;
      } else page.f32[i++] = v;
    }
    page.dirty = true;
  }

  /** Upload every page written since the last flush (queue-ordered before later submits). */
  flush() {
    for (const p of this.pages) {
      if (!p.dirty) continue;
      this.device.queue.writeBuffer(p.buffer, 0, p.bytes, 0, p.used * this.slotSize);
      p.dirty = false;
    }
  }

  destroy() {
    for (const p of this.pages) p.buffer.destroy();
    this.pages.length = 0;
  }
}
