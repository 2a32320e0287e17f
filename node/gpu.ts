// WebGPU for Node hosts (CLI, validator, tests, bench) through Dawn from the `webgpu` package.
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requestGpuDevice } from '../src/gpu/device';

const ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d'];
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * On a machine without a GPU driver, Debian's chromium ships SwiftShader (a CPU Vulkan driver);
 * pointing the Vulkan loader at it gives Dawn an adapter, slow but correct. Returns whether it did.
 */
function useSwiftShader(): boolean {
  if (process.env.VK_ICD_FILENAMES || !existsSync(SWIFTSHADER_ICD)) return false;
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  return true;
}

const hasSystemIcd = () => ICD_DIRS.some((d) => existsSync(d) && readdirSync(d).some((f) => f.endsWith('.json')));

let cached: Promise<GPUDevice> | undefined;
/**
 * Every GPU (Dawn instance) made here, kept reachable for the life of the process: dawn.node keeps
 * polling an instance's events from native code, and once the JS object is collected that poll
 * crashes the process (pthread mutex assertion / SIGSEGV in InstanceBase::ProcessEvents).
 */
const instances: GPU[] = [];

/** One device per process; later calls share it. */
export function getNodeGpuDevice(): Promise<GPUDevice> {
  cached ??= create().catch((e) => {
    cached = undefined;
    throw e;
  });
  return cached;
}

async function create(): Promise<GPUDevice> {
  if (!hasSystemIcd()) useSwiftShader();
  // The Vulkan loader complains (and some drivers fail) without a runtime dir.
  process.env.XDG_RUNTIME_DIR ??= mkdtempSync(join(tmpdir(), 'xdg-'));
  const { create: createGpu, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  const instance = () => {
    const gpu = createGpu([]);
    instances.push(gpu);
    return gpu;
  };
  let gpu = instance();
  // Installed ICDs may all be unusable by Dawn (Mesa's lavapipe lacks shaderUniform*ArrayDynamicIndexing);
  // the loader rereads VK_ICD_FILENAMES per instance, so a second instance can still find SwiftShader.
  if (!(await gpu.requestAdapter()) && useSwiftShader()) gpu = instance();
  if (!(await gpu.requestAdapter())) {
    throw new Error('no WebGPU adapter: install libvulkan1 and chromium (for SwiftShader) or a GPU driver');
  }
  return requestGpuDevice(gpu);
}
