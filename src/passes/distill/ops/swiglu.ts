// SwiGLU h = silu(gate) ⊙ up. Forward: swiglu in cpu-reference.
export { swiglu as swigluForward } from '../../../runtime/cpu-reference';

/**
 * Backward of h = silu(gate)·up, all [rows·F]. With σ = sigmoid(gate):
 * dup = dh·silu(gate),  dgate = dh·up·σ·(1 + gate·(1 − σ)).
 */
export function swigluBackward(dh: Float32Array, gate: Float32Array, up: Float32Array): { dgate: Float32Array; dup: Float32Array } {
  const dgate = new Float32Array(gate.length);
  const dup = new Float32Array(gate.length);
  for (let i = 0; i < gate.length; i++) {
    const g = gate[i];
    const sig = 1 / (1 + Math.exp(-g));
    dup[i] = dh[i] * g * sig;
    dgate[i] = dh[i] * up[i] * sig * (1 + g * (1 - sig));
  }
  return { dgate, dup };
}
