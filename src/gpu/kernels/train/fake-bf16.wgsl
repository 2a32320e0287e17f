// bf16 tensors: the master rounded to bfloat16. Companion of fake-quant-io.wgsl (BLOCK = 1) and half-round.wgsl.

fn fake_block(o: u32) {
  fw[o] = bf16_round(master[o]);
}
