// An f32 tensor that shares a parameter group with fake-quantized ones: its forward weights are the
// masters themselves. Companion of fake-quant-io.wgsl with BLOCK = 1.

fn fake_block(o: u32) {
  fw[o] = master[o];
}
