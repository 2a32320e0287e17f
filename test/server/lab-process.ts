// `lab` as its own process, the way people run it: one-shot commands read back through --json, and `lab serve`
// on a random loopback port, resolved with the URL it prints first, stopped (SIGTERM) or killed (SIGKILL).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { REPO } from '../fixtures';

export const LAB = join(REPO, 'cli/lab.mjs');
const run = promisify(execFile);

/** Run `lab <args> --json` to completion; its JSON output, or an error carrying its stderr. */
export async function labJson(...args: string[]): Promise<any> {
  try {
    const { stdout } = await run('node', [LAB, ...args, '--json'], { cwd: REPO, timeout: 120_000 });
    return JSON.parse(stdout);
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`lab ${args.join(' ')} failed: ${err.stderr || err.message}`);
  }
}

export interface LabService { proc: ChildProcess; url: string; stderr: string[] }

/** `lab serve --port 0 <args> --json`; resolves once it prints its URL, rejects (with its stderr) if it exits first. */
export function serveLab(args: string[], startTimeoutMs = 30_000): Promise<LabService> {
  const proc = spawn('node', [LAB, 'serve', '--port', '0', ...args, '--json'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  createInterface({ input: proc.stderr! }).on('line', (l) => stderr.push(l));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`lab serve did not start: ${stderr.join('\n')}`)), startTimeoutMs);
    proc.once('exit', (code) => reject(new Error(`lab serve exited with ${code}: ${stderr.join('\n')}`)));
    createInterface({ input: proc.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve({ proc, url: JSON.parse(line).url, stderr });
    });
  });
}

/** Send `signal` and wait for the exit; nothing if the service is absent or already gone. */
export async function stopLab(s: LabService | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!s || s.proc.exitCode !== null || s.proc.signalCode !== null) return;
  const exited = new Promise((ok) => s.proc.once('exit', ok));
  s.proc.kill(signal);
  await exited;
}
