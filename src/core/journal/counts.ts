// "How many errors today": errors and warnings of some units since a time, counted from one
// journalctl call read as a stream, bucketed for a rate sparkline.
import type { Host } from '../host/host.js';
import { UsageError } from '../text/errors.js';
import { PRIORITY_NAMES, isError, isWarning, parseTime, timePoint, type PriorityName } from './filter.js';
import type { LogEntry } from './parse.js';
import { readJournal } from './read.js';


export interface PriorityCounts {
  since: string;
  until: string;
  /** Entries at the counted priorities (by default warning and worse). */
  total: number;
  /** emerg..err */
  errors: number;
  warnings: number;
  byPriority: Record<PriorityName, number>;
  bucketMs: number;
  /** Oldest first; each bucket starts at `start` and lasts bucketMs (the last may be partial). */
  buckets: Array<{ start: string; errors: number; warnings: number }>;
}

export interface CountOptions {
  /** Default "today". */
  since?: string;
  until?: string;
  /** Count priorities up to this one (default 4, warning). */
  maxPriority?: number;
  /** At most this many intervals for the sparkline (default 24), each a round length (5 min, 1 h, ...). */
  buckets?: number;
  now?: Date;
  signal?: AbortSignal;
}

const ROUND_MINUTES = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440];

/** The shortest round interval (1, 2, 5, 10, 15, 30 min, 1, 2, 3, 6, 12 h, whole days) of at least `ms`. */
function roundInterval(ms: number): number {
  const minutes = ms / 60_000;
  const round = ROUND_MINUTES.find((m) => m >= minutes) ?? Math.ceil(minutes / 1440) * 1440;
  return round * 60_000;
}

/**
 * Errors and warnings of some units since a time, with per-interval counts, from one
 * `journalctl -p warning -o json --output-fields=PRIORITY` read as a stream (never buffered whole).
 */
export async function countPriorities(host: Host, units: readonly string[], options: CountOptions = {}): Promise<PriorityCounts> {
  const now = options.now ?? new Date();
  const since = parseTime(options.since ?? 'today', now, '--since');
  const until = options.until !== undefined ? parseTime(options.until, now, '--until') : timePoint(now.getTime());
  if (until.ms <= since.ms) throw new UsageError(`--until (${new Date(until.ms).toISOString()}) is not after --since (${new Date(since.ms).toISOString()})`);
  const maxPriority = options.maxPriority ?? 4;
  const wanted = Math.max(1, Math.min(1000, Math.floor(options.buckets ?? 24)));
  const bucketMs = roundInterval((until.ms - since.ms) / wanted);
  const bucketCount = Math.max(1, Math.ceil((until.ms - since.ms) / bucketMs));
  const buckets = Array.from({ length: bucketCount }, (_, i) => ({ start: new Date(since.ms + i * bucketMs).toISOString(), errors: 0, warnings: 0 }));
  const byPriority = Object.fromEntries(PRIORITY_NAMES.map((n) => [n, 0])) as Record<PriorityName, number>;
  let total = 0;
  let errors = 0;
  let warnings = 0;
  const count = (entries: LogEntry[]) => {
    for (const e of entries) {
      if (e.priority === null || e.priority > maxPriority) continue;
      total++;
      byPriority[PRIORITY_NAMES[e.priority]!]++;
      const bucket = buckets[Math.min(bucketCount - 1, Math.max(0, Math.floor((e.timeUs / 1000 - since.ms) / bucketMs)))]!;
      if (isError(e.priority)) {
        errors++;
        bucket.errors++;
      } else if (isWarning(e.priority)) {
        warnings++;
        bucket.warnings++;
      }
    }
  };
  await readJournal(
    host,
    {
      units,
      since: since.journal,
      ...(options.until !== undefined ? { until: until.journal } : {}),
      priority: { min: 0, max: maxPriority },
      fields: ['PRIORITY'],
      ...(options.signal ? { signal: options.signal } : {}),
    },
    count,
  );
  return { since: new Date(since.ms).toISOString(), until: new Date(until.ms).toISOString(), total, errors, warnings, byPriority, bucketMs, buckets };
}
