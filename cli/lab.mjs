#!/usr/bin/env node
// `lab` launcher: TypeScript and `?raw` kernel imports under plain Node, then the CLI proper.
import '../node/register.mjs';

const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
