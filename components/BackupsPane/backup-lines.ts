// The backups pane's text, worked out from the overview without React: the source-sanity line,
// the summary with the size sparkline, the schedule, the running job, the partials, each
// archive's cells, and the details panel. Every text from a host reached us sanitized by the
// core; colour is only ever a tone here, turned into Ink's colour props by the pane.
import { PARTIAL_LEFT_OVER_SEC } from '../../src/core/backups/policy.js';
import type { CatalogEntry } from '../../src/core/backups/catalog.js';
import type { ScheduleState } from '../../src/core/backups/overview.js';
import type { Archive } from '../../src/core/backups/listing.js';
import type { ResolvedPolicy } from '../../src/core/backups/policy.js';
import type { SourceSanity } from '../../src/core/backups/sanity.js';
import { describeProgress } from '../../src/core/ops/progress.js';
import { formatAge, formatBytes, secondsSince, sparkline } from '../../src/core/text/humanize.js';
import type { BackupJob, BackupVerifyOutcome, OperationView } from '../../src/store/types.js';
import { cellWidth } from '../widgets/cells.js';
import { wrapped, type Line, type Tone } from '../widgets/text-lines.js';
import { progressBar } from '../widgets/progress-bar.js';

export type { Line, Tone } from '../widgets/text-lines.js';

const ago = (iso: string, now: number) => `${formatAge(Math.max(0, secondsSince(iso, now)))} ago`;
const count = (n: number) => n.toLocaleString('en-US');

/** The first line of the pane: the verdict, loud when it is not ok. */
export function sanityLine(sanity: SourceSanity | null, reading: boolean): Line {
  if (!sanity) return { text: reading ? 'source sanity: checking (the unit, the processes on its ports, the data dirs, the newest archive)…' : 'source sanity: not checked', tone: 'muted' };
  switch (sanity.verdict) {
    case 'ok':
      return { text: `✓ ${sanity.summary}`, tone: 'ok' };
    case 'stale-source':
      return { text: `✗ STALE SOURCE: ${sanity.summary}`, tone: 'error', bold: true };
    case 'archives-stale':
      return { text: `✗ ARCHIVES STALE: ${sanity.summary}`, tone: 'error', bold: true };
    default:
      return { text: `? SOURCE SANITY UNKNOWN: ${sanity.summary}`, tone: 'warn', bold: true };
  }
}

/** "production: 7 archives in DIR · 2.3M · sizes ▁▂▃█": the sparkline oldest to newest, as wide as there is room. */
export function summaryText(environment: string, dir: string, entries: readonly Pick<Archive, 'sizeBytes'>[], width: number): string {
  const total = entries.reduce((n, e) => n + e.sizeBytes, 0);
  const head = `${environment}: ${entries.length} archive${entries.length === 1 ? '' : 's'} in ${dir}${entries.length > 0 ? ` · ${formatBytes(total)}` : ''}`;
  if (entries.length < 2) return head;
  const room = width - cellWidth(head) - ' · sizes '.length;
  if (room < 4) return head;
  return `${head} · sizes ${sparkline([...entries].reverse().map((e) => e.sizeBytes), { width: room })}`;
}

export function scheduleLine(schedule: ScheduleState | null, policy: Pick<ResolvedPolicy, 'schedule'> | null, environment: string, now: number): Line {
  if (!schedule) return { text: 'schedule: …', tone: 'muted' };
  if (!schedule.installed) return { text: `not scheduled (opsdeck backup schedule ${environment} installs ${policy?.schedule ?? 'the policy\'s schedule'})`, tone: 'warn' };
  const failed = schedule.lastResult !== null && schedule.lastResult !== 'success';
  const last = schedule.lastRun ? `last run ${ago(schedule.lastRun, now)}: ${schedule.lastResult ?? 'result unknown'}` : 'never ran yet';
  const next = schedule.nextRun ? `next in ${formatAge(Math.max(0, -secondsSince(schedule.nextRun, now)))} (${schedule.nextRun.replace('T', ' ').slice(0, 16)} UTC)` : 'no next run';
  const timer = schedule.active ? '' : ` · ${schedule.timer} is not active`;
  return { text: `${failed ? '✗ ' : ''}schedule ${policy?.schedule ?? ''} · ${last} · ${next}${timer}`, tone: failed || !schedule.active ? 'error' : 'plain', bold: failed };
}

/** A label and a progress line: a bar when the total is known, else what is done so far. */
function progressText(label: string, progress: NonNullable<BackupJob['progress']>, width: number, tail: string): string {
  const text = describeProgress(progress);
  if (progress.total === null) return `${label} ${text}${tail}`;
  const room = width - cellWidth(label) - cellWidth(text) - cellWidth(tail) - 2;
  return room >= 8 ? `${label} ${progressBar(progress.done, progress.total, Math.min(40, room))} ${text}${tail}` : `${label} ${text}${tail}`;
}

/** The job line: what runs for this environment (a verify here, or a backup operation's progress), or the last verify's outcome. */
export function jobLine(job: BackupJob | null, operation: OperationView | null, lastVerify: BackupVerifyOutcome | null, environment: string, width: number): Line | null {
  if (job && job.environment === environment) {
    const tail = job.stopping ? ' · stopping…' : ' · Esc stops';
    const what = `${job.kind}${job.archive ? ` ${job.archive}` : ''}:`;
    switch (job.phase) {
      case 'sanity':
        return { text: `${what} checking source sanity first…${tail}`, tone: 'accent' };
      case 'catalog':
        return { text: `${what} reading the archives as they are now…${tail}`, tone: 'accent' };
      case 'planning':
        return { text: `${what} verified; looking at the data dir to plan it…${tail}`, tone: 'accent' };
      case 'checksum':
        return { text: `${what} ${job.kind === 'restore' ? 'verifying first: ' : ''}sha256 of the archive…${tail}`, tone: 'accent' };
      default:
        return { text: progressText(`${what}${job.kind === 'restore' ? ' verifying first:' : ''} test extraction`, job.progress ?? { done: 0, total: null, unit: 'bytes', rate: null, etaSeconds: null }, width, tail), tone: 'accent' };
    }
  }
  if (operation && !operation.result && operation.op.kind.startsWith('backup.') && operation.op.environment === environment) {
    const label = `${operation.op.title}:`;
    return { text: operation.progress ? progressText(label, operation.progress, width, '') : `${label} running…`, tone: 'accent' };
  }
  if (lastVerify && lastVerify.environment === environment) {
    // A clock time, not an age: the pane is not redrawn every second to keep an age true.
    const when = `at ${new Date(lastVerify.at).toTimeString().slice(0, 8)}`;
    if (lastVerify.ok === null) return { text: `verify of ${lastVerify.archive} did not finish (${when}): ${lastVerify.error ?? ''}`, tone: 'warn' };
    if (lastVerify.ok) return { text: `✓ ${lastVerify.archive} verified ${when}: ${lastVerify.checks.map((c) => c.name).join(', ')} all well`, tone: 'ok' };
    const failed = lastVerify.checks.filter((c) => !c.ok);
    return { text: `✗ ${lastVerify.archive} FAILED verify ${when}: ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ')}`, tone: 'error', bold: true };
  }
  return null;
}

/** An archive being written, or left by a create that was cut off. */
export function partialLine(partial: Archive, now: number): Line {
  const age = secondsSince(partial.modifiedAt, now);
  const why = age < PARTIAL_LEFT_OVER_SEC ? 'being written now, or cut off within the hour' : 'unfinished: a create was cut off; prune removes it';
  return { text: `! ${partial.name} (${formatBytes(partial.sizeBytes)}, written ${formatAge(Math.max(0, age))} ago): ${why}`, tone: 'warn' };
}

/** ✓ verified well, ✗ failed its last verify, · never verified (this very file). */
export function verifiedMark(entry: CatalogEntry): { mark: string; tone: Tone } {
  if (!entry.verified) return { mark: '·', tone: 'muted' };
  return entry.verified.ok ? { mark: '✓', tone: 'ok' } : { mark: '✗', tone: 'error' };
}

export function filesOf(entry: CatalogEntry): string {
  const files = entry.manifest?.files ?? entry.verified?.files ?? null;
  return files === null ? '?' : count(files);
}

/** The note of a row: its alarm, a failed verify, or that opsdeck did not make it. */
export function noteOf(entry: CatalogEntry): { text: string; tone: Tone } {
  if (entry.alarm) return { text: `✗ ${entry.alarm}`, tone: 'error' };
  if (entry.verified && !entry.verified.ok) return { text: `✗ failed verify: ${entry.verified.checks.filter((c) => !c.ok).map((c) => c.name).join(', ') || 'see details'}`, tone: 'error' };
  if (!entry.manifest) return { text: 'not made by opsdeck', tone: 'muted' };
  if (entry.manifest.changedWhileReading.length > 0) return { text: `! ${entry.manifest.changedWhileReading.length} file(s) changed while read`, tone: 'warn' };
  return { text: '', tone: 'plain' };
}

export function verifiedAge(entry: CatalogEntry, now: number): string {
  return entry.verified ? ago(entry.verified.verifiedAt, now) : '-';
}

/** The source-sanity verdict with every piece of evidence and where it came from (the command or file, to look again by hand). */
export function sanityDetail(sanity: SourceSanity | null, width: number, now: number): Line[] {
  if (!sanity) return [{ text: 'SOURCE SANITY: not checked yet', tone: 'muted', bold: true }];
  const head = sanityLine(sanity, false);
  const lines: Line[] = [{ text: `SOURCE SANITY: ${sanity.verdict} (checked ${ago(sanity.checkedAt, now)})`, tone: head.tone, bold: true }];
  lines.push(...wrapped(sanity.summary, width, '  ', head.tone === 'ok' ? 'plain' : head.tone));
  for (const e of sanity.evidence) {
    const from = `  [${e.from}]`;
    if (cellWidth(`  · ${e.text}${from}`) <= width) lines.push({ text: `  · ${e.text}`, tone: 'plain', tail: from });
    else lines.push(...wrapped(e.text, width, '  · ', 'plain'), ...wrapped(`[${e.from}]`, width, '    ', 'muted'));
  }
  return lines;
}

/** The selected archive: when and whence it was made, what it holds, each check of its last verify. */
export function archiveDetail(entry: CatalogEntry | null, width: number, now: number): Line[] {
  if (!entry) return [{ text: 'ARCHIVE: none selected', tone: 'muted', bold: true }];
  const lines: Line[] = [{ text: `ARCHIVE ${entry.name}`, tone: 'plain', bold: true }];
  lines.push(...wrapped(`made ${entry.madeAt.replace('T', ' ').slice(0, 19)} UTC (${ago(entry.madeAt, now)}) · ${formatBytes(entry.sizeBytes)} · ${entry.compression ?? 'unknown compression'} · ${entry.path}`, width, '  ', 'plain'));
  if (entry.alarm) lines.push(...wrapped(`✗ ${entry.alarm}: an archive much smaller than the one before it often means the job archived the wrong thing`, width, '  ', 'error', true));
  const m = entry.manifest;
  if (m) {
    lines.push(...wrapped(`from ${m.source} on host ${m.host}${m.operation ? ` (operation ${m.operation})` : ''}; the unit was ${m.unitState ?? 'not configured'}`, width, '  ', 'plain'));
    lines.push(...wrapped(`holds ${count(m.files)} files, ${count(m.dirs)} directories, ${count(m.links)} links, ${formatBytes(m.bytes)}; the newest ${m.newestPath ?? '-'}${m.newestMtime !== null ? `, modified ${formatAge(Math.max(0, now / 1000 - m.newestMtime))} ago` : ''}`, width, '  ', 'plain'));
    if (m.changedWhileReading.length > 0) lines.push(...wrapped(`! changed while tar read them (their content may be torn): ${m.changedWhileReading.slice(0, 5).join(', ')}${m.changedWhileReading.length > 5 ? ` and ${m.changedWhileReading.length - 5} more` : ''}`, width, '  ', 'warn'));
  } else lines.push(...wrapped('not made by opsdeck: no manifest, no checksum recorded (verify extracts it all the same and says what it holds)', width, '  ', 'muted'));
  const v = entry.verified;
  if (!v) lines.push({ text: '  never verified (v verifies it)', tone: 'muted' });
  else {
    lines.push({ text: `  ${v.ok ? '✓ verified' : '✗ FAILED verify'} ${ago(v.verifiedAt, now)}`, tone: v.ok ? 'ok' : 'error', bold: !v.ok });
    for (const c of v.checks) lines.push(...wrapped(`${c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}`, width, '    ', c.ok ? 'plain' : 'error'));
  }
  return lines;
}
