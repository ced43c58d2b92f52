// Waiting for a state, never for a fixed time: `check` (sync or async) is asked again every
// `everyMs` until it holds; past `timeoutMs` the wait fails, naming what it waited for.

export interface UntilOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** Ask again after this long (default 10 ms; checks that cost something ask less often). */
  everyMs?: number;
}

export async function until(what: string, check: () => boolean | Promise<boolean>, { timeoutMs = 10_000, everyMs = 10 }: UntilOptions = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
