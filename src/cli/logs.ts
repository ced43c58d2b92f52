// `opsdeck logs ENV|UNIT [-f] [-n N] [--since T] [--until T] [--priority P] [--grep RE]
// [--exclude RE] [--counts] [--json]`: the journal of an environment's units (unit +
// relatedUnits, merged in time order) or of one unit. Plain lines for pipes, JSON lines with
// --json; notes about reconnects and suppressed messages go to stderr so stdout stays data.
import { once } from 'node:events';
import { UsageError } from '../core/text/errors.js';
import type { Host } from '../core/host/host.js';
import { readJournal } from '../core/journal/read.js';
import { environmentUnits } from '../core/systemd/units.js';
import type { LogEntry } from '../core/journal/parse.js';
import { JournalFollower, type FollowEvent } from '../core/journal/follow.js';
import { countPriorities, type PriorityCounts } from '../core/journal/counts.js';
import { entryFilter, isError, isWarning, parsePriority, parseTime, priorityMark, priorityName } from '../core/journal/filter.js';
import { sparkline } from '../core/text/humanize.js';
import { compilePattern } from '../core/text/pattern.js';
import { SLICE_MS, yieldToEventLoop } from '../core/journal/sliced-work.js';
import { resolveUnitTarget } from '../core/ops/target.js';
import { loadContext, type CliContext, type GlobalOptions } from './context.js';
import { describeRange } from '../config/schema.js';
import { MARK, paint } from './format.js';

export interface LogsOptions extends GlobalOptions {
  follow?: boolean;
  lines?: string;
  since?: string;
  until?: string;
  priority?: string;
  grep?: string[];
  exclude?: string[];
  counts?: boolean;
  json?: boolean;
}

interface Target {
  label: string;
  host: Host;
  units: string[];
}

export async function logsCommand(target: string, options: LogsOptions): Promise<number> {
  const ctx = loadContext(options);
  try {
    // Every argument is checked before anything runs: a usage error exits 2 having done nothing.
    const where = await resolveTarget(ctx, target);
    const now = new Date();
    const since = options.since !== undefined ? parseTime(options.since, now, '--since') : undefined;
    const until = options.until !== undefined ? parseTime(options.until, now, '--until') : undefined;
    if (options.follow && until) throw new UsageError('--until cannot be used with --follow', 'drop one of them');
    if (since && until && until.ms <= since.ms) throw new UsageError('--until is not after --since');
    const priority = options.priority !== undefined ? parsePriority(options.priority) : undefined;
    const include = (options.grep ?? []).map((p) => compilePattern(p, '--grep'));
    const exclude = (options.exclude ?? []).map((p) => compilePattern(p, '--exclude'));
    const filter = entryFilter({ include, exclude });
    const lines = parseLines(options.lines, options.follow === true && since === undefined);

    if (options.counts) {
      const counts = await countPriorities(where.host, where.units, {
        ...(options.since !== undefined ? { since: options.since } : {}),
        ...(options.until !== undefined ? { until: options.until } : {}),
        ...(priority ? { maxPriority: priority.max } : {}),
        now,
      });
      write(options.json ? JSON.stringify({ target: where.label, host: where.host.name, units: where.units, ...counts }) + '\n' : renderCounts(where, counts) + '\n');
      return 0;
    }

    const out = new Output(options.json === true);
    const abort = new AbortController();
    out.onClose(() => abort.abort());
    const summary = await readJournal(
      where.host,
      {
        units: where.units,
        ...(lines !== undefined ? { lines } : {}),
        ...(since ? { since: since.journal } : {}),
        ...(until ? { until: until.journal } : {}),
        ...(priority ? { priority } : {}),
        ...(filter ? { filter } : {}),
        signal: abort.signal,
      },
      (entries) => out.entries(entries),
    );
    for (const s of summary.suppressed) note(paint.warn(`${MARK.warning} journald suppressed ${s.dropped} messages of ${s.unit} (rate limit) at ${isoLocal(s.timeUs / 1000)}`));
    if (summary.oversized > 0) note(paint.warn(`${MARK.warning} ${summary.oversized} journal entries were too large to read and were skipped`));
    if (out.closed) return 0;
    if (!options.follow) {
      if (summary.delivered === 0 && !options.json) note(paint.dim(`-- no entries for ${where.label} on host ${where.host.name}`));
      return 0;
    }
    return await follow(where, out, {
      ...(priority ? { priority } : {}),
      // Continue right after the newest entry read. With none read: `-n 0` starts from now;
      // otherwise there was nothing (in the window), so all there is by now is new.
      ...(summary.newestCursor !== null ? { afterCursor: summary.newestCursor } : lines === 0 && !since ? { lines: 0 } : { lines: 'all' as const, ...(since ? { since: since.journal } : {}) }),
    }, filter);
  } finally {
    await ctx.hosts.closeAll();
  }
}

async function follow(
  where: Target,
  out: Output,
  start: { priority?: { min: number; max: number }; afterCursor?: string; since?: string; lines?: number | 'all' },
  filter: ((e: LogEntry) => boolean) | undefined,
): Promise<number> {
  const follower = new JournalFollower(where.host, { units: where.units, ...start });
  // Batches are filtered and written in slices, one after the other, with journalctl held back
  // meanwhile: a flood of long lines under --grep is long work, and signals must get through.
  let shown = Promise.resolve();
  let queued = 0;
  follower.onBatch((entries) => {
    queued++;
    follower.pause();
    shown = shown
      .then(() => showInSlices(entries, filter, out))
      .finally(() => {
        if (--queued === 0) follower.resume();
      });
  });
  let failure: unknown;
  follower.onEvent((event) => {
    const text = describeEvent(event);
    if (text) note(text);
    if (event.type === 'ended' && event.error) failure = event.error;
  });
  out.onClose(() => void follower.stop());
  follower.start();
  await follower.ended;
  await shown;
  if (failure) throw failure;
  return 0;
}

/** Filter and write entries, a slice at a time, waiting for stdout when it is full. */
async function showInSlices(entries: readonly LogEntry[], filter: ((e: LogEntry) => boolean) | undefined, out: Output): Promise<void> {
  let shown: LogEntry[] = [];
  let deadline = performance.now() + SLICE_MS;
  for (const entry of entries) {
    if (out.closed) return;
    if (!filter || filter(entry)) shown.push(entry);
    if (performance.now() < deadline) continue;
    if (shown.length > 0) await out.entries(shown);
    shown = [];
    await yieldToEventLoop();
    deadline = performance.now() + SLICE_MS;
  }
  if (shown.length > 0) await out.entries(shown);
}

function describeEvent(event: FollowEvent): string | undefined {
  switch (event.type) {
    case 'reconnecting':
      return paint.warn(`-- ${event.reason}; reconnecting in ${event.delayMs} ms (try ${event.attempt})`);
    case 'resumed':
      return paint.dim(`-- resumed after ${event.afterMs} ms, right after the last line shown: nothing lost, nothing repeated`);
    case 'suppressed':
      return paint.warn(`${MARK.warning} journald suppressed ${event.dropped} messages of ${event.unit} (rate limit)`);
    case 'oversized':
      return paint.warn(`${MARK.warning} a journal entry was too large to read and was skipped (${event.count} so far)`);
    default:
      return undefined;
  }
}

async function resolveTarget(ctx: CliContext, target: string): Promise<Target> {
  const env = ctx.config.environments[target];
  if (env) {
    const units = environmentUnits(env); // normalized when the config was loaded
    if (units.length === 0) throw new UsageError(`environment ${target} has no units`, `add unit: NAME (or relatedUnits:) to it in ${ctx.file ?? 'opsdeck.yaml'}`);
    return { label: target, host: ctx.hosts.get(env.host), units: [...new Set(units)] };
  }
  // The same rule as the unit verb: a unit of an environment is read on its host, and a
  // mistyped environment is an error with a suggestion; a unit gone from systemd (a transient
  // one that ran an hour ago) still has a journal to read.
  const where = await resolveUnitTarget(ctx.config, ctx.hosts, target, ctx.file, { mustExist: false });
  return { label: where.unit, host: ctx.hosts.get(where.host), units: [where.unit] };
}

/** More would only hold that many entries in memory (the newest N that match are collected). */
const MAX_LINES = 1_000_000;

function parseLines(value: string | undefined, follow: boolean): number | undefined {
  if (value === undefined) return follow ? 10 : undefined;
  if (value === 'all') return undefined;
  // Digits only (no 1e3, 0x10, -1 or 2.5), and compared as text: Number() of a long one is
  // rounded or printed as 1e+21.
  const digits = /^\d+$/.test(value) ? value.replace(/^0+(?=\d)/, '') : null;
  if (digits === null || digits.length > String(MAX_LINES).length || Number(digits) > MAX_LINES) {
    throw new UsageError(`invalid --lines ${JSON.stringify(value)}`, `use ${describeRange(0, MAX_LINES.toLocaleString('en-US'), true)}, or "all"`);
  }
  return Number(digits);
}

/** Writes entries to stdout as plain lines or JSON lines; notices a closed pipe (`| head`). */
class Output {
  closed = false;
  private closeListeners: Array<() => void> = [];
  private readonly closedPromise: Promise<void>;

  constructor(private readonly json: boolean) {
    this.closedPromise = new Promise((resolve) => this.closeListeners.push(resolve));
    // EPIPE (the reader went away) or any other write error: stop producing.
    process.stdout.on('error', () => {
      if (this.closed) return;
      this.closed = true;
      for (const listener of this.closeListeners) listener();
    });
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  /** Write now; false when stdout's buffer is full (wait for 'drain'). */
  entriesNow(entries: readonly LogEntry[]): boolean {
    if (this.closed) return true;
    let text = '';
    for (const e of entries) text += (this.json ? jsonLine(e) : plainLine(e)) + '\n';
    return process.stdout.write(text);
  }

  /** Write and wait until stdout can take more. */
  async entries(entries: readonly LogEntry[]): Promise<void> {
    if (!this.entriesNow(entries) && !this.closed) await Promise.race([once(process.stdout, 'drain'), this.closedPromise]);
  }
}

// A flood prints hundreds of thousands of lines: the severity column and the time up to the
// second are made once, not per line.
const severities = new Map<number | null, string>();

function severity(p: number | null): string {
  let text = severities.get(p);
  if (text === undefined) {
    const plain = `${priorityMark(p)} ${priorityName(p).padEnd(7)}`;
    text = isError(p) ? paint.bad(plain) : isWarning(p) ? paint.warn(plain) : p === 7 ? paint.dim(plain) : plain;
    severities.set(p, text);
  }
  return text;
}

export function plainLine(e: LogEntry): string {
  const flags = (e.binary ? ' [binary]' : '') + (e.truncated ? ` [cut from ${e.truncated} chars]` : '');
  // Like journalctl's "systemd[1]:": say when the line is systemd's or journald's, not the unit's.
  const by = e.origin === 'unit' ? '' : `${e.origin}: `;
  return `${isoLocal(e.timeUs / 1000)} ${e.unit} ${severity(e.priority)} ${by}${e.message}${flags ? paint.dim(flags) : ''}`;
}

export function jsonLine(e: LogEntry): string {
  return JSON.stringify({
    time: new Date(e.timeUs / 1000).toISOString(),
    timeUs: e.timeUs,
    unit: e.unit,
    priority: e.priority,
    priorityName: e.priority === null ? null : priorityName(e.priority),
    message: e.message,
    cursor: e.cursor,
    ...(e.binary ? { binary: true } : {}),
    ...(e.truncated ? { truncated: e.truncated } : {}),
    ...(e.suppressed ? { suppressed: e.suppressed } : {}),
    ...(e.origin === 'unit' ? {} : { origin: e.origin }),
  });
}

let cachedSecond = Number.NaN;
let cachedHead = '';
let cachedOffset = '';

/** ISO 8601 in local time with its offset, to the millisecond. */
export function isoLocal(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    const d = new Date(second * 1000);
    const pad = (n: number) => String(n).padStart(2, '0');
    const offset = -d.getTimezoneOffset();
    cachedHead = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    cachedOffset = `${offset >= 0 ? '+' : '-'}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
    cachedSecond = second;
  }
  const milli = Math.floor(ms - second * 1000);
  return `${cachedHead}.${String(milli).padStart(3, '0')}${cachedOffset}`;
}

function renderCounts(where: Target, c: PriorityCounts): string {
  const units = where.units.join(', ');
  const head = `${where.label}${where.label === units ? '' : ` (${units})`} on host ${where.host.name}, ${isoLocal(Date.parse(c.since))} .. ${isoLocal(Date.parse(c.until))}`;
  const errors = c.errors > 0 ? paint.bad(`${MARK.critical} ${c.errors} errors`) : `${c.errors} errors`;
  const warnings = c.warnings > 0 ? paint.warn(`${MARK.warning} ${c.warnings} warnings`) : `${c.warnings} warnings`;
  const detail = Object.entries(c.byPriority).filter(([, n]) => n > 0).map(([name, n]) => `${name} ${n}`).join(' · ');
  const minutes = c.bucketMs / 60_000;
  const per = minutes % 1440 === 0 ? `${minutes / 1440} d` : minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`;
  return [
    head,
    `  ${errors}   ${warnings}${detail ? paint.dim(`   (${detail})`) : ''}`,
    `  errors per ${per}:   |${sparkline(c.buckets.map((b) => b.errors), { blankZero: true })}|`,
    `  warnings per ${per}: |${sparkline(c.buckets.map((b) => b.warnings), { blankZero: true })}|`,
  ].join('\n');
}

function write(text: string): void {
  process.stdout.write(text);
}

function note(text: string): void {
  process.stderr.write(text + '\n');
}
