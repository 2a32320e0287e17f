// Distillation loss over logits with temperature T, forward and backward, one invocation per row:
// with p = softmax(teacher / T) and q = softmax(z / T),
//   loss[r] = T^2 * KL(p || q) = T^2 * sum_i p_i (log p_i - log q_i),
//   dLogits[r] (+)= weight * T * (q - p)
// (the T^2 keeps gradient sizes independent of T, as in Hinton et al.). weight as cross-entropy.wgsl;
// rows whose mask entry is 0 add nothing and have loss 0. flags bit 0: accumulate into dLogits.
// Entry point: ../items.wgsl, which calls item() for each of item_count() items.

struct Params {
  rows: u32,
  vocab: u32,
  temperature: f32,
  weight: f32,
  flags: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> teacher: array<f32>;
@group(0) @binding(3) var<storage, read> mask: array<u32>;
@group(0) @binding(4) var<storage, read_write> dLogits: array<f32>;
@group(0) @binding(5) var<storage, read_write> loss: array<f32>;

fn item_count() -> u32 { return p.rows; }

fn item(r: u32) {
  let o = r * p.vocab;
  let acc = (p.flags & 1u) != 0u;
  if (mask[r] == 0u) {
    loss[r] = 0.0;
    if (!acc) {
      for (var i = 0u; i < p.vocab; i++) {
        dLogits[o + i] = 0.0;
      }
    }
    return;
  }
  let invT = 1.0 / p.temperature;
  var ms = logits[o] * invT;
  var mt = teacher[o] * invT;
  for (var i = 1u; i < p.vocab; i++) {
    ms = max(ms, logits[o + i] * invT);
    mt = max(mt, teacher[o + i] * invT);
  }
  var ss = 0.0;
  var st = 0.0;
  for (var i = 0u; i < p.vocab; i++) {
    ss += exp(logits[o + i] * invT - ms);
    st += exp(teacher[o + i] * invT - mt);
  }
  let lss = ms + log(ss); // log-sum-exp of z / T
  let lst = mt + log(st);
  var kl = 0.0;
  for (var i = 0u; i < p.vocab; i++) {
    let lp = teacher[o + i] * invT - lst;
    let lq = logits[o + i] * invT - lss;
    let pi = exp(lp);
    kl += pi * (lp - lq);
    var g = p.weight * p.temperature * (exp(lq) - pi);
    if (acc) {
      g += dLogits[o + i];
    }
    dLogits[o + i] = g;
  }
  loss[r] = p.temperature * p.temperature * kl;
}
