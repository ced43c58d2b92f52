// The logs pane's hot data, kept out of React state: a bounded ring buffer fed by a journal
// follower, the indexes of the entries that pass the filter (kept up to date incrementally),
// and search over them. The store only holds a revision counter and the view settings; it is
// told about a change at most once per follower batch (≤ 10 a second).
import type { HostRegistry } from '../core/hosts.js';
import { type LogEntry } from '../core/journal-parse.js';
import { JournalFollower, type FollowEvent } from '../core/journal-follow.js';
import { LogBuffer } from '../core/log-buffer.js';
import { entryFilter, type EntryFilterSpec } from '../core/log-filter.js';
import type { Pattern } from '../core/pattern.js';

export interface LogTarget {
  host: string;
  units: string[];
  /** What the operator picked: an environment's name or a unit. */
  label: string;
  environment: string | null;
}

export interface LogSessionCallbacks {
  /** New entries arrived: how many passed the filter, and how many entries in view the ring
   *  buffer dropped from the front (a paused view moves up by that much to stay in place). */
  onEntries: (passed: number, dropped: number) => void;
  onEvent: (event: FollowEvent) => void;
}

const HISTORY_LINES = 1000;

export class LogSession {
  readonly buffer: LogBuffer<LogEntry>;
  private follower: JournalFollower | null = null;
  private predicate: ((entry: LogEntry) => boolean) | undefined;
  /** Sequence numbers of the entries that pass the filter (all of them when there is none). */
  private passing: number[] = [];
  private passingStart = 0;

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
   *  Throws (a UsageError) before the current follow is touched when they cannot be followed. */
  open(target: LogTarget, since?: string): void {
    const follower = new JournalFollower(this.hosts.get(target.host), {
      units: target.units,
      ...(since ? { since, lines: 'all' as const } : { lines: HISTORY_LINES }),
      retryInitialFailure: true,
    });
    void this.close();
    this.buffer.clear();
    this.passing = [];
    this.passingStart = 0;
    // A previous follower may still flush or end after this one started: ignore it.
    follower.onBatch((entries) => {
      if (this.follower === follower) this.ingest(entries);
    });
    follower.onEvent((event) => {
      if (this.follower === follower) this.callbacks.onEvent(event);
    });
    this.follower = follower;
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
    const firstSeq = this.buffer.totalPushed;
    const evictedBefore = this.buffer.evicted;
    this.buffer.push(entries);
    let passed = 0;
    let dropped: number;
    if (this.predicate) {
      entries.forEach((entry, i) => {
        if (this.predicate!(entry)) {
          this.passing.push(firstSeq + i);
          passed++;
        }
      });
      dropped = this.dropEvicted();
    } else {
      passed = entries.length;
      dropped = this.buffer.evicted - evictedBefore;
    }
    this.callbacks.onEntries(passed, dropped);
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

  setFilter(spec: EntryFilterSpec): void {
    this.predicate = entryFilter(spec);
    this.passing = [];
    this.passingStart = 0;
    if (!this.predicate) return;
    const first = this.buffer.firstSeq;
    for (let i = 0; i < this.buffer.size; i++) if (this.predicate(this.buffer.at(i)!)) this.passing.push(first + i);
  }

  /** Entries in view (after the filter). */
  get length(): number {
    return this.predicate ? this.passing.length - this.passingStart : this.buffer.size;
  }

  at(index: number): LogEntry | undefined {
    if (!this.predicate) return this.buffer.at(index);
    const seq = this.passing[this.passingStart + index];
    return seq === undefined ? undefined : this.buffer.bySeq(seq);
  }

  /** The next entry matching `pattern` from `from` in direction `step`, wrapping around; -1 if none. */
  find(pattern: Pattern, from: number, step: 1 | -1): number {
    const n = this.length;
    for (let k = 1; k <= n; k++) {
      const i = (((from + step * k) % n) + n) % n;
      if (pattern.test(this.at(i)!.message)) return i;
    }
    return -1;
  }

  count(pattern: Pattern): number {
    let matches = 0;
    for (let i = 0; i < this.length; i++) if (pattern.test(this.at(i)!.message)) matches++;
    return matches;
  }
}
