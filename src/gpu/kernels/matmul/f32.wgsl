// f32 operands of a forward linear kernel, for the bodies that read them element by element
// (matvec.wgsl through dot-f32.wgsl, tiled.wgsl, blocked.wgsl through block-f32.wgsl).
// The product is A B with A = x [rows, inDim] and B = W^T: B's column n is W's row n, contiguous in k.
// Expects: io.wgsl. Provides the element types and the operand reads the bodies are written against:
//   a_row(m): where row m of A starts; a_at(o, k): A[row at o, k];
//   b_col(n): where column n of B starts; b_at(o, k): B[k, column at o].

alias XT = f32;
alias WT = f32;

fn a_row(m: u32) -> u32 { return m * p.inDim; }
fn a_at(o: u32, k: u32) -> f32 { return x[o + k]; }
fn b_col(n: u32) -> u32 { return n * p.inDim; }
fn b_at(o: u32, k: u32) -> f32 { return w[o + k]; }
