// Rotary embedding. Forward: applyRope in cpu-reference (in place). RoPE is a rotation, so its
// backward is the same pairing rotated by the opposite angle (the transpose of an orthogonal map).
import type { RopeStyle } from '../../../model/config';
export { applyRope as ropeForward } from '../../../runtime/cpu-reference';

/**
 * Backward of applyRope: dy [rows, numHeads·headDim] -> dx of the same shape (a new array), row r at
 * position startPos + r, each pair rotated by −angle. Same argument order as applyRope.
 */
export function ropeBackward(
  dy: Float32Array, rows: number, numHeads: number, headDim: number, startPos: number, theta: number, style: RopeStyle,
): Float32Array {
  const dx = new Float32Array(dy);
  const half = headDim / 2;
  for (let r = 0; r < rows; r++) {
    const pos = startPos + r;
    for (let h = 0; h < numHeads; h++) {
      const base = (r * numHeads + h) * headDim;
      for (let i = 0; i < half; i++) {
        const angle = pos * Math.pow(theta, (-2 * i) / headDim);
        const c = Math.cos(angle), s = Math.sin(angle);
        const a = style === 'interleaved' ? base + 2 * i : base + i;
        const b = style === 'interleaved' ? a + 1 : a + half;
        const g0 = dx[a], g1 = dx[b];
        dx[a] = g0 * c + g1 * s;
        dx[b] = -g0 * s + g1 * c;
      }
    }
  }
  return dx;
}
