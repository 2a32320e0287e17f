// Small buffer helpers. Storage buffers also carry COPY_SRC/COPY_DST so tests and the runtime can
// upload into and read back from any of them.

const STORAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** A storage buffer of `bytes` (at least 4: WebGPU rejects empty bindings), zero-filled. */
export function storageBuffer(device: GPUDevice, label: string, bytes: number): GPUBuffer {
  return device.createBuffer({ label, size: align4(Math.max(bytes, 4)), usage: STORAGE() });
}

/** A storage buffer holding `data` (f32 or u32 values, or raw bytes whose length is a multiple of 4). */
export function uploadBuffer(device: GPUDevice, label: string, data: Float32Array | Uint32Array | Uint8Array): GPUBuffer {
  const buffer = storageBuffer(device, label, data.byteLength);
  if (data.byteLength > 0) device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  return buffer;
}

/** A mappable buffer for reading results back. */
export function stagingBuffer(device: GPUDevice, label: string, bytes: number): GPUBuffer {
  return device.createBuffer({ label, size: align4(Math.max(bytes, 4)), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
}

/** Copy `count` f32 values starting at element `first` of `src` to the CPU (a one-off staging buffer). */
export async function readFloats(device: GPUDevice, src: GPUBuffer, count: number, first = 0): Promise<Float32Array> {
  const staging = stagingBuffer(device, 'readback', count * 4);
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(src, first * 4, staging, 0, count * 4);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(staging.getMappedRange().slice(0, count * 4));
  staging.unmap();
  staging.destroy();
  return out;
}

const align4 = (n: number) => Math.ceil(n / 4) * 4;
