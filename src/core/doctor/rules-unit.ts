// The doctor's rules of the host and the unit: the host unreachable, facts that could not be
// gathered, and the unit not found, failed, inactive or crash-looping (the rate, since when and
// how it ends, from the journal lines the doctor read).
import type { UnitStatus } from '../systemd/units.js';
import { formatAge } from '../text/humanize.js';
import { endedBy, plural, show, signalName, type FindingEvidence } from './finding.js';
import type { JournalFacts, Rule } from './facts.js';

const utc = (ms: number) => `${new Date(ms).toISOString().replace('T', ' ').slice(0, 19)} UTC`;


export const hostRule: Rule = ({ env, hostError }, emit) => {
  if (hostError) emit('host-unreachable', 'critical', { title: hostError, evidence: [{ text: `every fact of the environment comes from host ${env.host}; none could be read`, from: `the first command on host ${env.host} (the config: hosts.${env.host})` }] });
};

/** How the main process last ended, from the unit's properties: "exit status 3", "killed by SIGKILL". */
function exitOf(unit: UnitStatus): string | null {
  if (unit.execMainStatus === null) return null;
  if (unit.execMainCode === 'killed' || unit.execMainCode === 'dumped') return endedBy(unit.execMainCode, signalName(unit.execMainStatus));
  return `exit status ${unit.execMainStatus}`;
}

export const EXITED = /Main process exited, code=(\w+), status=(\S+)/;
const FAILED = /Failed with result '([^']+)'/;
const START_LIMIT = /Start request repeated too quickly|start-limit-hit/;

/** What the journal says of a failing unit: its exits (rate, since when, how), and its own last error. */
export function journalEvidence(unit: UnitStatus, journal: JournalFacts, now: number): FindingEvidence[] {
  const out: FindingEvidence[] = [];
  const systemd = journal.entries.filter((e) => e.origin === 'systemd');
  const exits = systemd.filter((e) => EXITED.test(e.message));
  const ends = exits.length > 0 ? exits : systemd.filter((e) => FAILED.test(e.message));
  if (ends.length > 0) {
    const first = ends[0]!.timeUs / 1000;
    const last = ends[ends.length - 1]!.timeUs / 1000;
    const ago = (ms: number) => `${formatAge(Math.max(0, Math.round((now - ms) / 1000)))} ago`;
    const interval = ends.length > 1 ? Math.max(1, Math.round((last - first) / 1000 / (ends.length - 1))) : null;
    out.push({
      text: ends.length === 1 ? `it failed at ${utc(last)} (${ago(last)})` : `${plural(ends.length, 'failure')} in the lines read, from ${utc(first)} (${ago(first)}) to ${ago(last)}${interval ? `: about one every ${formatAge(interval)}` : ''}`,
      from: journal.from,
      quote: [ends[ends.length - 1]!.message],
    });
    // A unit that failed and stays failed (no restarts) is not looping: when it failed is said above.
    if (!unit.crashLooping && unit.nRestarts === 0) return withErrors(out, unit, journal, systemd);
    // The lines read reach back only so far: past them, NRestarts at the same rate says since when.
    const since = unit.nRestarts > ends.length && interval ? now - unit.nRestarts * interval * 1000 : first;
    out.push({
      text: since < first ? `crash-looping since about ${utc(since)} (${ago(since)}): ${plural(unit.nRestarts, 'restart')} at that rate` : `crash-looping since ${utc(first)} (${ago(first)})`,
      from: `${journal.from}; ${show(unit.name, 'NRestarts')}`,
    });
  }
  return withErrors(out, unit, journal, systemd);
}

/** Then whether systemd gave up, and the unit's own last error. */
function withErrors(out: FindingEvidence[], unit: UnitStatus, journal: JournalFacts, systemd: JournalFacts['entries']): FindingEvidence[] {
  const limit = systemd.findLast((e) => START_LIMIT.test(e.message));
  if (limit) out.push({ text: 'systemd gave up restarting it: the start limit was hit', from: journal.from, quote: [limit.message] });
  const own = journal.entries.findLast((e) => e.origin === 'unit' && e.priority !== null && e.priority <= 3);
  if (own) out.push({ text: `${unit.name}'s last error`, from: journal.from, quote: [own.message] });
  return out;
}

export const unitRule: Rule = ({ status, journal, now = Date.now() }, emit) => {
  const unit = status.unit;
  if (!unit) return;
  const state = { text: `${unit.name} is ${unit.activeState}/${unit.subState}, ${plural(unit.nRestarts, 'restart')} (NRestarts), last result ${unit.result || '-'}${exitOf(unit) ? `, ${exitOf(unit)}` : ''}`, from: show(unit.name, 'ActiveState,SubState,NRestarts,Result,ExecMainStatus') };
  const told = journal && journal.unit === unit.name ? journalEvidence(unit, journal, now) : [];
  if (unit.loadState === 'not-found') {
    emit('unit-not-found', 'critical', { title: `${unit.name} does not exist on host ${status.host}`, evidence: [{ text: `LoadState=not-found`, from: show(unit.name, 'LoadState') }] });
  } else if (unit.crashLooping) {
    const why = unit.result && unit.result !== 'success' ? `, last result ${unit.result}${unit.execMainStatus ? ` (exit status ${unit.execMainStatus})` : ''}` : '';
    const count = unit.nRestarts === 0 ? 'it failed and systemd is about to restart it' : plural(unit.nRestarts, 'restart');
    emit('crash-loop', 'critical', { title: `${unit.name} is crash-looping: ${count}${why}`, evidence: [state, ...told] });
  } else if (unit.activeState === 'failed') {
    emit('unit-failed', 'critical', { title: `${unit.name} has failed (result ${unit.result})`, evidence: [state, ...told] });
  } else if (unit.activeState !== 'active') {
    emit('unit-inactive', 'critical', { title: `${unit.name} is ${unit.activeState}`, evidence: [state] });
  }
};

export const collectErrorRule: Rule = ({ status, hostError }, emit) => {
  if (hostError) return;
  status.errors.forEach((error, i) => emit('collect-error', 'warning', { key: status.errors.length > 1 ? String(i + 1) : undefined, title: error, evidence: [{ text: 'the findings above say what they can without it', from: `the refresh of host ${status.host}` }] }));
};

/** What `systemd-analyze verify` finds wrong in the unit's files: settings systemd ignores or cannot use. */
export const unitVerifyRule: Rule = ({ unitVerify }, emit) => {
  if (!unitVerify || unitVerify.lines.length === 0) return;
  emit('unit-verify', 'warning', {
    title: `systemd-analyze verify finds ${plural(unitVerify.lines.length, 'problem')} in ${unitVerify.unit}: ${unitVerify.lines[0]}`,
    evidence: [{ text: `${unitVerify.unit}'s files, as systemd reads them`, from: unitVerify.from, quote: unitVerify.lines.slice(0, 10) }],
    note: `systemd ignores a setting it cannot read, so the service runs without it: correct the unit file or its drop-in (opsdeck unit cat shows them), then daemon-reload`,
  });
};
