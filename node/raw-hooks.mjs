// Node module hooks: `import text from './x.wgsl?raw'` yields the file's text, as Vite does in the browser,
// so the CLI, bench and validator run the same kernel imports under plain Node + tsx.
import { readFile } from 'node:fs/promises';

export async function resolve(specifier, context, next) {
  if (specifier.endsWith('?raw')) {
    const { url } = await next(specifier.slice(0, -4), context);
    return { url: `${url}?raw`, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (url.endsWith('?raw')) {
    const text = await readFile(new URL(url.slice(0, -4)), 'utf8');
    return { format: 'module', source: `export default ${JSON.stringify(text)};`, shortCircuit: true };
  }
  return next(url, context);
}
