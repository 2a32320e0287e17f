// Rotary embedding. Forward: applyRope in cpu-reference (in place). RoPE is a rotation, so its
// backward is the same pairing rotated by the opposite angle (the transpose of an orthogonal map).
import type { RopeStyle } from '../../../model/config';
import { applyRope } from '../../../runtime/cpu-reference';
export { applyRope as ropeForward } from '../../../runtime/cpu-reference';

/**
 * Backward of applyRope: dy [rows, numHeads·headDim] -> dx of the same shape (a new array), row r at
 * position startPos + r, each pair rotated by −angle. Same argument order as applyRope.
 */
export function ropeBackward(
  dy: Float32Array, rows: number, numHeads: number, headDim: number, startPos: number, theta: number, style: RopeStyle,
): Float32Array {
  const dx = new Float32Array(dy);
  applyRope(dx, rows, numHeads, headDim, startPos, theta, style, -1);
  return dx;
}
