// The journal through `journalctl -o json`: the argv (units validated, passed as --unit=NAME),
// running it on a host, its errors, and a one-shot reader. Parsing is in journal-parse.ts,
// following in journal-follow.ts.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CommandError, UsageError, trimStderr } from '../text/errors.js';
import { firstLine, type Host, type StreamHandle } from '../host/host.js';
import { JournalStreamParser, type LogEntry, type ParseOptions } from './parse.js';
import type { PriorityRange } from './filter.js';
import { normalizeUnitName } from '../systemd/units.js';

export type { LogEntry } from './parse.js';

// Every field of LogEntry is always set so all entries share one object shape (fast in V8).
// __CURSOR, __REALTIME_TIMESTAMP, __MONOTONIC_TIMESTAMP and _BOOT_ID always come with -o json.
// Each field asked for costs journalctl time on every entry (measured: 7 fields 6.2 s, 3 fields
// 5.5 s for 400,000 entries), so only these: UNIT names the unit in systemd's own messages
// ("Started ...", "Main process exited"); journald's rate-limit notice is recognised by its
// sender and text rather than by MESSAGE_ID/OBJECT_SYSTEMD_UNIT/N_DROPPED.
export const JOURNAL_FIELDS = ['MESSAGE', 'PRIORITY', '_SYSTEMD_UNIT', 'UNIT'] as const;

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
// Errors

export function journalError(host: Host, argv: readonly string[], exitCode: number | undefined, stderr: string): CommandError {
  const known = host.failure(argv, exitCode, stderr);
  if (known) return known;
  const detail = trimStderr(stderr);
  const first = firstLine(detail);
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
  /** Journal fields to ask for (default: what the log views show); fewer is faster. */
  fields?: readonly string[];
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
    ...(options.fields ? { fields: options.fields } : {}),
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
