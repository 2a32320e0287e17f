#!/usr/bin/env node
// Bundle a Node entry (default bench/run.ts) into one ESM file for a machine that has no node_modules,
// e.g. a borrowed GPU box: kernels inlined as text, only Dawn (`webgpu`, a native addon) left external.
//   node bench/bundle.mjs [entry] [outfile]
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

const [entry = 'bench/run.ts', outfile = '.dev/bench.mjs'] = process.argv.slice(2);

const rawText = {
  name: 'raw-text',
  setup(b) {
    b.onResolve({ filter: /\?raw$/ }, (a) => ({ path: resolve(dirname(a.importer), a.path.slice(0, -4)), namespace: 'raw' }));
    b.onLoad({ filter: /.*/, namespace: 'raw' }, async (a) => ({ contents: await readFile(a.path, 'utf8'), loader: 'text' }));
  },
};

await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['webgpu', 'vite', 'playwright-core'],
  plugins: [rawText, { name: 'onnx-external', setup(b) { b.onResolve({ filter: /^\.\/onnx$/ }, (a) => ({ path: a.path, external: true })); } }],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
});
console.log(`bundled ${entry} -> ${outfile}`);
