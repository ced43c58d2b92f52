// Long synchronous work (re-filtering, searching or counting 50,000 log entries of up to 64K
// characters each) done in slices of a few milliseconds with the event loop running between
// them: keys, timers and the SIGTERM/SIGHUP handlers answer while it goes on. One job per slot;
// a new job in a slot supersedes the old one. Slots run in a fixed order of priority (the
// filter index first: a search over a half-built view would miss lines).

export interface SlicedJob {
  /** Work until performance.now() reaches `deadline` (checking it often); true once finished. */
  step(deadline: number): boolean;
  /** Dropped before it finished (superseded or cancelled). */
  cancelled?(): void;
}

/** A slice: long enough to get work done, short enough that a key or a signal waits unnoticed. */
export const SLICE_MS = 8;

/** Let the event loop run (I/O, timers, signal handlers) before going on. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class SlicedWork<Slot extends string> {
  private readonly jobs = new Map<Slot, SlicedJob>();
  private pending: NodeJS.Immediate | undefined;
  private idleWaiters: Array<() => void> = [];

  /** @param order slots, highest priority first */
  constructor(
    private readonly order: readonly Slot[],
    private readonly afterSlice: () => void = () => {},
  ) {}

  /** Start `job` in `slot` (at the next turn of the event loop), dropping the one there. */
  start(slot: Slot, job: SlicedJob): void {
    this.cancel(slot);
    this.jobs.set(slot, job);
    this.schedule();
  }

  cancel(slot: Slot): void {
    const job = this.jobs.get(slot);
    if (!job) return;
    this.jobs.delete(slot);
    job.cancelled?.();
  }

  cancelAll(): void {
    for (const slot of this.order) this.cancel(slot);
  }

  running(slot: Slot): boolean {
    return this.jobs.has(slot);
  }

  /** The running slot of highest priority, if any. */
  get current(): Slot | undefined {
    return this.order.find((slot) => this.jobs.has(slot));
  }

  /** Resolves once no job is left (at once when none runs). */
  idle(): Promise<void> {
    if (this.jobs.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    // setImmediate, not a microtask: the event loop polls for I/O and signals before it runs.
    this.pending ??= setImmediate(() => this.slice());
  }

  private slice(): void {
    this.pending = undefined;
    const deadline = performance.now() + SLICE_MS;
    for (let slot = this.current; slot !== undefined && performance.now() < deadline; slot = this.current) {
      const job = this.jobs.get(slot)!;
      // A job may start or cancel others (or itself) from its step: only delete it if it is still there.
      if (job.step(deadline) && this.jobs.get(slot) === job) this.jobs.delete(slot);
    }
    this.afterSlice();
    if (this.jobs.size > 0) {
      this.schedule();
      return;
    }
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
