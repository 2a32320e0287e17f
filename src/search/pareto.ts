// The Pareto front of bytes against quality loss: the points no other point beats on both (smaller or equal
// bytes and smaller or equal loss, strictly better on one). Returned cheapest first.
export interface FrontPoint { bytes: number; loss: number }

export function paretoFront<T extends FrontPoint>(points: readonly T[]): T[] {
  const sorted = [...points].sort((a, b) => a.bytes - b.bytes || a.loss - b.loss);
  const front: T[] = [];
  for (const p of sorted) if (!front.length || p.loss < front[front.length - 1].loss) front.push(p);
  return front;
}
