import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where a bench writes its JSON: bench/results beside the sources, or results/ beside a bundle made by
 * bench/bundle.mjs (e.g. .dev/results), where a borrowed machine's script collects it.
 */
export const resultsPath = (file: string) => resolve(dirname(fileURLToPath(import.meta.url)), 'results', file);
