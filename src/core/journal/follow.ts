// Following the journal: journalctl -f on a host, restarted after the last cursor when it or
// the connection dies (no duplicate, no gap), entries handed over in batches.
//
// A follow that delivers nothing looks the same as a host that accepted the connection and
// never answered, so "following" is only claimed on an answer: every (re)connection first
// reads once without --follow (the history, or what came after the cursor), which journalctl
// ends with exit code 0 even when there is nothing. Then --follow starts right after the last
// entry read, or, when there was none, from the start of the window (there is nothing before
// to repeat). No clock of ours or the host's decides what is new.
import { CommandError, UsageError, type OpsdeckError } from '../text/errors.js';
import type { Host, StreamHandle } from '../host/host.js';
import { journalArgv, journalError, streamJournal, stdbufWasMissing } from './read.js';
import { JournalStreamParser, type LogEntry, type ParseOptions } from './parse.js';
import type { PriorityRange } from './filter.js';

// ---------------------------------------------------------------------------------------------
// Following

export type FollowEvent =
  /** journalctl was started on the host; no answer yet (a host may accept and never answer). */
  | { type: 'waiting'; at: number }
  /** journalctl answered (entries, or its read ended well): following. */
  | { type: 'connected'; at: number }
  /** It died (or the connection dropped); the next try comes after delayMs. */
  | { type: 'reconnecting'; at: number; attempt: number; delayMs: number; reason: string }
  /** Answered again after a drop, continuing after `cursor`: nothing lost, nothing repeated. */
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
  /** With lines 'all' (or from a cursor): only entries since this time (journalctl's form, e.g. "@1732441800.000"). */
  since?: string;
  /** Continue after this cursor (e.g. the newestCursor of a readJournal). */
  afterCursor?: string;
  priority?: PriorityRange;
  /** Batches go out at most this often (default 100 ms): never one update per line. */
  flushMs?: number;
  /** Delays between reconnection attempts; the last one repeats. */
  backoffMs?: readonly number[];
  /** Keep retrying when the very first journalctl fails (default: end with the error). */
  retryInitialFailure?: boolean;
}

const DEFAULT_BACKOFF = [250, 500, 1000, 2000, 5000, 10_000] as const;

/** A run of journalctl: the one-shot read that answers, or the follow after it. */
type Phase = 'read' | 'follow';

/**
 * Follows the journal of some units. Subscribe with onBatch/onEvent, then start(). Each
 * (re)connection reads once, then follows after the last entry read; when journalctl or the
 * connection ends unexpectedly, it starts again after the last entry received.
 */
export class JournalFollower {
  private readonly batchListeners = new Set<(entries: LogEntry[]) => void>();
  private readonly eventListeners = new Set<(event: FollowEvent) => void>();
  private handle: StreamHandle | undefined;
  private pending: LogEntry[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private lastFlushAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private lastCursor: string | null;
  /** journalctl answered a read with no entry at all (for these units, priority and window). */
  private answeredEmpty = false;
  private attempt = 0;
  private everConnected = false;
  private disconnectedAt: number | null = null;
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
    journalArgv(this.query('read'));
    journalArgv(this.query('follow'));
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
    this.connect('read');
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

  /**
   * What to ask journalctl. A read: after the last entry received; else, before any answer,
   * the history asked for (with lines 0, the newest entry, for its cursor only); else, after an
   * empty answer, everything in the window. A follow: after the last entry received, else (the
   * read found nothing) everything in the window, which can only be what came since.
   */
  private query(phase: Phase) {
    const o = this.options;
    const base = { units: o.units, follow: phase === 'follow', ...(o.priority ? { priority: o.priority } : {}) };
    if (this.lastCursor !== null) return { ...base, afterCursor: this.lastCursor };
    const window = o.since !== undefined ? { since: o.since } : {};
    if (phase === 'follow' || this.answeredEmpty) return { ...base, ...window, lines: 'all' as const };
    const lines = o.lines ?? 0;
    if (lines === 'all' || o.since !== undefined) return { ...base, ...window, lines: 'all' as const };
    return { ...base, lines: Math.max(1, lines) };
  }

  /** The history read with lines 0 asks for one entry only to learn where "now" is: it is not shown. */
  private hidesRead(): boolean {
    return this.lastCursor === null && !this.answeredEmpty && (this.options.lines ?? 0) === 0 && this.options.since === undefined;
  }

  private emit(event: FollowEvent): void {
    for (const listener of this.eventListeners) listener(event);
  }

  /** @param again the same run once more (bare journalctl where stdbuf was missing) */
  private connect(phase: Phase, again = false): void {
    if (phase === 'read') {
      this.currentState = this.everConnected ? 'reconnecting' : 'connecting';
    }
    const argv = journalArgv(this.query(phase));
    const hidden = phase === 'read' && this.hidesRead();
    let handle: StreamHandle;
    try {
      handle = streamJournal(this.host, argv);
    } catch (error) {
      // The transport could not even start (e.g. the lab is gone): same as a quick death.
      this.onExit(argv, undefined, error instanceof Error ? error.message : String(error), false, error);
      return;
    }
    this.handle = handle;
    if (phase === 'read' && !again) this.emit({ type: 'waiting', at: Date.now() });
    const parser = new JournalStreamParser(this.options);
    const out: LogEntry[] = [];
    let received = 0;
    handle.stdout.on('data', (chunk: Buffer) => {
      out.length = 0;
      parser.push(chunk, out);
      if (parser.stats.oversized > this.stats.oversized) {
        this.stats.oversized = parser.stats.oversized;
        this.emit({ type: 'oversized', at: Date.now(), count: this.stats.oversized });
      }
      if (out.length === 0) return;
      received += out.length;
      this.lastCursor = out[out.length - 1]!.cursor;
      if (hidden) return;
      this.markLive();
      for (let i = 0; i < out.length; i++) {
        const entry = out[i]!;
        this.pending.push(entry);
        if (entry.suppressed > 0) this.emit({ type: 'suppressed', at: Date.now(), unit: entry.unit, dropped: entry.suppressed, timeUs: entry.timeUs });
      }
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
    // Every byte read before deciding how to go on (the cursor must be the last one received);
    // after our own stop() the rest does not matter, and a paused stream would never drain.
    void handle.done.then((result) => (result.canceled ? result : drained.then(() => result))).then((result) => {
      this.stats.bytes += parser.stats.bytes;
      this.stats.malformed += parser.stats.malformed;
      if (phase === 'read' && !result.canceled && !this.stopping && result.exitCode === 0) {
        // A read that ended well is journalctl's answer, entries or none. Its last line is whole.
        const rest: LogEntry[] = [];
        parser.end(rest);
        if (rest.length > 0) this.lastCursor = rest[rest.length - 1]!.cursor;
        if (rest.length > 0 && !hidden) this.pending.push(...rest);
        received += rest.length;
        if (received === 0 && this.lastCursor === null) this.answeredEmpty = true;
        this.handle = undefined;
        this.markLive();
        this.flush();
        this.connect('follow');
        return;
      }
      // Whatever came after the last newline is a partial entry: the next run re-reads it.
      parser.discard();
      if (!result.canceled && !this.stopping && parser.stats.bytes === 0 && stdbufWasMissing(this.host, result.exitCode, result.stderr)) {
        this.connect(phase, true);
        return;
      }
      this.onExit(argv, result.exitCode, result.stderr, result.canceled);
    });
  }

  private markLive(): void {
    if (this.currentState === 'live' || this.stopping) return;
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
    this.handle = undefined;
    if (this.stopping || canceled) {
      this.finish('stopped');
      return;
    }
    const wasLive = this.currentState === 'live';
    if (!this.everConnected && !this.options.retryInitialFailure) {
      const error = thrown instanceof CommandError || thrown instanceof UsageError ? thrown : journalError(this.host, argv, exitCode, stderr);
      this.finish('failed', error);
      return;
    }
    this.disconnectedAt ??= Date.now();
    // A run that answered counts as a success: back off from the start again.
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
      this.connect('read');
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
    this.flush();
    this.currentState = 'ended';
    this.emit({ type: 'ended', at: Date.now(), reason, ...(error ? { error } : {}) });
    this.endResolve();
  }
}
