// `lab <verb> <inputs> [--out PATH] [--json]`. Each verb is one file in ./commands, listed once here.
import { inspect } from './commands/inspect';
import { generateCommand } from './commands/generate';
import { evalCommand } from './commands/eval';
import { compressCommand } from './commands/compress';
import { quantCommand } from './commands/quant';
import { pruneCommand } from './commands/prune';
import { serveCommand } from './commands/serve';
import { requestCommand } from './commands/request';
import { submitCommand } from './commands/submit';
import { validateCommand } from './commands/validate';
import { exportCommand } from './commands/export';
import { mergeCommand } from './commands/merge';
import { distillCommand } from './commands/distill';
import { predictCommand } from './commands/predict';
import { searchCommand } from './commands/search';
import { UsageError, type Command } from './command';

export const COMMANDS: Record<string, Command> = {
  inspect,
  generate: generateCommand,
  eval: evalCommand,
  quant: quantCommand,
  prune: pruneCommand,
  compress: compressCommand,
  serve: serveCommand,
  request: requestCommand,
  submit: submitCommand,
  validate: validateCommand,
  export: exportCommand,
  merge: mergeCommand,
  distill: distillCommand,
  predict: predictCommand,
  search: searchCommand,
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  lab ${name} ${c.usage}\n      ${c.summary}`);
  return `usage:\n${lines.join('\n')}\n\nevery verb takes --json (one JSON object on stdout)`;
}

export async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (!verb || verb === '--help' || verb === '-h' || verb === 'help') {
    console.log(usage());
    return verb ? 0 : 2;
  }
  const command = COMMANDS[verb];
  if (!command) {
    console.error(`lab: unknown verb "${verb}"\n${usage()}`);
    return 2;
  }
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort(new Error('cancelled (Ctrl-C)')));
  try {
    await command.run(rest, abort.signal);
    return 0;
  } catch (e) {
    const err = e as Error;
    console.error(`lab ${verb}: ${err.message}`);
    if (e instanceof UsageError) console.error(`usage: lab ${verb} ${command.usage}`);
    if (process.env.LAB_DEBUG) console.error(err.stack);
    return e instanceof UsageError ? 2 : 1;
  } finally {
    // Dawn keeps the event loop alive; a finished command should end the process.
    setTimeout(() => process.exit(process.exitCode ?? 0), 50).unref();
  }
}
