// Token ids in sampling order (higher logit first, lower id first on a tie: what a stable sort by
// descending logit gives), produced lazily. One counting pass drops every id into a bucket by its weight
// (half a nat of exp((logit - max) / t) per bucket, the last one catching everything below e^-31.5), and
// a bucket is sorted only when a reader reaches it: a sampler reads the few hundred or thousand most
// likely tokens, so a draw costs O(n) plus the sort of what it reads, instead of O(n log n).

const BUCKETS = 64;
const BUCKETS_PER_NAT = 2;

/** Whether token a comes before token b. A strict total order on non-NaN logits (ties broken by id). */
function before(logits: Float32Array, a: number, b: number): boolean {
  const x = logits[a], y = logits[b];
  return x > y || (x === y && a < b);
}

/** Reorders ids[lo, hi) so that ids[lo, m) hold the first m - lo of them in sampling order (unsorted). */
export function selectFirst(logits: Float32Array, ids: Int32Array, lo: number, hi: number, m: number): void {
  while (hi - lo > 16) {
    if (m <= lo || m >= hi) return;
    const mid = (lo + hi) >>> 1;
    let a = ids[lo], b = ids[mid];
    const c = ids[hi - 1];
    // median of three: sorted or reversed logits (common in tests and tools) stay linear
    if (before(logits, b, a)) [a, b] = [b, a];
    if (before(logits, c, b)) b = before(logits, c, a) ? a : c;
    const pivot = b;
    let i = lo, j = hi - 1;
    while (i <= j) {
      while (before(logits, ids[i], pivot)) i++;
      while (before(logits, pivot, ids[j])) j--;
      if (i <= j) { const s = ids[i]; ids[i] = ids[j]; ids[j] = s; i++; j--; }
    }
    // [lo, j] come before or are the pivot, [i, hi) come after or are it, and (j, i) is the pivot itself
    if (m <= j + 1) hi = j + 1;
    else if (m >= i) lo = i;
    else return;
  }
  sortRange(logits, ids, lo, hi);
}

function sortRange(logits: Float32Array, ids: Int32Array, lo: number, hi: number): void {
  if (hi - lo > 1) ids.subarray(lo, hi).sort((a, b) => (before(logits, a, b) ? -1 : 1));
}

let buffers = { key: new Uint8Array(0), ids: new Int32Array(0) };

/**
 * Per-draw working memory, kept between draws: fresh 600 KB arrays per token at a 152k vocabulary cost more
 * than the bucketing itself. Only the newest LogitOrder is valid (sampling is synchronous, so one at a time).
 */
function scratch(n: number): { key: Uint8Array; ids: Int32Array } {
  if (buffers.ids.length < n) buffers = { key: new Uint8Array(n), ids: new Int32Array(n) };
  return { key: buffers.key.subarray(0, n), ids: buffers.ids.subarray(0, n) };
}

/** The ids of `logits` that rank below `limit`, bucketed by weight at temperature `t`; `max` is the largest logit. */
export class LogitOrder {
  /** Ids in bucket order; ids[0, limit) are the first `limit` in sampling order, ids[0, sorted) in that order. */
  readonly ids: Int32Array;
  /** ids[starts[b], starts[b + 1]) is bucket b. */
  private readonly starts = new Int32Array(BUCKETS + 1);
  private sortedBuckets = 0;
  private sorted = 0;

  constructor(private readonly logits: Float32Array, max: number, t: number, private readonly limit = logits.length) {
    const n = logits.length, scale = BUCKETS_PER_NAT / t;
    const { key, ids } = scratch(n), count = new Int32Array(BUCKETS);
    for (let i = 0; i < n; i++) {
      // monotone in the logit, so bucket order never contradicts sampling order (NaN, from t = 0+, goes last)
      const d = (max - logits[i]) * scale;
      const k = d < BUCKETS - 1 ? Math.floor(d) : BUCKETS - 1;
      key[i] = k;
      count[k]++;
    }
    for (let b = 0; b < BUCKETS; b++) this.starts[b + 1] = this.starts[b] + count[b];
    const next = this.starts.slice(0, BUCKETS);
    for (let i = 0; i < n; i++) ids[next[key[i]]++] = i;
    this.ids = ids;
    // the bucket that `limit` cuts through: only its first members belong to the pool
    let b = 0;
    while (this.starts[b + 1] < limit) b++;
    selectFirst(logits, this.ids, this.starts[b], this.starts[b + 1], limit);
  }

  /** The id at sampling position i (< limit). */
  at(i: number): number {
    while (i >= this.sorted) {
      const b = this.sortedBuckets++;
      const end = Math.min(this.starts[b + 1], this.limit);
      sortRange(this.logits, this.ids, this.starts[b], end);
      this.sorted = end;
    }
    return this.ids[i];
  }
}
