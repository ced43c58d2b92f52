// The doctor view's text, worked out from the report without React: the verdict line, what
// runs now, what could not be gathered, each finding's cells, and the selected finding's
// evidence (each fact with the command or file it came from, journal lines quoted), its note
// and its fix. Every text from a host reached us sanitized by the core (the rules sanitize each
// finding, the doctor its errors); colour is only ever a tone here.
import type { DoctorReport } from '../../src/core/doctor/doctor.js';
import { isAlarm, plural, severityLabel, type Finding, type FindingSeverity } from '../../src/core/doctor/finding.js';
import type { DoctorRun } from '../../src/store/types.js';
import { MARK } from '../theme.js';
import { cellWidth } from '../widgets/cells.js';
import { wrapped, wrapWords, type Line, type Tone } from '../widgets/text-lines.js';

/** Errors of the doctor's gathering shown above the list at most; the rest are counted. */
const MAX_ERRORS = 2;

export const SEVERITY_TONE: Record<FindingSeverity, Tone> = { critical: 'error', warning: 'warn', info: 'muted' };

/** A clock time, not an age: the view is not redrawn every second to keep an age true. */
const clock = (at: number) => new Date(at).toTimeString().slice(0, 8);

/** "✗ CRITICAL", "! WARNING", "i INFO". */
export function severityText(f: Pick<Finding, 'severity'>): string {
  return severityLabel(f.severity);
}

/** Where the finding is: its environment, else its host. */
export function whereText(f: Pick<Finding, 'environment' | 'host'>): string {
  return f.environment ?? `host ${f.host}`;
}

/**
 * The first lines of the view, at most `most` (at least the verdict): what runs now, the verdict
 * with each environment's count, why the last run failed, then what could not be gathered, as
 * many as there is room for and the rest counted.
 */
export function headLines(report: DoctorReport | null, running: DoctorRun | null, ranAt: number | null, error: string | null, most = Infinity): Line[] {
  const lines: Line[] = [];
  if (running) {
    const what = running.kind === 'fix' ? `planning the fix of ${running.finding} (the doctor runs again first when its findings are older than a few seconds)` : `running the doctor on every environment`;
    lines.push({ text: `… ${what} since ${clock(running.startedAt)} · Esc stops`, tone: 'accent' });
  }
  const errors = report?.errors ?? [];
  if (report) {
    const alarms = report.findings.filter(isAlarm);
    const per = report.environments.map((e) => {
      const n = e.findings.filter(isAlarm).length;
      return n === 0 ? `${e.name} ${MARK.ok}` : `${e.name} ${n}`;
    });
    const when = `ran at ${clock(ranAt ?? Date.parse(report.collectedAt))} in ${report.durationMs} ms`;
    if (report.environments.length === 0) lines.push({ text: `no environments in the config: nothing for the doctor to look at here (opsdeck doctor, without them, looks at the host's failed services)`, tone: 'muted' });
    else if (alarms.length === 0) lines.push({ text: `${MARK.ok} No findings above info on ${plural(report.environments.length, 'environment')} · ${when} · r runs it again`, tone: 'ok', bold: true });
    else {
      const critical = alarms.filter((f) => f.severity === 'critical').length;
      const counts = critical === alarms.length ? `${critical} critical` : `${critical} critical, ${alarms.length - critical} warning`;
      lines.push({ text: `${MARK.critical} ${plural(alarms.length, 'finding')} above info (${counts}): ${per.join(' · ')} · ${when}`, tone: critical > 0 ? 'error' : 'warn', bold: true });
    }
  } else if (!running && !error) lines.push({ text: 'the doctor has not run yet: r runs it', tone: 'muted' });
  if (error) lines.push({ text: `${MARK.critical} ${report ? 'the doctor could not run again (the findings below are from its last run)' : 'the doctor could not run'}: ${error}`, tone: 'error', bold: true });
  const room = Math.max(0, Math.min(MAX_ERRORS + 1, most) - lines.length);
  if (errors.length === 0) return lines;
  if (room === 0) {
    // No row of its own: said on the last line, never left out.
    const last = lines.at(-1)!;
    lines[lines.length - 1] = { ...last, text: `${last.text} · ${MARK.warning} ${plural(errors.length, 'thing')} not gathered` };
    return lines;
  }
  const shown = errors.length <= room ? errors : errors.slice(0, room - 1);
  for (const e of shown) lines.push({ text: `${MARK.warning} could not gather: ${e}`, tone: 'warn' });
  if (shown.length < errors.length) lines.push({ text: `${MARK.warning} and ${errors.length - shown.length} more it could not gather (opsdeck doctor lists them all)`, tone: 'warn' });
  return lines;
}

/** What the doctor looks at, for a clean report: so "nothing found" says what was looked for. */
export const LOOKS_AT =
  'it looks for: crash loops and their cause (a sandbox path, a missing path, a port in use), ports held outside any unit, failing health or another version, backups of a stale directory, none of the live data, too old for their schedule or much smaller than the one before, environments sharing a data dir, port or unit, secrets in Environment=, unit files changed on disk or with errors (systemd-analyze verify), memory and tasks near their limits, low disk space where code, data and backups live';

/** A fact of the evidence: its text, where it came from after it (muted), or below it when the row is too narrow for both. */
function evidenceLines(e: Finding['evidence'][number], width: number): Line[] {
  const from = `  ← ${e.from}`;
  const lines: Line[] = cellWidth(`  · ${e.text}${from}`) <= width ? [{ text: `  · ${e.text}`, tone: 'plain', tail: from }] : [...wrapped(e.text, width, '  · ', 'plain'), ...wrapped(`← ${e.from}`, width, '    ', 'muted')];
  // Journal lines as they were logged, indented under their fact, each wrapped whole (it is the evidence).
  for (const q of e.quote ?? []) lines.push(...wrapWords(q, Math.max(10, width - 6)).map((row) => ({ text: `    │ ${row}`, tone: 'plain' as const })));
  return lines;
}

/** The selected finding in full: its title, id and where, the evidence, the note, the fix and how to apply it. */
export function findingDetail(f: Finding, width: number, options: { readonly: boolean }): Line[] {
  const tone = SEVERITY_TONE[f.severity];
  // The title's rows under its first word after the mark, so the severity stands out on the left.
  const mark = `${severityText(f)} `;
  const lines: Line[] = wrapWords(f.title, Math.max(10, width - mark.length)).map((row, i) => ({ text: `${i === 0 ? mark : ' '.repeat(mark.length)}${row}`, tone: tone === 'muted' ? 'plain' : tone, bold: true }));
  lines.push({ text: `  ${f.id} · ${whereText(f)}${f.environment ? ` on host ${f.host}` : ''}`, tone: 'muted' });
  if (f.evidence.length > 0) lines.push({ text: 'EVIDENCE', tone: 'plain', bold: true });
  for (const e of f.evidence) lines.push(...evidenceLines(e, width));
  if (f.note) lines.push(...wrapped(`note: ${f.note}`, width, '  ', 'warn'));
  if (f.fix) {
    lines.push(...wrapped(`fix: ${f.fix.title}`, width, '  ', 'ok', true));
    lines.push({ text: options.readonly ? '  read-only: fixes are not offered (opsdeck doctor --fix applies it elsewhere)' : '  f: preview it (the exact commands, diffs, undo); nothing runs before you confirm', tone: 'muted' });
  } else if (isAlarm(f)) lines.push({ text: `  no fix of its own${f.note ? '' : ': a finding that explains it may have one, else the evidence says where to look'}`, tone: 'muted' });
  return lines;
}
