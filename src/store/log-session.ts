// The logs pane's hot data, kept out of React state: a bounded ring buffer fed by a journal
// follower, the indexes of the entries that pass the filter (kept up to date incrementally),
// and search over them. The store only holds a revision counter and the view settings; it is
// told about a change at most once per follower batch (≤ 10 a second) or per tenth of a second
// of long work.
//
// Long work (re-filtering the whole buffer, searching, counting matches) runs in slices of a
// few milliseconds (core/journal/sliced-work.ts) so that keys and signals are answered meanwhile. It
// works in sequence numbers, which entries keep while the ring buffer evicts the oldest, so
// entries that arrive or leave during a job are neither lost, repeated nor reordered.
import type { HostRegistry } from '../core/host/registry.js';
import { type LogEntry } from '../core/journal/parse.js';
import { JournalFollower, type FollowEvent } from '../core/journal/follow.js';
import { LogBuffer } from '../core/journal/buffer.js';
import { entryFilter, type EntryFilterSpec } from '../core/journal/filter.js';
import type { Pattern } from '../core/text/pattern.js';
import { SLICE_MS, SlicedWork } from '../core/journal/sliced-work.js';

export interface LogTarget {
  host: string;
  units: string[];
  /** What the operator picked: an environment's name or a unit. */
  label: string;
  environment: string | null;
}

/** Long work in progress, for the pane to show ("filtering… 40%"). */
export interface LogWork {
  task: 'filter' | 'search' | 'count';
  percent: number;
}

export interface LogSessionCallbacks {
  /** Entries came into view (new ones, or found by a re-filter): how many of them arrived
   *  since the filter was set, and how many entries in view the ring buffer dropped from the
   *  front (a paused view moves up by that much to stay in place). */
  onEntries: (passed: number, dropped: number) => void;
  onEvent: (event: FollowEvent) => void;
  /** Long work advanced, or ended (null). */
  onWork?: (work: LogWork | null) => void;
}

const HISTORY_LINES = 1000;
/** Progress and entries found by long work reach the store at most this often. */
const REPORT_EVERY_MS = 100;
/** Before a sequence number, or after any. */
const BEFORE_ALL = -1;
const AFTER_ALL = Number.MAX_SAFE_INTEGER;

type Slot = 'filter' | 'find' | 'count';

export class LogSession {
  readonly buffer: LogBuffer<LogEntry>;
  private follower: JournalFollower | null = null;
  private predicate: ((entry: LogEntry) => boolean) | undefined;
  /** Sequence numbers of the entries that pass the filter, ascending (unused without a filter). */
  private passing: number[] = [];
  private passingStart = 0;
  /** The next sequence number the filter has not looked at: the index is whole once it reaches buffer.totalPushed. */
  private indexed = 0;
  /** Entries from this sequence number on arrived after the filter was set: "new" ones. */
  private newFrom = 0;
  /** Where the current re-filter began, for its progress. */
  private filterFrom = 0;
  /** Found by long work, not yet told to the store. */
  private unreported = { passed: 0, dropped: 0 };
  private lastReport = 0;
  private readonly work = new SlicedWork<Slot>(['filter', 'find', 'count'], () => this.report(false));
  /** How far each task shown as progress got (0..1); a filter catching up with new entries is not shown. */
  private readonly progress = new Map<LogWork['task'], () => number>();
  private shownWork: LogWork | null = null;

  constructor(
    private readonly hosts: HostRegistry,
    capacity: number,
    private readonly callbacks: LogSessionCallbacks,
  ) {
    this.buffer = new LogBuffer<LogEntry>(capacity);
  }

  get following(): boolean {
    return this.follower !== null && this.follower.state !== 'ended';
  }

  /** Follow these units (showing the last HISTORY_LINES first, or everything since `since`).
   *  Throws (a UsageError) before the current follow is touched when they cannot be followed.
   *  `beforeStart` runs once the old follow is gone, before the new one can say anything. */
  open(target: LogTarget, since?: string, beforeStart?: () => void): void {
    const follower = new JournalFollower(this.hosts.get(target.host), {
      units: target.units,
      ...(since ? { since, lines: 'all' as const } : { lines: HISTORY_LINES }),
      retryInitialFailure: true,
    });
    void this.close();
    this.work.cancelAll();
    this.buffer.clear();
    this.passing = [];
    this.passingStart = 0;
    this.indexed = this.newFrom = this.filterFrom = this.buffer.totalPushed;
    this.unreported = { passed: 0, dropped: 0 };
    this.report(true);
    // A previous follower may still flush or end after this one started: ignore it.
    follower.onBatch((entries) => {
      if (this.follower === follower) this.ingest(entries);
    });
    follower.onEvent((event) => {
      if (this.follower === follower) this.callbacks.onEvent(event);
    });
    this.follower = follower;
    beforeStart?.();
    follower.start();
  }

  /** Stop following; journalctl is killed (by process group) on the host. */
  async close(): Promise<void> {
    const follower = this.follower;
    this.follower = null;
    await follower?.stop();
  }

  /** Add a batch (from the follower; tests feed recorded entries the same way). */
  ingest(entries: LogEntry[]): void {
    const evictedBefore = this.buffer.evicted;
    this.buffer.push(entries);
    if (!this.predicate) {
      this.indexed = this.buffer.totalPushed;
      this.callbacks.onEntries(entries.length, this.buffer.evicted - evictedBefore);
      return;
    }
    // Filter the new entries now, within a slice's time; what is left (a huge batch, or a
    // re-filter under way) the filter job does.
    if (!this.work.running('filter') && !this.indexSome(performance.now() + SLICE_MS)) this.startFilterJob(false);
    this.unreported.dropped += this.dropEvicted();
    this.report(true);
  }

  setFilter(spec: EntryFilterSpec): void {
    this.predicate = entryFilter(spec);
    // Matches found and being counted were of the old view.
    this.cancelSearch();
    this.passing = [];
    this.passingStart = 0;
    this.unreported = { passed: 0, dropped: 0 };
    this.filterFrom = this.indexed = this.buffer.firstSeq;
    this.newFrom = this.buffer.totalPushed;
    if (!this.predicate) {
      this.work.cancel('filter');
      this.indexed = this.buffer.totalPushed;
      this.report(true);
      return;
    }
    // A small buffer is filtered at once; a large one goes on in the background.
    if (this.indexSome(performance.now() + SLICE_MS)) this.work.cancel('filter');
    else this.startFilterJob(true);
    this.report(true);
  }

  /** Whether every entry held has been looked at by the filter. */
  get filtered(): boolean {
    return !this.work.running('filter');
  }

  /** Resolves once no long work is left. */
  idle(): Promise<void> {
    return this.work.idle();
  }

  /** Entries in view (after the filter, as far as it got). */
  get length(): number {
    return this.predicate ? this.passing.length - this.passingStart : this.buffer.size;
  }

  at(index: number): LogEntry | undefined {
    if (!this.predicate) return this.buffer.at(index);
    const seq = this.passing[this.passingStart + index];
    return seq === undefined ? undefined : this.buffer.bySeq(seq);
  }

  /**
   * The next entry in view matching `pattern` from index `from` in direction `step`, wrapping
   * around (from -1 forwards, or from `length` backwards: all of them); -1 if none. Resolves
   * null when superseded by another find, a new filter or target.
   */
  find(pattern: Pick<Pattern, 'test'>, from: number, step: 1 | -1): Promise<number | null> {
    const start = from < 0 ? BEFORE_ALL : from >= this.length ? AFTER_ALL : this.seqAt(from);
    const total = Math.max(1, this.length);
    let examined = 0;
    let wrapped = false;
    let cur = start;
    return this.tracked<number>('find', 'search', () => examined / total, (deadline, done) => {
      do {
        const next = this.neighbour(cur, step);
        // Past the end: go round once, back to where the search began.
        if (!wrapped && next === undefined) {
          wrapped = true;
          cur = step > 0 ? BEFORE_ALL : AFTER_ALL;
          continue;
        }
        if (next === undefined || (wrapped && (step > 0 ? next > start : next < start))) {
          done(-1);
          return true;
        }
        cur = next;
        examined++;
        if (pattern.test(this.buffer.bySeq(cur)!.message)) {
          done(this.indexOfSeq(cur));
          return true;
        }
      } while (performance.now() < deadline);
      return false;
    });
  }

  /** Drop a search or count under way (their promises resolve null). */
  cancelSearch(): void {
    this.work.cancel('find');
    this.work.cancel('count');
  }

  /** How many entries in view match `pattern`; null when superseded. */
  count(pattern: Pick<Pattern, 'test'>): Promise<number | null> {
    const total = Math.max(1, this.length);
    let examined = 0;
    let matches = 0;
    let cur = BEFORE_ALL;
    return this.tracked<number>('count', 'count', () => examined / total, (deadline, done) => {
      do {
        const next = this.neighbour(cur, 1);
        if (next === undefined) {
          done(matches);
          return true;
        }
        cur = next;
        examined++;
        if (pattern.test(this.buffer.bySeq(cur)!.message)) matches++;
      } while (performance.now() < deadline);
      return false;
    });
  }

  /**
   * Run a search-like job in `slot`, its progress shown as `task` until it ends: `step` works
   * until the deadline and calls `done` with the result when it has one (then returns true).
   * Resolves that result, or null when the job is superseded or cancelled.
   */
  private tracked<T>(slot: 'find' | 'count', task: LogWork['task'], progress: () => number, step: (deadline: number, done: (result: T) => void) => boolean): Promise<T | null> {
    return new Promise((resolve) => {
      const done = (result: T | null) => {
        this.untrack(task, progress);
        resolve(result);
      };
      this.work.start(slot, { step: (deadline) => step(deadline, done), cancelled: () => done(null) });
      this.progress.set(task, progress);
    });
  }

  // -------------------------------------------------------------------------------------------
  // The filter index

  /** Look at entries not yet filtered until `deadline`; true once all are. */
  private indexSome(deadline: number): boolean {
    const predicate = this.predicate!;
    // Entries evicted before the filter saw them are gone from view anyway.
    if (this.indexed < this.buffer.firstSeq) this.indexed = this.buffer.firstSeq;
    const end = this.buffer.totalPushed;
    while (this.indexed < end) {
      const seq = this.indexed++;
      if (predicate(this.buffer.bySeq(seq)!)) {
        this.passing.push(seq);
        if (seq >= this.newFrom) this.unreported.passed++;
      }
      if (performance.now() >= deadline) break;
    }
    return this.indexed >= end;
  }

  private startFilterJob(refilter: boolean): void {
    const progress = () => {
      const all = this.buffer.totalPushed - this.filterFrom;
      return all <= 0 ? 1 : (this.indexed - this.filterFrom) / all;
    };
    this.work.start('filter', {
      step: (deadline) => {
        const done = this.indexSome(deadline);
        this.unreported.dropped += this.dropEvicted();
        if (done) this.untrack('filter', progress);
        return done;
      },
      cancelled: () => this.untrack('filter', progress),
    });
    if (refilter) this.progress.set('filter', progress);
  }

  /** Forget the indexes of entries the ring buffer has dropped; returns how many. */
  private dropEvicted(): number {
    const oldest = this.buffer.firstSeq;
    const before = this.passingStart;
    let i = this.passingStart;
    while (i < this.passing.length && this.passing[i]! < oldest) i++;
    this.passingStart = i;
    const dropped = i - before;
    if (this.passingStart > 4096 && this.passingStart > this.passing.length / 2) {
      this.passing = this.passing.slice(this.passingStart);
      this.passingStart = 0;
    }
    return dropped;
  }

  // -------------------------------------------------------------------------------------------
  // The view by sequence number (stable while entries arrive and leave)

  private seqAt(index: number): number {
    return this.predicate ? this.passing[this.passingStart + index]! : this.buffer.firstSeq + index;
  }

  /** Index in view of the entry with this sequence number (which is in view). */
  private indexOfSeq(seq: number): number {
    return this.predicate ? this.lowerBound(seq) - this.passingStart : seq - this.buffer.firstSeq;
  }

  /** The sequence number in view just after (step 1) or before (-1) `seq`, if any. */
  private neighbour(seq: number, step: 1 | -1): number | undefined {
    if (!this.predicate) {
      const next = step > 0 ? Math.max(seq + 1, this.buffer.firstSeq) : Math.min(seq - 1, this.buffer.totalPushed - 1);
      return next >= this.buffer.firstSeq && next < this.buffer.totalPushed ? next : undefined;
    }
    const at = step > 0 ? this.lowerBound(seq + 1) : this.lowerBound(seq) - 1;
    return at >= this.passingStart && at < this.passing.length && this.passing[at]! >= this.buffer.firstSeq ? this.passing[at] : undefined;
  }

  /** First position in `passing` (from passingStart) whose sequence number is >= seq. */
  private lowerBound(seq: number): number {
    let lo = this.passingStart;
    let hi = this.passing.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.passing[mid]! < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  // -------------------------------------------------------------------------------------------
  // Telling the store

  private untrack(task: LogWork['task'], progress: () => number): void {
    if (this.progress.get(task) === progress) this.progress.delete(task);
  }

  /** Tell the store what long work found and how far it got: now, or when REPORT_EVERY_MS passed. */
  private report(now: boolean): void {
    const at = performance.now();
    if (!now && at - this.lastReport < REPORT_EVERY_MS && this.work.current !== undefined) return;
    this.lastReport = at;
    const { passed, dropped } = this.unreported;
    this.unreported = { passed: 0, dropped: 0 };
    this.callbacks.onEntries(passed, dropped);
    const slot = this.work.current;
    const task: LogWork['task'] | undefined = slot === 'find' ? 'search' : slot;
    const progress = task === undefined ? undefined : this.progress.get(task);
    const work: LogWork | null = task !== undefined && progress ? { task, percent: Math.max(0, Math.min(99, Math.floor(progress() * 100))) } : null;
    if (work?.task !== this.shownWork?.task || work?.percent !== this.shownWork?.percent) {
      this.shownWork = work;
      this.callbacks.onWork?.(work);
    }
  }
}
