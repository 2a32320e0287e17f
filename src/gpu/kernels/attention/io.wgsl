// Params and bindings of the forward attention kernels (chunked.wgsl for GPUs, serial.wgsl for CPU
// adapters), which are interchangeable: causal grouped-query attention of `rows` new rows (positions
// startPos + r) over the KV cache. q is [rows, numHeads * headDim]; the caches are
// [position, numKvHeads * headDim]; out is laid out as q.

struct Params {
  rows: u32,
  startPos: u32,
  numHeads: u32,
  numKvHeads: u32,
  headDim: u32,
  scale: f32, // 1 / sqrt(headDim)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> kCache: array<f32>;
@group(0) @binding(3) var<storage, read> vCache: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

const MAX_HEAD_DIM = 256u; // the runtime rejects larger heads (ATTENTION_MAX_HEAD_DIM in kernels.ts)
