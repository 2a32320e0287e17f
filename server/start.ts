// `npm start`: one process, one port: the lab (Vite dev middleware, or the built dist/ with --dist) and the
// market API under /v1 with a local validator.
//   node --import ./node/register.mjs server/start.ts [--port 5173] [--host 127.0.0.1] [--db .market/market.sqlite] [--dist] [--data DIR]
//   (DATABASE_URL=postgres://... keeps the market in PostgreSQL instead of the SQLite file)
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../node/paths';
import { defaultDataDir, startService } from './serve';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '5173' }, host: { type: 'string', default: '127.0.0.1' },
    db: { type: 'string', default: join(REPO_ROOT, '.market/market.sqlite') }, data: { type: 'string' },
    dist: { type: 'boolean', default: false }, 'validate-every': { type: 'string', default: '30' },
  },
});

const dist = join(REPO_ROOT, 'dist');
if (values.dist && !existsSync(join(dist, 'index.html'))) {
  console.error(`start: ${dist}/index.html not found; run npm run build first`);
  process.exit(1);
}
const service = await startService({
  host: values.host!, port: Number(values.port), db: resolve(values.db!), databaseUrl: process.env.DATABASE_URL || undefined, data: resolve(values.data ?? defaultDataDir()),
  epochMs: null, validateEveryMs: Number(values['validate-every']) * 1000, limit: 50, backend: 'cpu',
  maxArtifactBytes: 4 * 1024 ** 3, maxJsonBytes: 1024 * 1024,
  staticDir: values.dist ? dist : undefined, vite: !values.dist,
  log: (line) => console.error(`[market] ${line}`),
});
console.log(`lab and market on ${service.url}  (API under ${service.url}/v1, db ${process.env.DATABASE_URL ? 'postgresql ($DATABASE_URL)' : resolve(values.db!)}${values.dist ? ', serving dist/' : ', Vite dev'})`);
const stop = async () => {
  await service.close();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
