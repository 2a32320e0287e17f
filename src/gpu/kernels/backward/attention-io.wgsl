// What training's attention kernels share (attention-forward, attention-dq, attention-dkv): their params
// and the layout of the fused q|k|v rows of a batch of sequences they read: row r is at position
// r % seqLen of its sequence and holds [q (numHeads * headDim) | k (numKvHeads * headDim) | v (same)].
// Each kernel declares its own storage bindings.

struct Params {
  rows: u32,
  seqLen: u32,
  numHeads: u32,
  numKvHeads: u32,
  headDim: u32,
  scale: f32, // 1 / sqrt(headDim)
}

@group(0) @binding(0) var<uniform> p: Params;

const MAX_HEAD_DIM = 256u;

struct Fused {
  qDim: u32,   // where a row's k part starts
  kvDim: u32,  // how far a head's v is from its k
  stride: u32, // the row length
}

fn fused() -> Fused {
  let qDim = p.numHeads * p.headDim;
  let kvDim = p.numKvHeads * p.headDim;
  return Fused(qDim, kvDim, qDim + 2u * kvDim);
}
