/** A file that is not what it claims to be: wrong magic, bad header, inconsistent sizes. */
export class FormatError extends Error {
  constructor(public readonly format: string, public readonly file: string, detail: string) {
    super(`${file}: not a valid ${format} file: ${detail}`);
    this.name = 'FormatError';
  }
}

export function throwIfAborted(signal?: AbortSignal) {
  if (signal?.aborted) throw signal.reason ?? new DOMException('cancelled', 'AbortError');
}

export interface LoadOptions {
  onProgress?: (p: { done: number; total: number; stage: string }) => void;
  signal?: AbortSignal;
}
