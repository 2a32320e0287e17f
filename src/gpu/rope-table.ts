// RoPE cos/sin table, computed in double precision exactly as cpu-reference's applyRope does and
// stored as f32 pairs [position][headDim / 2] of (cos, sin) for rope.wgsl.

export function ropeTable(positions: number, headDim: number, theta: number): Float32Array {
  const half = headDim / 2;
  const table = new Float32Array(positions * half * 2);
  for (let pos = 0; pos < positions; pos++) {
    for (let i = 0; i < half; i++) {
      const angle = pos * Math.pow(theta, (-2 * i) / headDim);
      table[(pos * half + i) * 2] = Math.cos(angle);
      table[(pos * half + i) * 2 + 1] = Math.sin(angle);
    }
  }
  return table;
}
