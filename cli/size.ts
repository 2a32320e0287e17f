// Byte sizes as people write them: 300KB, 1.5GB, 512MiB, or plain bytes. KB/MB/GB are powers of 1000
// (as disk and download sizes are quoted); KiB/MiB/GiB are powers of 1024.
import { UsageError } from './command';

const UNITS: Record<string, number> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40, k: 1e3, m: 1e6, g: 1e9,
};

export function parseBytes(text: string, flag = 'size'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[(m[2] || 'b').toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new UsageError(`--${flag}: "${text}" is not a byte size (e.g. 300KB, 1.5GB, 512MiB, 276992)`);
  return Math.round(Number(m[1]) * unit);
}
