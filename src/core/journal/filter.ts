// What to show of the journal: priorities (names and numbers as journalctl takes them, with a
// mark and a name for display), include/exclude patterns (compiled by pattern.ts), time windows
// ("1 hour ago", "today", ISO times) resolved to values journalctl accepts, and the
// errors/warnings counts since a time (one journalctl call), bucketed for a rate sparkline.
import { UsageError } from '../text/errors.js';
import type { LogEntry } from './parse.js';
import type { Pattern } from '../text/pattern.js';

export const PRIORITY_NAMES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;
export type PriorityName = (typeof PRIORITY_NAMES)[number];

/** Marks that say the severity without colour (NO_COLOR, pipes). */
const PRIORITY_MARKS = ['✗', '✗', '✗', '✗', '!', '•', ' ', '·'] as const;

const ALIASES: Record<string, number> = { emergency: 0, panic: 0, critical: 2, error: 3, warn: 4 };

/** An inclusive range of priorities, as journalctl's `-p FROM..TO` (0 = emerg ... 7 = debug). */
export interface PriorityRange {
  min: number;
  max: number;
}

function priorityValue(text: string, whole: string): number {
  const t = text.trim().toLowerCase();
  if (/^[0-7]$/.test(t)) return Number(t);
  const index = (PRIORITY_NAMES as readonly string[]).indexOf(t);
  if (index >= 0) return index;
  if (ALIASES[t] !== undefined) return ALIASES[t];
  throw new UsageError(
    `invalid priority ${JSON.stringify(whole)}`,
    `use a name (${PRIORITY_NAMES.join(', ')}), a number 0-7, or a range such as err..warning; "warning" means warning and worse`,
  );
}

/** "warning" or "4": warning and worse (0..4); "err..warning": exactly that range. */
export function parsePriority(text: string): PriorityRange {
  const parts = text.split('..');
  if (parts.length === 1) return { min: 0, max: priorityValue(parts[0]!, text) };
  if (parts.length !== 2) priorityValue('', text);
  const a = priorityValue(parts[0]!, text);
  const b = priorityValue(parts[1]!, text);
  return { min: Math.min(a, b), max: Math.max(a, b) };
}

export function priorityName(priority: number | null): string {
  return priority === null ? '-' : (PRIORITY_NAMES[priority] ?? String(priority));
}

export function priorityMark(priority: number | null): string {
  return priority === null ? '?' : (PRIORITY_MARKS[priority] ?? '?');
}

export function isError(priority: number | null): boolean {
  return priority !== null && priority <= 3;
}

export function isWarning(priority: number | null): boolean {
  return priority === 4;
}

export interface EntryFilterSpec {
  priority?: PriorityRange | undefined;
  /** Keep entries whose message matches any of these (compilePattern: linear time, never a backtracking RegExp). */
  include?: readonly Pick<Pattern, 'test'>[] | undefined;
  /** Then drop entries whose message matches any of these. */
  exclude?: readonly Pick<Pattern, 'test'>[] | undefined;
}

/** A predicate for entries, or undefined when the spec filters nothing. */
export function entryFilter(spec: EntryFilterSpec): ((entry: LogEntry) => boolean) | undefined {
  const { priority } = spec;
  const include = spec.include ?? [];
  const exclude = spec.exclude ?? [];
  if (!priority && include.length === 0 && exclude.length === 0) return undefined;
  return (entry) => {
    if (priority && (entry.priority === null || entry.priority < priority.min || entry.priority > priority.max)) return false;
    if (include.length > 0 && !include.some((re) => re.test(entry.message))) return false;
    return !exclude.some((re) => re.test(entry.message));
  };
}

// ---------------------------------------------------------------------------------------------
// Time windows

export interface TimePoint {
  /** Milliseconds since the epoch. */
  ms: number;
  /** The same instant as journalctl takes it ("@SECONDS.mmm"): no time zone or locale guessing on the host. */
  journal: string;
}

const UNIT_MS: Record<string, number> = {};
for (const [names, ms] of [
  [['ms', 'msec', 'msecs', 'millisecond', 'milliseconds'], 1],
  [['s', 'sec', 'secs', 'second', 'seconds'], 1000],
  [['m', 'min', 'mins', 'minute', 'minutes'], 60_000],
  [['h', 'hr', 'hrs', 'hour', 'hours'], 3_600_000],
  [['d', 'day', 'days'], 86_400_000],
  [['w', 'week', 'weeks'], 7 * 86_400_000],
] as const) {
  for (const name of names) UNIT_MS[name] = ms;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?\s*(Z|UTC|[+-]\d{2}:?\d{2})?$/i;
const CLOCK = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/;

/** An instant as opsdeck and journalctl both take it. */
export function timePoint(ms: number): TimePoint {
  return { ms, journal: `@${(ms / 1000).toFixed(3)}` };
}

function midnight(now: Date, dayOffset: number): number {
  return new Date(now.getFullYear(), now.getMonth(), now.getDate() + dayOffset).getTime();
}

/** "1h 30min" -> ms, or undefined when it is not a duration. */
function parseDuration(text: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)\s*([a-z]+)/gy;
  let total = 0;
  let any = false;
  let at = 0;
  const t = text.trim();
  while (at < t.length) {
    re.lastIndex = at;
    const m = re.exec(t);
    if (!m) return undefined;
    const unit = UNIT_MS[m[2]!];
    if (unit === undefined) return undefined;
    total += Number(m[1]) * unit;
    any = true;
    at = re.lastIndex;
    while (t[at] === ' ') at++;
  }
  return any ? total : undefined;
}

/** The times opsdeck takes: from the epoch (journalctl refuses earlier ones) to the end of year 9999. */
const EARLIEST_MS = 0;
const LATEST_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Parse a --since/--until value: "now", "today", "yesterday", "tomorrow", "1 hour ago",
 * "30 min ago", "-1h", "+10min", "2h" (ago), "09:30" (today), "2026-11-24", "2026-11-24 09:30",
 * ISO 8601 with or without a zone (none: local time), "@EPOCH_SECONDS". Days are in the local
 * time zone of opsdeck, not of the host, so every host answers for the same window. Whatever is
 * returned journalctl accepts: dates that do not exist (2026-02-30) and times before 1970 or
 * after 9999 are refused here, before anything runs.
 */
export function parseTime(text: string, now: Date = new Date(), option = '--since'): TimePoint {
  const t = text.trim().toLowerCase();
  const fail = (why = '') =>
    new UsageError(
      `invalid time ${JSON.stringify(text)} for ${option}${why ? `: ${why}` : ''}`,
      'use e.g. "1 hour ago", "30 min ago", "today", "yesterday", "2026-11-24 09:00" or an ISO time such as 2026-11-24T09:00:00Z',
    );
  const checked = (ms: number): TimePoint => {
    if (!Number.isFinite(ms) || ms < EARLIEST_MS || ms > LATEST_MS) throw fail('times must fall between 1970-01-01 and 9999-12-31');
    return timePoint(ms);
  };
  if (t === 'now') return checked(now.getTime());
  if (t === 'today') return checked(midnight(now, 0));
  if (t === 'yesterday') return checked(midnight(now, -1));
  if (t === 'tomorrow') return checked(midnight(now, 1));
  const epoch = /^@(\d+(?:\.\d+)?)$/.exec(t);
  if (epoch) return checked(Number(epoch[1]) * 1000);

  const ago = /^(.*\S)\s+ago$/.exec(t);
  const signed = /^([+-])\s*(.+)$/.exec(t);
  const relative = ago ? ago[1]! : signed ? signed[2]! : t;
  const duration = parseDuration(relative);
  if (duration !== undefined) return checked(now.getTime() + (signed?.[1] === '+' && !ago ? duration : -duration));
  if (ago || signed) throw fail();

  const clock = CLOCK.exec(t);
  if (clock) {
    const [h, m, s] = [Number(clock[1]), Number(clock[2]), Number(clock[3] ?? 0)];
    if (h > 23 || m > 59 || s > 59) throw fail();
    return checked(new Date(now.getFullYear(), now.getMonth(), now.getDate(), h, m, s).getTime());
  }
  const iso = ISO.exec(text.trim());
  if (!iso) throw fail();
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(iso[i] ?? 0)) as [number, number, number, number, number, number];
  const fraction = iso[7] ? Number(`0.${iso[7]}`) * 1000 : 0;
  // (Date would quietly turn 2026-02-30 into March 2, and years below 100 into 19xx.)
  if (year < 1970) throw fail('times must fall between 1970-01-01 and 9999-12-31');
  if (month < 1 || month > 12) throw fail(`there is no month ${month}`);
  if (day < 1 || day > daysInMonth(year, month)) throw fail(`${year}-${String(month).padStart(2, '0')} has ${daysInMonth(year, month)} days`);
  if (hour > 23 || minute > 59 || second > 60) throw fail();
  const zone = iso[8]?.toUpperCase();
  let ms: number;
  if (zone === undefined) {
    ms = new Date(year, month - 1, day, hour, minute, second).getTime() + fraction;
  } else {
    ms = Date.UTC(year, month - 1, day, hour, minute, second) + fraction;
    const offset = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
    if (offset) {
      if (Number(offset[2]) > 23 || Number(offset[3]) > 59) throw fail(`no time zone is ${zone} from UTC`);
      ms -= (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3])) * 60_000;
    }
  }
  return checked(ms);
}
