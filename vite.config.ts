import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  plugins: [svelte()],
  // static/ is served at / (static/models/stories260K.gguf -> /models/stories260K.gguf) and copied into dist/.
  publicDir: 'static',
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
