import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Whether the module at `moduleUrl` is the script Node was started with. A module bundled into another
 * file (bench/bundle.mjs) shares the bundle's URL, so only an unbundled .ts module can be the entry.
 */
export const isMain = (moduleUrl: string) =>
  moduleUrl.endsWith('.ts') && !!process.argv[1] && moduleUrl === pathToFileURL(resolve(process.argv[1])).href;
