// Where a Node host finds the repo's own data: static/ (tasks, recipes) and the shared fixtures beside it.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const STATIC_DIR = resolve(REPO_ROOT, 'static');
export const RECIPES_DIR = resolve(STATIC_DIR, 'recipes');
/** ../shared/data beside the checkout, unless SHARED_DIR says otherwise. */
export const DEFAULT_DATA_DIR = resolve(process.env.SHARED_DIR ?? resolve(REPO_ROOT, '../shared'), 'data');
