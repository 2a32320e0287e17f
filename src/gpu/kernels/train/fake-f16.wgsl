// f16 tensors: the master rounded to f16 (src/model/dtypes/float.ts). Companion of fake-quant-io.wgsl
// (BLOCK = 1) and half-round.wgsl.

fn fake_block(o: u32) {
  fw[o] = f16_value(f16_bits(master[o]));
}
