// AdamW (Loshchilov & Hutter: weight decay decoupled from the adaptive step), one invocation per
// parameter. The gradient is first multiplied by the clipping factor clip[0] (clip-scale.wgsl);
// bc1 = 1 - beta1^t and bc2 = 1 - beta2^t are the bias corrections of step t, computed on the CPU.
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   w -= lr * ((m / bc1) / (sqrt(v / bc2) + eps) + weightDecay * w)
// Entry point: ../items.wgsl, which calls item() for each of item_count() items.

struct Params {
  count: u32,
  lr: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  weightDecay: f32,
  bc1: f32,
  bc2: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read> clip: array<f32>;
@group(0) @binding(3) var<storage, read_write> w: array<f32>;
@group(0) @binding(4) var<storage, read_write> m: array<f32>;
@group(0) @binding(5) var<storage, read_write> v: array<f32>;

fn item_count() -> u32 { return p.count; }

fn item(i: u32) {
  let g = grad[i] * clip[0];
  let mi = p.beta1 * m[i] + (1.0 - p.beta1) * g;
  let vi = p.beta2 * v[i] + (1.0 - p.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  let wi = w[i];
  w[i] = wi - p.lr * ((mi / p.bc1) / (sqrt(vi / p.bc2) + p.eps) + p.weightDecay * wi);
}
