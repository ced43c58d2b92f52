// The journal through `journalctl -o json`: the argv (units validated, passed as --unit=NAME),
// a streaming parser (lines split from the byte stream, messages sanitized), a follower that
// survives journalctl or the connection dying (resumes after the last cursor: no duplicate,
// no gap) and hands entries to consumers in batches, and a one-shot reader.
import { isUtf8 } from 'node:buffer';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CommandError, UsageError, trimStderr, type OpsdeckError } from './errors.js';
import type { Host, StreamHandle } from './host.js';
import type { PriorityRange } from './log-filter.js';
import { sanitizeLine } from './sanitize.js';
import { normalizeUnitName } from './systemd.js';

/** One journal entry, ready to show: `message` is sanitized and safe to print. */
export interface LogEntry {
  cursor: string;
  /** __REALTIME_TIMESTAMP: microseconds since the epoch. */
  timeUs: number;
  /** 0 (emerg) .. 7 (debug); null when the entry has no PRIORITY field. */
  priority: number | null;
  /** The unit the entry is about (for systemd's and journald's own messages: the unit named). */
  unit: string;
  message: string;
  /** MESSAGE was not printable UTF-8 (journald gave bytes); invalid bytes are shown as \xNN. */
  binary: boolean;
  /** Original length in characters when the message was cut to maxMessageChars; else 0. */
  truncated: number;
  /** For journald's "Suppressed N messages from UNIT": N; else 0. */
  suppressed: number;
  /** Who wrote it: the unit's own processes, systemd about the unit ("Started ..."), or journald. */
  origin: 'unit' | 'systemd' | 'journald';
}

// Every field of LogEntry is always set so all entries share one object shape (fast in V8).
// __CURSOR, __REALTIME_TIMESTAMP, __MONOTONIC_TIMESTAMP and _BOOT_ID always come with -o json.
// Each field asked for costs journalctl time on every entry (measured: 7 fields 6.2 s, 3 fields
// 5.5 s for 400,000 entries), so only these: UNIT names the unit in systemd's own messages
// ("Started ...", "Main process exited"); journald's rate-limit notice is recognised by its
// sender and text rather than by MESSAGE_ID/OBJECT_SYSTEMD_UNIT/N_DROPPED.
export const JOURNAL_FIELDS = ['MESSAGE', 'PRIORITY', '_SYSTEMD_UNIT', 'UNIT'] as const;

/** systemd writes its messages about a unit as init.scope, naming the unit in UNIT=. */
const SYSTEMD_ITSELF = 'init.scope';
const JOURNALD = 'systemd-journald.service';
/** journald's notice when a unit hit its rate limit (the text has been the same since 2012). */
const SUPPRESSED = /^Suppressed (\d+) messages from (\S+)$/;

const NOT_PLAIN = /[^\x20-\x7e]/;

/** Covers journald's default LineMax (48K), so stdout lines are never cut; bigger native entries are. */
export const DEFAULT_MAX_MESSAGE_CHARS = 65_536;
/** A JSON line longer than this is skipped (and reported) rather than held in memory. */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

export interface JournalQuery {
  units: readonly string[];
  follow?: boolean;
  /** Entries to show first: a count (-n) or 'all' (--no-tail with --follow). */
  lines?: number | 'all';
  /** Times as journalctl takes them: use log-filter's parseTime(...).journal, e.g. "@1732441800.000". */
  since?: string;
  until?: string;
  priority?: PriorityRange;
  afterCursor?: string;
  reverse?: boolean;
  fields?: readonly string[];
}

const CURSOR = /^[A-Za-z0-9=;_-]+$/;
const TIME_ARG = /^@\d+(\.\d+)?$|^[A-Za-z0-9 :.+-]+$/;

/** The journalctl argv for a query; every value is validated and glued to its option. */
export function journalArgv(query: JournalQuery): string[] {
  if (query.units.length === 0) throw new UsageError('no unit to read the journal of', 'name a unit, or an environment that has `unit:`');
  const units = [...new Set(query.units.map(normalizeUnitName))];
  const argv = ['journalctl', '--no-pager', '--quiet', '--all', '--output=json', `--output-fields=${(query.fields ?? JOURNAL_FIELDS).join(',')}`];
  if (query.follow) argv.push('--follow');
  if (query.reverse) argv.push('--reverse');
  if (query.afterCursor !== undefined) {
    if (!CURSOR.test(query.afterCursor)) throw new UsageError(`invalid journal cursor ${JSON.stringify(query.afterCursor)}`);
    argv.push(`--after-cursor=${query.afterCursor}`);
  } else if (query.lines === 'all') {
    if (query.follow) argv.push('--no-tail');
  } else if (query.lines !== undefined) {
    if (!Number.isInteger(query.lines) || query.lines < 0) throw new UsageError(`invalid line count ${query.lines}`, 'use a whole number, 0 or more');
    argv.push(`--lines=${query.lines}`);
  }
  for (const [option, value] of [['--since', query.since], ['--until', query.until]] as const) {
    if (value === undefined) continue;
    if (!TIME_ARG.test(value)) throw new UsageError(`invalid time ${JSON.stringify(value)} for ${option}`);
    argv.push(`${option}=${value}`);
  }
  if (query.priority) {
    const { min, max } = query.priority;
    if (![min, max].every((p) => Number.isInteger(p) && p >= 0 && p <= 7) || min > max) throw new UsageError(`invalid priority range ${min}..${max}`);
    argv.push(`--priority=${min === 0 ? max : `${min}..${max}`}`);
  }
  for (const unit of units) argv.push(`--unit=${unit}`);
  return argv;
}

// ---------------------------------------------------------------------------------------------
// Parsing

export interface ParseOptions {
  maxMessageChars?: number;
  maxLineBytes?: number;
}

type RawValue = string | number[] | Array<string | number[]> | null | undefined;
interface RawEntry {
  __CURSOR?: string;
  __REALTIME_TIMESTAMP?: string;
  MESSAGE?: RawValue;
  PRIORITY?: RawValue;
  _SYSTEMD_UNIT?: RawValue;
  UNIT?: RawValue;
}

/** A field's text. journalctl gives bytes (an array of numbers) for unprintable or non-UTF-8 values, and an array of values for a field set more than once (the first counts, as in journalctl's own output). */
function fieldText(value: RawValue): string | undefined {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) return undefined;
  if (value.length === 0) return '';
  const first = value[0];
  if (typeof first === 'number') return decodeBytes(value as number[]);
  return fieldText(first as RawValue);
}

function isBytes(value: RawValue): boolean {
  return Array.isArray(value) && (value.length === 0 || typeof value[0] === 'number' || (Array.isArray(value[0]) && typeof value[0][0] === 'number'));
}

/** UTF-8 where it is valid; every byte that is not part of a valid sequence becomes "\xNN". */
export function decodeBytes(bytes: readonly number[]): string {
  const buf = Buffer.from(bytes as number[]);
  if (isUtf8(buf)) return buf.toString('utf8');
  let out = '';
  let runStart = 0;
  let i = 0;
  while (i < buf.length) {
    const length = utf8SequenceLength(buf, i);
    if (length > 0) {
      i += length;
      continue;
    }
    out += buf.toString('utf8', runStart, i) + `\\x${buf[i]!.toString(16).padStart(2, '0')}`;
    i++;
    runStart = i;
  }
  return out + buf.toString('utf8', runStart, buf.length);
}

/** Length of the well-formed UTF-8 sequence at `i` (RFC 3629), or 0. */
function utf8SequenceLength(buf: Buffer, i: number): number {
  const b0 = buf[i]!;
  if (b0 < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < buf.length && buf[i + k]! >= lo && buf[i + k]! <= hi;
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const ok1 = b0 === 0xe0 ? cont(1, 0xa0) : b0 === 0xed ? cont(1, 0x80, 0x9f) : cont(1);
    return ok1 && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const ok1 = b0 === 0xf0 ? cont(1, 0x90) : b0 === 0xf4 ? cont(1, 0x80, 0x8f) : cont(1);
    return ok1 && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

function parsePriority(value: RawValue): number | null {
  const text = typeof value === 'string' ? value : fieldText(value);
  if (text === undefined || text.length !== 1) return null;
  const p = text.charCodeAt(0) - 48;
  return p >= 0 && p <= 7 ? p : null;
}

/** Turn one parsed JSON object into an entry, or undefined when it is not a journal entry. */
export function toLogEntry(raw: RawEntry, options: ParseOptions = {}, intern?: Map<string, string>): LogEntry | undefined {
  const cursor = raw.__CURSOR;
  if (typeof cursor !== 'string') return undefined;
  const maxChars = options.maxMessageChars ?? DEFAULT_MAX_MESSAGE_CHARS;
  const rawMessage = raw.MESSAGE;
  let message = typeof rawMessage === 'string' ? rawMessage : (fieldText(rawMessage) ?? '');
  const binary = typeof rawMessage !== 'string' && isBytes(rawMessage);
  let truncated = 0;
  if (message.length > maxChars) {
    truncated = message.length;
    // Never split a surrogate pair.
    let cut = maxChars;
    const code = message.charCodeAt(cut - 1);
    if (code >= 0xd800 && code <= 0xdbff) cut--;
    message = message.slice(0, cut) + '…';
  }
  // Printable ASCII cannot carry an escape or control sequence: skip the full sanitizer.
  if (NOT_PLAIN.test(message)) message = sanitizeLine(message);

  const own = fieldText(raw._SYSTEMD_UNIT);
  const about = own === SYSTEMD_ITSELF ? fieldText(raw.UNIT) : undefined;
  let rawUnit = about ?? own ?? fieldText(raw.UNIT) ?? '';
  let origin: LogEntry['origin'] = about !== undefined ? 'systemd' : 'unit';
  let suppressed = 0;
  if (own === JOURNALD) {
    // Only journald itself can send as systemd-journald.service: a unit cannot forge this.
    const notice = SUPPRESSED.exec(message);
    if (notice) {
      suppressed = Number(notice[1]);
      rawUnit = notice[2]!;
      origin = 'journald';
    }
  }
  // Few distinct units: sanitize each once and share one string among all their entries.
  let unit = intern?.get(rawUnit);
  if (unit === undefined) {
    unit = sanitizeLine(rawUnit);
    if (intern && intern.size < 1024) intern.set(rawUnit, unit);
  }
  return {
    cursor,
    timeUs: Number(raw.__REALTIME_TIMESTAMP ?? 0),
    priority: parsePriority(raw.PRIORITY),
    unit,
    message,
    binary,
    truncated,
    suppressed,
    origin,
  };
}

/** Parse one line of `journalctl -o json` output. */
export function parseJournalLine(line: string, options: ParseOptions = {}, intern?: Map<string, string>): LogEntry | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  return toLogEntry(raw as RawEntry, options, intern);
}

/**
 * Splits journalctl's byte stream into entries. Chunks may end anywhere, even inside a UTF-8
 * sequence: only the part up to the last newline is decoded (a newline byte never occurs
 * inside a multi-byte sequence, and journalctl escapes newlines inside values), the rest waits.
 */
export class JournalStreamParser {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private skipping = false;
  private readonly intern = new Map<string, string>();
  readonly stats = { lines: 0, entries: 0, malformed: 0, oversized: 0, bytes: 0 };

  constructor(private readonly options: ParseOptions = {}) {}

  /** Feed a chunk; complete entries are appended to `out`. */
  push(chunk: Buffer | string, out: LogEntry[]): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.stats.bytes += buf.length;
    let from = 0;
    if (this.pendingBytes > 0 || this.skipping) {
      const first = buf.indexOf(10);
      if (first < 0) {
        this.hold(buf);
        return;
      }
      // Only the line that spans chunks is copied together; the rest is decoded in place.
      if (this.skipping) this.skipping = false;
      else {
        this.pending.push(buf.subarray(0, first));
        this.lines(Buffer.concat(this.pending, this.pendingBytes + first).toString('utf8'), out);
      }
      this.pending = [];
      this.pendingBytes = 0;
      from = first + 1;
    }
    const last = buf.lastIndexOf(10);
    if (last >= from) {
      if (last > from) this.lines(buf.toString('utf8', from, last), out);
      from = last + 1;
    }
    if (from < buf.length) this.hold(from === 0 ? buf : buf.subarray(from));
  }

  /** At the natural end of the stream: a last line without its newline is still an entry. */
  end(out: LogEntry[]): void {
    if (this.pendingBytes > 0 && !this.skipping) this.lines(Buffer.concat(this.pending, this.pendingBytes).toString('utf8'), out);
    this.discard();
  }

  /** Drop a partial line (the process died mid-write; resuming after the cursor re-reads it). */
  discard(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.skipping = false;
  }

  private hold(buf: Buffer): void {
    if (this.skipping) return;
    this.pending.push(buf);
    this.pendingBytes += buf.length;
    if (this.pendingBytes > (this.options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES)) {
      this.stats.oversized++;
      this.pending = [];
      this.pendingBytes = 0;
      this.skipping = true;
    }
  }

  private lines(text: string, out: LogEntry[]): void {
    let start = 0;
    const length = text.length;
    while (start < length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = length;
      if (end > start) {
        this.stats.lines++;
        const entry = parseJournalLine(end === length && start === 0 ? text : text.slice(start, end), this.options, this.intern);
        if (entry) {
          this.stats.entries++;
          out.push(entry);
        } else {
          this.stats.malformed++;
        }
      }
      start = end + 1;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Errors

export function journalError(host: Host, argv: readonly string[], exitCode: number | undefined, stderr: string): CommandError {
  const detail = trimStderr(stderr);
  const first = detail.split('\n')[0] ?? '';
  if (exitCode === 127) {
    return new CommandError({ kind: 'missing-tool', host: host.name, argv, exitCode, stderr: detail, message: `\`journalctl\` is not installed on host ${host.name} (or not on its PATH)`, hint: 'install it there, e.g. `apt-get install -y systemd`' });
  }
  if (host.transport === 'ssh' && exitCode === 255) {
    return new CommandError({ kind: 'unreachable', host: host.name, argv, exitCode, stderr: detail, message: `cannot reach host ${host.name} over ssh: ${first || 'connection failed'}`, hint: `check that host ${host.name} is up and reachable` });
  }
  if (host.transport === 'lab' && /^nsenter: /m.test(detail)) {
    return new CommandError({ kind: 'lab', host: host.name, argv, exitCode, stderr: detail, message: `could not enter the lab: ${first}`, hint: 'check `opsdeck lab status`' });
  }
  return new CommandError({
    host: host.name,
    argv,
    exitCode,
    stderr: detail,
    message: `\`journalctl\` failed on host ${host.name}${exitCode === undefined ? ' (killed or could not start)' : ` (exit code ${exitCode})`}${first ? `: ${first}` : ''}`,
  });
}

// ---------------------------------------------------------------------------------------------
// Running journalctl

// Writing to a pipe, journalctl's stdio buffer is 4 KB: at tens of thousands of lines a second
// that is a write and a wake-up per ten lines, on both sides. `stdbuf` (coreutils) makes it
// 64 KB (measured: about a third less CPU here, journalctl faster too). A follow is never held
// back: journalctl flushes whenever it waits for new entries.
const STDBUF = ['stdbuf', '--output=64K'] as const;
const bareHosts = new WeakSet<Host>();
let localStdbuf: boolean | undefined;

function hasStdbuf(host: Host): boolean {
  if (bareHosts.has(host)) return false;
  // The lab shares this machine's files; a remote host says so when it lacks it (see below).
  if (host.transport === 'ssh') return true;
  localStdbuf ??= [...(process.env.PATH ?? '').split(':'), '/usr/bin', '/bin'].some((dir) => dir !== '' && existsSync(path.join(dir, 'stdbuf')));
  return localStdbuf;
}

/** Start journalctl (argv from journalArgv) on a host. */
export function streamJournal(host: Host, argv: readonly string[], signal?: AbortSignal): StreamHandle {
  return host.stream(hasStdbuf(host) ? [...STDBUF, ...argv] : argv, signal ? { signal } : {});
}

/** A run failed: was it only that the host has no stdbuf? Then remember that; the caller runs again. */
export function stdbufWasMissing(host: Host, exitCode: number | undefined, stderr: string): boolean {
  if (bareHosts.has(host) || exitCode !== 127 || !/stdbuf/.test(stderr)) return false;
  bareHosts.add(host);
  return true;
}

// ---------------------------------------------------------------------------------------------
// One-shot reading

export interface ReadOptions extends ParseOptions {
  units: readonly string[];
  /** The newest N entries (that pass `filter`); undefined: all of them. */
  lines?: number;
  since?: string;
  until?: string;
  priority?: PriorityRange;
  /** Client-side filter (e.g. regular expressions): with `lines`, the newest N that match. */
  filter?: (entry: LogEntry) => boolean;
  signal?: AbortSignal;
}

export interface ReadSummary {
  /** Entries journalctl gave. */
  scanned: number;
  /** Entries delivered (passed the filter). */
  delivered: number;
  /** Cursor of the newest entry seen: a follower started after it misses nothing. */
  newestCursor: string | null;
  suppressed: Array<{ unit: string; dropped: number; timeUs: number }>;
  oversized: number;
}

/**
 * Read entries once and hand them to `sink` oldest first, in batches. Without a filter `-n N`
 * does the work on the host; with one, the journal is read newest first until N entries match,
 * then journalctl is stopped. The sink may return a promise: reading waits for it (backpressure).
 */
export async function readJournal(host: Host, options: ReadOptions, sink: (entries: LogEntry[]) => void | Promise<void>): Promise<ReadSummary> {
  const { lines, filter } = options;
  const reverse = lines !== undefined && filter !== undefined;
  const summary: ReadSummary = { scanned: 0, delivered: 0, newestCursor: null, suppressed: [], oversized: 0 };
  if (lines === 0) return summary;
  const argv = journalArgv({
    units: options.units,
    ...(reverse ? { reverse: true } : lines !== undefined ? { lines } : {}),
    ...(options.since !== undefined ? { since: options.since } : {}),
    ...(options.until !== undefined ? { until: options.until } : {}),
    ...(options.priority ? { priority: options.priority } : {}),
  });
  const handle = streamJournal(host, argv, options.signal);
  const parser = new JournalStreamParser(options);
  const collected: LogEntry[] = [];
  let stoppedEarly = false;
  let finished = false;
  const take = (entries: LogEntry[]): LogEntry[] => {
    summary.scanned += entries.length;
    for (const e of entries) if (e.suppressed > 0) summary.suppressed.push({ unit: e.unit, dropped: e.suppressed, timeUs: e.timeUs });
    if (entries.length > 0) summary.newestCursor = reverse ? (summary.newestCursor ?? entries[0]!.cursor) : entries[entries.length - 1]!.cursor;
    return filter ? entries.filter(filter) : entries;
  };
  try {
    for await (const chunk of handle.stdout as AsyncIterable<Buffer>) {
      const batch: LogEntry[] = [];
      parser.push(chunk, batch);
      const passed = take(batch);
      if (reverse) {
        for (const e of passed) {
          collected.push(e);
          if (collected.length >= lines!) break;
        }
        if (collected.length >= lines!) {
          stoppedEarly = true;
          break;
        }
      } else if (passed.length > 0) {
        summary.delivered += passed.length;
        await sink(passed);
      }
    }
    if (!stoppedEarly) {
      const batch: LogEntry[] = [];
      parser.end(batch);
      const passed = take(batch);
      if (reverse) collected.push(...passed.slice(0, lines! - collected.length));
      else if (passed.length > 0) {
        summary.delivered += passed.length;
        await sink(passed);
      }
    }
    finished = true;
  } finally {
    // Done early, aborted, or the sink threw: journalctl must not outlive the read.
    if (!finished || stoppedEarly || options.signal?.aborted) handle.stop();
  }
  const result = await handle.done;
  summary.oversized = parser.stats.oversized;
  if (!stoppedEarly && !result.canceled && result.exitCode !== 0) {
    if (summary.scanned === 0 && stdbufWasMissing(host, result.exitCode, result.stderr)) return readJournal(host, options, sink);
    throw journalError(host, argv, result.exitCode, result.stderr);
  }
  if (reverse && collected.length > 0) {
    collected.reverse();
    summary.delivered = collected.length;
    await sink(collected);
  }
  return summary;
}

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
      this.flushTimer ??= setTimeout(() => this.flush(), this.options.flushMs ?? 100);
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
