import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The benchmark data (../shared/data, or $SHARED_DIR/data) at /data/ on the dev server and `npm start`, so the
 * lab page evaluates on the same files as the CLI. HTTP cannot list a folder, so `<dir>/index.json` lists it
 * (src/eval/data-source.ts's urlSource reads that). A built site has no /data/: users pick a folder instead.
 */
function benchmarkData(dir = resolve(process.env.SHARED_DIR ?? resolve(root, '../shared'), 'data')): Plugin {
  return {
    name: 'lab-benchmark-data',
    configureServer(server) {
      server.middlewares.use('/data', (req, res, next) => {
        const rel = decodeURIComponent((req.url ?? '/').split('?')[0]);
        const path = normalize(join(dir, rel));
        if (!path.startsWith(dir) || !existsSync(dir)) return next();
        const listing = path.endsWith('index.json') && !existsSync(path) ? path.slice(0, -'index.json'.length) : null;
        if (listing !== null && existsSync(listing) && statSync(listing).isDirectory()) {
          res.setHeader('content-type', 'application/json');
          return res.end(JSON.stringify(readdirSync(listing).sort()));
        }
        if (!existsSync(path) || !statSync(path).isFile()) return next();
        res.setHeader('content-type', path.endsWith('.json') || path.endsWith('.jsonl') ? 'application/json' : 'text/plain; charset=utf-8');
        res.end(readFileSync(path));
      });
    },
  };
}

export default defineConfig({
  root,
  plugins: [svelte(), benchmarkData()],
  // static/ is served at / (static/models/stories260K.gguf -> /models/stories260K.gguf) and copied into dist/.
  publicDir: 'static',
  // Browser tests may give their servers a dependency cache of their own: several Vite servers sharing
  // node_modules/.vite re-optimize under each other and reload their pages mid-test.
  cacheDir: process.env.LAB_VITE_CACHE_DIR || undefined,
  worker: { format: 'es' },
  server: {
    fs: { allow: [root] },
  },
  optimizeDeps: {
    // Crawl the worker too, so its dependencies are pre-bundled up front instead of triggering a reload
    // the first time a model is loaded.
    entries: ['index.html', 'workers/*.ts'],
    // CommonJS, reached only through src/io/onnx (the ONNX exporter); pre-bundled so first use needs no reload.
    // extension-dapp: imported on first wallet use (src/market/wallet.ts), pre-bundled so that needs no reload.
    include: ['protobufjs/light.js', '@polkadot/extension-dapp'],
  },
  build: {
    target: 'es2022',
  },
});
