// What a compute kernel is, as data: its WGSL, the uniform params struct at @binding(0) and the
// storage buffers at @binding(1..n), in declaration order. Bind group layouts are derived from this
// (not 'auto'), so kernels with the same signature (matmul and matvec) share bind groups.
// A kernel's WGSL is composed from pieces (a shared header, a body, a decoder, ...): WGSL has no #include,
// but module-scope declarations may come in any order, so concatenation is composition. Each piece's
// header comment says what it expects from its companions.

export type Access = 'read' | 'read_write';
export type ParamType = 'u32' | 'f32';

export interface Kernel<P extends Record<string, ParamType> = any, B extends Record<string, Access> = any> {
  readonly label: string;
  readonly code: string;
  /** Pipeline-overridable constants (`override` in WGSL), e.g. workgroup sizes that grid() relies on. */
  readonly constants?: Record<string, number>;
  /** Fields of the WGSL `Params` struct, in order; all are 4-byte scalars. */
  readonly params: P;
  /** Storage bindings, in order from @binding(1). */
  readonly buffers: B;
  /** Workgroup counts for one dispatch. */
  grid(p: ParamValues<P>): [number, number, number];
}

export type ParamValues<P extends Record<string, ParamType>> = { [K in keyof P]: number };
export type KernelParams<K> = K extends Kernel<infer P, any> ? ParamValues<P> : never;
export type KernelBuffers<K> = K extends Kernel<any, infer B> ? { [N in keyof B]: GPUBuffer } : never;

/** A kernel as written: its WGSL as the list of pieces that make up the module. */
export interface KernelDef<P extends Record<string, ParamType>, B extends Record<string, Access>> extends Omit<Kernel<P, B>, 'code'> {
  readonly pieces: readonly string[];
}

export function defineKernel<P extends Record<string, ParamType>, B extends Record<string, Access>>(def: KernelDef<P, B>): Kernel<P, B> {
  const { pieces, ...kernel } = def;
  return { ...kernel, code: pieces.join('\n') };
}

/** WebGPU's minimum for maxComputeWorkgroupsPerDimension. */
export const MAX_GROUPS_PER_DIM = 65535;

/**
 * `count` workgroups laid out as x * y with x <= 65535; a kernel recovers the linear id as
 * wid.x + wid.y * num_workgroups.x and returns early past its end (x * y may exceed count).
 */
export function split(count: number): [number, number] {
  if (count <= MAX_GROUPS_PER_DIM) return [Math.max(count, 1), 1];
  const y = Math.ceil(count / MAX_GROUPS_PER_DIM);
  return [Math.ceil(count / y), y];
}

/** Grid for a kernel with one invocation per element and workgroups of `wg` invocations. */
export const grid1d = (elements: number, wg: number): [number, number, number] => [...split(Math.ceil(elements / wg)), 1];
