// Device acquisition shared by every host: the browser passes nothing (navigator.gpu), Node passes the
// GPU object from the `webgpu` package (node/gpu.ts). Nothing here touches Node APIs.

/** Limits we raise to the adapter's maximum: model weights are large storage buffers. */
const RAISED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
] as const;

export async function requestGpuDevice(gpu?: GPU): Promise<GPUDevice> {
  const g = gpu ?? (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!g) throw new Error('WebGPU is not available: navigator.gpu is missing (use a browser with WebGPU enabled)');
  const adapter = await g.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('WebGPU is not available: requestAdapter() returned no adapter');
  const requiredLimits: Record<string, number> = {};
  for (const k of RAISED_LIMITS) {
    const v = adapter.limits[k];
    if (typeof v === 'number') requiredLimits[k] = v;
  }
  // GPU timestamps, where offered, let benchmarks time the GPU instead of the wall clock
  const requiredFeatures: GPUFeatureName[] = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  device.lost.then((info) => {
    // 'destroyed' is our own dispose; anything else (driver reset, OOM) is worth a line in the log.
    if (info.reason !== 'destroyed') console.error(`WebGPU device lost: ${info.message}`);
  });
  return device;
}

/** Adapter description for results and bench JSON (what hardware produced a number). */
export function describeAdapter(device: GPUDevice): Record<string, string> {
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  if (!info) return {};
  return { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description };
}

/**
 * 'cpu' for software adapters (SwiftShader, lavapipe, WARP: the fallback adapter), where kernels
 * with workgroup barriers are very slow and barrier-free variants win; 'gpu' otherwise.
 */
export type AdapterClass = 'gpu' | 'cpu';

export function adapterClass(device: GPUDevice): AdapterClass {
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }).adapterInfo;
  if (!info) return 'gpu';
  const name = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`;
  return info.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe|microsoft basic render/i.test(name) ? 'cpu' : 'gpu';
}
