// Distillation loss against cached top-k teacher logits (the teacher's k largest per row, with their
// vocabulary ids): p = softmax over those k logits / T (zero elsewhere), q = softmax(z / T) over the
// whole vocabulary, as klBackward does with TopKLogits on the CPU:
//   loss[r] = T^2 * sum_j p_j (log p_j - log q_{id_j}),   dLogits[r] (+)= weight * T * (q - p).
// One invocation per row (no barriers); it writes the q part over the row, then subtracts p at the
// k ids, so ids must be distinct within a row. flags bit 0: accumulate into dLogits.
// Entry point: ../items.wgsl, which calls item() for each of item_count() items.

struct Params {
  rows: u32,
  vocab: u32,
  k: u32,
  temperature: f32,
  weight: f32,
  flags: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> ids: array<u32>;
@group(0) @binding(3) var<storage, read> teacher: array<f32>;
@group(0) @binding(4) var<storage, read_write> dLogits: array<f32>;
@group(0) @binding(5) var<storage, read_write> loss: array<f32>;

fn item_count() -> u32 { return p.rows; }

fn item(r: u32) {
  let o = r * p.vocab;
  let t0 = r * p.k;
  let invT = 1.0 / p.temperature;
  var ms = logits[o] * invT;
  for (var i = 1u; i < p.vocab; i++) {
    ms = max(ms, logits[o + i] * invT);
  }
  var ss = 0.0;
  for (var i = 0u; i < p.vocab; i++) {
    ss += exp(logits[o + i] * invT - ms);
  }
  let lss = ms + log(ss);
  var mt = teacher[t0] * invT;
  for (var j = 1u; j < p.k; j++) {
    mt = max(mt, teacher[t0 + j] * invT);
  }
  var st = 0.0;
  for (var j = 0u; j < p.k; j++) {
    st += exp(teacher[t0 + j] * invT - mt);
  }
  let lst = mt + log(st);
  let g = p.weight * p.temperature;
  let acc = (p.flags & 1u) != 0u;
  for (var i = 0u; i < p.vocab; i++) {
    var v = g * exp(logits[o + i] * invT - lss);
    if (acc) {
      v += dLogits[o + i];
    }
    dLogits[o + i] = v;
  }
  var kl = 0.0;
  for (var j = 0u; j < p.k; j++) {
    let id = ids[t0 + j];
    let lp = teacher[t0 + j] * invT - lst;
    let pj = exp(lp);
    kl += pj * (lp - (logits[o + id] * invT - lss));
    dLogits[o + id] -= g * pj;
  }
  loss[r] = p.temperature * p.temperature * kl;
}
