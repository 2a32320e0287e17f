// Where generated code runs: the host (Node sandbox, browser worker) provides a CodeRunner; the task
// runner only hands it whole programs and reads pass/fail. No host APIs here.

export interface CodeOutcome {
  /** The program ran to the end without raising (for HumanEval: `check(entry_point)` held). */
  passed: boolean;
  /** Why it failed: the exception and line, "timed out after N ms", or how the interpreter died. */
  error?: string;
  /** The time limit ended it (then `passed` is false). */
  timedOut: boolean;
}

export interface CodeRunner {
  /**
   * Run one Python program in a fresh namespace; resolves with the outcome whatever the program does.
   * Rejects only when the runner itself cannot work (the interpreter fails to start, or it was closed).
   * `timeoutMs` counts from when the program starts, not from interpreter start-up.
   */
  run(program: string, opts: { timeoutMs: number }): Promise<CodeOutcome>;
}
