// The size vs quality Pareto front: the points no other point beats on both bytes and the metric.
export interface Point { label: string; bytes: number; value: number }

/** Points on the front, smallest first. `higherIsBetter` says which way the metric improves. */
export function paretoFront<T extends Point>(points: readonly T[], higherIsBetter: boolean): T[] {
  const better = (a: number, b: number) => (higherIsBetter ? a > b : a < b);
  const sorted = [...points].filter((p) => Number.isFinite(p.value)).sort((a, b) => a.bytes - b.bytes || (better(a.value, b.value) ? -1 : 1));
  const front: T[] = [];
  for (const p of sorted) if (front.length === 0 || better(p.value, front[front.length - 1].value)) front.push(p);
  return front;
}
