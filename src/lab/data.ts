// Where the page's task and calibration data comes from: a URL prefix (the dev server and `npm start` serve the
// shared data folder at /data/) or a folder the user picked. Plain data, so it crosses the worker boundary.
import { fileListSource, urlSource, type DataSource } from '../eval/data-source';

export type DataRef = { kind: 'url'; base: string } | { kind: 'files'; files: File[] };

export const DEFAULT_DATA: DataRef = { kind: 'url', base: '/data/' };

/** A DataRef from the page, or a DataSource itself (Node hosts and tests). */
export function dataSource(ref: DataRef | DataSource = DEFAULT_DATA): DataSource {
  if ('readText' in ref) return ref;
  if (ref.kind === 'files') {
    if (ref.files.length === 0) throw new Error('the picked data folder is empty');
    return fileListSource(ref.files, 'picked data folder');
  }
  const base = new URL(ref.base, globalThis.location?.href ?? 'http://localhost/').href;
  return urlSource(base, async (input, init) => {
    try {
      return await fetch(input, init);
    } catch (e) {
      throw new Error(`could not fetch task data from ${String(input)}: ${(e as Error).message}`);
    }
  });
}
