// Entry hook for Node hosts (CLI, bench, server): TypeScript via tsx, plus `?raw` text imports.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register('./raw-hooks.mjs', import.meta.url);
