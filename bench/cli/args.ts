// Flags for a bench entry: --help prints the usage, an unknown or malformed flag prints it with the error.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export function cliArgs<const T extends NonNullable<ParseArgsConfig['options']>>(usage: string, options: T) {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage);
    process.exit(0);
  }
  try {
    return parseArgs({ args: argv, options }).values;
  } catch (e) {
    console.error(`${(e as Error).message}\nusage: ${usage}`);
    process.exit(1);
  }
}
