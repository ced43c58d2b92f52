// Following the journal: journalctl -f on a host, restarted after the last cursor when it or
// the connection dies (no duplicate, no gap), entries handed over in batches.
import { CommandError, UsageError, type OpsdeckError } from './errors.js';
import type { Host, StreamHandle } from './host.js';
import { journalArgv, journalError, streamJournal, stdbufWasMissing } from './journal.js';
import { JournalStreamParser, type LogEntry, type ParseOptions } from './journal-parse.js';
import type { PriorityRange } from './log-filter.js';

// ---------------------------------------------------------------------------------------------
// Following

export type FollowEvent =
  /** journalctl is running and delivering (first output, or alive for a moment). */
  | { type: 'connected'; at: number }
  /** It died (or the connection dropped); the next try comes after delayMs. */
  | { type: 'reconnecting'; at: number; attempt: number; delayMs: number; reason: string }
  /** Running again after a drop, continuing after `cursor`: nothing lost, nothing repeated. */
  | { type: 'resumed'; at: number; afterMs: number; cursor: string | null }
  /** journald dropped messages of `unit` (rate limit). */
  | { type: 'suppressed'; at: number; unit: string; dropped: number; timeUs: number }
  /** A JSON line larger than maxLineBytes was skipped. */
  | { type: 'oversized'; at: number; count: number }
  /** The follow is over: stopped by the consumer, or failed for good (error). */
  | { type: 'ended'; at: number; reason: 'stopped' | 'failed'; error?: OpsdeckError };

export type FollowState = 'idle' | 'connecting' | 'live' | 'reconnecting' | 'ended';

export interface FollowOptions extends ParseOptions {
  units: readonly string[];
  /** Entries to show before following: a count, or 'all'. Default 0 (only new ones). */
  lines?: number | 'all';
  since?: string;
  /** Continue after this cursor (e.g. the newestCursor of a readJournal). */
  afterCursor?: string;
  priority?: PriorityRange;
  /** Batches go out at most this often (default 100 ms): never one update per line. */
  flushMs?: number;
  /** Delays between reconnection attempts; the last one repeats. */
  backoffMs?: readonly number[];
  /** Alive this long without output counts as connected (default 1000 ms). */
  liveAfterMs?: number;
  /** Keep retrying when the very first journalctl fails (default: end with the error). */
  retryInitialFailure?: boolean;
}

const DEFAULT_BACKOFF = [250, 500, 1000, 2000, 5000, 10_000] as const;

/**
 * Follows the journal of some units. Subscribe with onBatch/onEvent, then start(). When
 * journalctl ends unexpectedly, it restarts with --after-cursor=<last entry received>.
 */
export class JournalFollower {
  private readonly batchListeners = new Set<(entries: LogEntry[]) => void>();
  private readonly eventListeners = new Set<(event: FollowEvent) => void>();
  private handle: StreamHandle | undefined;
  private runs = 0;
  private pending: LogEntry[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private lastFlushAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private liveTimer: NodeJS.Timeout | undefined;
  private lastCursor: string | null;
  private attempt = 0;
  private everConnected = false;
  private connectedNow = false;
  private disconnectedAt: number | null = null;
  private firstSpawnAt = 0;
  private stopping = false;
  private paused = false;
  private currentState: FollowState = 'idle';
  private endResolve!: () => void;
  /** Resolves once the follow has ended (stopped or failed) and journalctl is gone. */
  readonly ended: Promise<void>;
  readonly stats = { entries: 0, batches: 0, reconnects: 0, malformed: 0, oversized: 0, bytes: 0 };

  constructor(
    private readonly host: Host,
    private readonly options: FollowOptions,
  ) {
    this.lastCursor = options.afterCursor ?? null;
    // Validate now, so a bad unit or time is the caller's error, not a reconnect loop.
    journalArgv(this.query());
    this.ended = new Promise((resolve) => (this.endResolve = resolve));
  }

  get state(): FollowState {
    return this.currentState;
  }

  /** Cursor of the newest entry received (resume point). */
  get cursor(): string | null {
    return this.lastCursor;
  }

  onBatch(listener: (entries: LogEntry[]) => void): () => void {
    this.batchListeners.add(listener);
    return () => this.batchListeners.delete(listener);
  }

  onEvent(listener: (event: FollowEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  start(): this {
    if (this.currentState !== 'idle') return this;
    this.firstSpawnAt = Date.now();
    this.connect();
    return this;
  }

  /** Stop following: kills journalctl's process group; resolves when it is gone. */
  async stop(): Promise<void> {
    if (this.currentState === 'ended') return;
    this.stopping = true;
    clearTimeout(this.retryTimer);
    if (this.handle) {
      this.handle.stop();
      await this.ended;
    } else {
      this.finish('stopped');
    }
  }

  /** Stop reading (journalctl blocks on the full pipe) until resume(); for slow consumers. */
  pause(): void {
    this.paused = true;
    this.handle?.stdout.pause();
  }

  resume(): void {
    this.paused = false;
    this.handle?.stdout.resume();
  }

  private query() {
    const o = this.options;
    const base = { units: o.units, follow: true, ...(o.priority ? { priority: o.priority } : {}) };
    if (this.lastCursor !== null) return { ...base, afterCursor: this.lastCursor };
    if (o.since !== undefined) return { ...base, since: o.since };
    const lines = o.lines ?? 0;
    // Running again before any entry arrived: "from when we started" loses nothing.
    if (lines === 0 && this.runs > 0) return { ...base, since: `@${(this.firstSpawnAt / 1000).toFixed(3)}` };
    return { ...base, lines };
  }

  private emit(event: FollowEvent): void {
    for (const listener of this.eventListeners) listener(event);
  }

  private connect(): void {
    this.currentState = this.everConnected ? 'reconnecting' : 'connecting';
    this.connectedNow = false;
    const argv = journalArgv(this.query());
    this.runs++;
    let handle: StreamHandle;
    try {
      handle = streamJournal(this.host, argv);
    } catch (error) {
      // The transport could not even start (e.g. the lab is gone): same as a quick death.
      this.onExit(argv, undefined, error instanceof Error ? error.message : String(error), false, error);
      return;
    }
    this.handle = handle;
    const parser = new JournalStreamParser(this.options);
    const out: LogEntry[] = [];
    handle.stdout.on('data', (chunk: Buffer) => {
      out.length = 0;
      parser.push(chunk, out);
      if (parser.stats.oversized > this.stats.oversized) {
        this.stats.oversized = parser.stats.oversized;
        this.emit({ type: 'oversized', at: Date.now(), count: this.stats.oversized });
      }
      if (out.length === 0) return;
      this.markLive();
      for (let i = 0; i < out.length; i++) {
        const entry = out[i]!;
        this.pending.push(entry);
        if (entry.suppressed > 0) this.emit({ type: 'suppressed', at: Date.now(), unit: entry.unit, dropped: entry.suppressed, timeUs: entry.timeUs });
      }
      this.lastCursor = out[out.length - 1]!.cursor;
      this.stats.entries += out.length;
      // At most one batch per flushMs, but a line after a quiet spell goes out at once:
      // the wait is what remains of the interval since the last batch.
      this.flushTimer ??= setTimeout(() => this.flush(), Math.max(0, this.lastFlushAt + (this.options.flushMs ?? 100) - Date.now()));
    });
    if (this.paused) handle.stdout.pause();
    const drained = new Promise<void>((resolve) => {
      handle.stdout.once('end', resolve);
      handle.stdout.once('close', resolve);
      // Read errors end the run like an exit does; the next run resumes after the cursor.
      handle.stdout.on('error', () => resolve());
    });
    this.liveTimer = setTimeout(() => this.markLive(), this.options.liveAfterMs ?? 1000);
    // Every byte read before deciding how to go on (the cursor must be the last one received);
    // after our own stop() the rest does not matter, and a paused stream would never drain.
    void handle.done.then((result) => (result.canceled ? result : drained.then(() => result))).then((result) => {
      this.stats.bytes += parser.stats.bytes;
      this.stats.malformed += parser.stats.malformed;
      // Whatever came after the last newline is a partial entry: the next run re-reads it.
      parser.discard();
      if (!result.canceled && !this.stopping && parser.stats.bytes === 0 && stdbufWasMissing(this.host, result.exitCode, result.stderr)) {
        this.connect();
        return;
      }
      this.onExit(argv, result.exitCode, result.stderr, result.canceled);
    });
  }

  private markLive(): void {
    if (this.connectedNow || this.stopping) return;
    this.connectedNow = true;
    clearTimeout(this.liveTimer);
    this.currentState = 'live';
    const now = Date.now();
    if (!this.everConnected) {
      this.everConnected = true;
      this.emit({ type: 'connected', at: now });
    } else {
      this.emit({ type: 'resumed', at: now, afterMs: now - (this.disconnectedAt ?? now), cursor: this.lastCursor });
    }
    this.disconnectedAt = null;
  }

  private onExit(argv: readonly string[], exitCode: number | undefined, stderr: string, canceled: boolean, thrown?: unknown): void {
    clearTimeout(this.liveTimer);
    this.handle = undefined;
    if (this.stopping || canceled) {
      this.finish('stopped');
      return;
    }
    const wasLive = this.connectedNow;
    if (!this.everConnected && !this.options.retryInitialFailure) {
      const error = thrown instanceof CommandError || thrown instanceof UsageError ? thrown : journalError(this.host, argv, exitCode, stderr);
      this.finish('failed', error);
      return;
    }
    this.disconnectedAt ??= Date.now();
    // A run that delivered counts as a success: back off from the start again.
    if (wasLive) this.attempt = 0;
    const backoff = this.options.backoffMs ?? DEFAULT_BACKOFF;
    const delayMs = backoff[Math.min(this.attempt, backoff.length - 1)] ?? 1000;
    this.attempt++;
    this.stats.reconnects++;
    this.currentState = 'reconnecting';
    const reason = thrown instanceof Error ? thrown.message : journalError(this.host, argv, exitCode, stderr).message;
    this.emit({ type: 'reconnecting', at: Date.now(), attempt: this.attempt, delayMs, reason });
    this.retryTimer = setTimeout(() => {
      if (this.stopping) return;
      this.connect();
    }, delayMs);
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pending.length === 0) return;
    this.lastFlushAt = Date.now();
    const batch = this.pending;
    this.pending = [];
    this.stats.batches++;
    for (const listener of this.batchListeners) listener(batch);
  }

  private finish(reason: 'stopped' | 'failed', error?: OpsdeckError): void {
    if (this.currentState === 'ended') return;
    clearTimeout(this.retryTimer);
    clearTimeout(this.liveTimer);
    this.flush();
    this.currentState = 'ended';
    this.emit({ type: 'ended', at: Date.now(), reason, ...(error ? { error } : {}) });
    this.endResolve();
  }
}
