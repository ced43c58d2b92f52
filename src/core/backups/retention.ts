// Which archives a prune keeps, restic-style: the newest N; the newest of each of the last N
// days that have one; the newest of each of the last N ISO weeks; and, whatever the numbers,
// the newest archive that passed verify. Only archives named by the policy (PREFIX + time) are
// ever candidates: anything else in the directory is left alone. Pure: the plan shows why
// each archive stays.
import type { BackupPolicy } from '../../config/schema.js';
import type { CatalogEntry } from './catalog.js';

export interface Kept {
  entry: CatalogEntry;
  reasons: string[];
}

export interface RetentionDecision {
  keep: Kept[];
  remove: CatalogEntry[];
  /** Not named by the policy, or a safety archive: never pruned. */
  untouched: CatalogEntry[];
}

const day = (iso: string) => iso.slice(0, 10);

/** ISO week, e.g. "2026-W48". */
export function isoWeek(iso: string): string {
  const date = new Date(`${day(iso)}T00:00:00Z`);
  const weekday = (date.getUTCDay() + 6) % 7;
  date.setUTCDate(date.getUTCDate() - weekday + 3);
  const year = date.getUTCFullYear();
  const firstThursday = new Date(Date.UTC(year, 0, 4));
  const week = 1 + Math.round(((date.getTime() - firstThursday.getTime()) / 86_400_000 - 3 + ((firstThursday.getUTCDay() + 6) % 7)) / 7);
  return `${year}-W${String(week).padStart(2, '0')}`;
}

export function decideRetention(entries: readonly CatalogEntry[], policy: Pick<BackupPolicy, 'keepLast' | 'keepDaily' | 'keepWeekly'>): RetentionDecision {
  const managed = [...entries.filter((e) => e.managed)].sort((a, b) => b.madeAt.localeCompare(a.madeAt));
  const reasons = new Map<CatalogEntry, string[]>();
  const because = (e: CatalogEntry, why: string) => reasons.set(e, [...(reasons.get(e) ?? []), why]);
  managed.slice(0, policy.keepLast).forEach((e, i) => because(e, `one of the newest ${policy.keepLast} (#${i + 1})`));
  const newestPer = (bucket: (e: CatalogEntry) => string, count: number, label: string) => {
    const seen = new Set<string>();
    for (const e of managed) {
      const b = bucket(e);
      if (seen.has(b)) continue;
      if (seen.size >= count) break;
      seen.add(b);
      because(e, `newest of ${label} ${b}`);
    }
  };
  if (policy.keepDaily > 0) newestPer((e) => day(e.madeAt), policy.keepDaily, 'day');
  if (policy.keepWeekly > 0) newestPer((e) => isoWeek(e.madeAt), policy.keepWeekly, 'week');
  const newestVerified = managed.find((e) => e.verified?.ok);
  if (newestVerified) because(newestVerified, 'the newest verified archive');
  return {
    keep: managed.filter((e) => reasons.has(e)).map((entry) => ({ entry, reasons: reasons.get(entry)! })),
    remove: managed.filter((e) => !reasons.has(e)),
    untouched: entries.filter((e) => !e.managed),
  };
}

/** Why pruning now would be wrong: the newest archive looks wrong (an alarm, a failed verify). Null when it is fine. */
export function pruneRefusal(entries: readonly CatalogEntry[]): string | null {
  const newest = entries[0];
  if (!newest) return null;
  if (newest.alarm) return `the newest archive ${newest.name} is ${newest.alarm}`;
  if (newest.verified && !newest.verified.ok) return `the newest archive ${newest.name} failed verify`;
  return null;
}
