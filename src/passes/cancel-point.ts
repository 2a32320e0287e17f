// Cancellation points for the passes' loops. On the CPU a pass runs in the worker's one thread, and a Cancel
// (a comlink message that aborts the signal) is only delivered once the loop gives the event loop a turn:
// awaiting a value that is already there does not. So the loops call this between tensors: it throws when
// cancelled and yields a macrotask turn at most every `everyMs`, which costs a negligible share of the work.
import { throwIfAborted } from '../io/errors';

let lastTurn = 0;
let turn: (() => Promise<void>) | undefined;

/** One macrotask turn: setImmediate in Node; a MessageChannel message in browsers (a nested setTimeout waits >= 4 ms). */
function macrotaskTurn(): () => Promise<void> {
  const g = globalThis as { setImmediate?: (f: () => void) => unknown };
  if (typeof g.setImmediate === 'function') return () => new Promise((r) => g.setImmediate!(r));
  if (typeof MessageChannel === 'function') {
    const ch = new MessageChannel();
    const waiting: (() => void)[] = [];
    ch.port1.onmessage = () => waiting.shift()?.();
    return () => new Promise((r) => {
      waiting.push(r);
      ch.port2.postMessage(null);
    });
  }
  return () => new Promise((r) => setTimeout(r, 0));
}

/** Throws the abort reason when `signal` is aborted; gives pending messages (a Cancel) a chance to arrive first. */
export async function cancelPoint(signal: AbortSignal | undefined, everyMs = 20): Promise<void> {
  throwIfAborted(signal);
  if (!signal) return; // nobody can cancel this run: nothing to wait for
  const now = performance.now();
  if (now - lastTurn < everyMs) return;
  await (turn ??= macrotaskTurn())();
  lastTurn = performance.now();
  throwIfAborted(signal);
}

/**
 * A long loop inside one tensor (GPTQ's column blocks, AWQ's grid) written as a generator that yields after
 * each unit of work, so one body serves both callers: runSteps drives it to the end synchronously, and
 * runStepsCancellable puts a cancel point at every yield (reporting `step` of `total`). Same arithmetic in the
 * same order either way, so both give bit-identical results.
 */
export type Steps<T> = Generator<{ done: number; total: number }, T, void>;

export function runSteps<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

export async function runStepsCancellable<T>(steps: Steps<T>, signal: AbortSignal | undefined, onStep?: (p: { done: number; total: number }) => void): Promise<T> {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    onStep?.(r.value);
    await cancelPoint(signal);
  }
}
