// Number formatting for the page (no DOM, no state).

/** 260032 -> "260.0K", 1.1e9 -> "1.10B". */
export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}

/** Bytes in binary units: 1185376 -> "1.13 MiB". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(2)} ${units[u]}`;
}

/** Tokens per second with sensible precision: 1234.5 -> "1235", 12.34 -> "12.3", 0.456 -> "0.46". */
export function formatRate(r: number): string {
  if (!Number.isFinite(r)) return '—';
  if (r >= 100) return r.toFixed(0);
  if (r >= 10) return r.toFixed(1);
  return r.toFixed(2);
}

/** "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY" -> "5Grwva…utQY". */
export function shortAddress(a: string): string {
  return a.length > 14 ? `${a.slice(0, 6)}…${a.slice(-4)}` : a;
}

/** A metric value with its standard error: "0.3500 ± 0.0210". */
export function formatMetric(v: { value: number; stderr: number }): string {
  return `${v.value.toFixed(4)} ± ${v.stderr.toFixed(4)}`;
}

/** A ranking score: byte counts (the smallest-file objective scores -bytes) as integers, metrics to 4 places. */
export function formatScore(x: number): string {
  return Number.isInteger(x) && Math.abs(x) >= 1000 ? x.toLocaleString('en-US') : x.toFixed(4);
}
