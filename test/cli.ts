// Runs the real `lab` CLI in a child process from the repo root, as a user would; a failing command is a
// result (exit code + both streams) to assert on, not an exception.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO } from './fixtures';

const run = promisify(execFile);

export interface LabRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A `lab` runner whose commands are killed after `timeoutMs`. */
export const labWithTimeout = (timeoutMs: number) => async (...args: string[]): Promise<LabRun> => {
  try {
    const { stdout, stderr } = await run('node', [join(REPO, 'cli/lab.mjs'), ...args], { cwd: REPO, timeout: timeoutMs });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
};

export const lab = labWithTimeout(120_000);
