// The doctor without a config: every failed or crash-looping unit of a systemd host, with its
// cause as its properties tell it (Result=, how the main process ended, systemd's own exit
// statuses), and where they do not (a crash-looping unit caught running between two crashes),
// as its journal tells it: the last "Main process exited" line and its own last error.
import type { UnitStatus } from '../systemd/units.js';
import { isFailing, JOURNAL_LINES } from '../status/unit-journal.js';
import { bySeverity, endedBy, plural, safeFinding, show, signalName, type Finding } from './finding.js';
import type { JournalFacts } from './facts.js';
import { EXITED, journalEvidence } from './rules-unit.js';


/** systemd's own exit statuses (systemd.exec(5)): it failed setting up the process, before the program ran. */
const SYSTEMD_EXITS: Record<number, [string, string]> = {
  200: ['CHDIR', 'its WorkingDirectory= is missing or not accessible'],
  203: ['EXEC', 'its ExecStart= program is missing or not executable'],
  204: ['MEMORY', 'systemd ran out of memory starting it'],
  209: ['STDOUT', 'its StandardOutput= could not be set up'],
  216: ['GROUP', 'its Group= does not exist'],
  217: ['USER', 'its User= does not exist'],
  218: ['CAPABILITIES', 'its capabilities could not be set'],
  226: ['NAMESPACE', 'a path its sandbox names (ReadWritePaths=, ReadOnlyPaths=, …) does not exist'],
  233: ['RUNTIME_DIRECTORY', 'its RuntimeDirectory= could not be created'],
  238: ['STATE_DIRECTORY', 'its StateDirectory= could not be created'],
  239: ['CACHE_DIRECTORY', 'its CacheDirectory= could not be created'],
  240: ['LOGS_DIRECTORY', 'its LogsDirectory= could not be created'],
  243: ['CREDENTIALS', 'its credentials (LoadCredential=) could not be loaded'],
};

/** Result= in words. */
const RESULTS: Record<string, string> = {
  'exit-code': 'its main process exited with an error',
  signal: 'its main process was killed by a signal',
  'core-dump': 'its main process dumped core',
  timeout: 'it timed out (starting, stopping or running)',
  watchdog: 'its watchdog timed out',
  'start-limit-hit': 'it was restarted too often: systemd gave up (start limit hit)',
  'oom-kill': 'the kernel killed it out of memory (OOM)',
  resources: 'systemd could not set up what it needs to run (a file, a directory, a socket)',
  protocol: 'it broke the service protocol (e.g. Type=forking without a PID file)',
  'exec-condition': 'its ExecCondition= failed',
};

const NO_CAUSE = 'no cause recorded (see its journal)';

/** Its cause, as far as the unit's properties tell: the result, and how the main process ended. */
export function causeOf(unit: UnitStatus): string {
  const parts: string[] = [];
  const status = unit.execMainStatus;
  if (status !== null && (unit.execMainCode === 'killed' || unit.execMainCode === 'dumped')) {
    parts.push(endedBy(unit.execMainCode, signalName(status)));
  } else if (status !== null && status !== 0) {
    const known = SYSTEMD_EXITS[status];
    parts.push(known ? `exit status ${status}/${known[0]}: ${known[1]}` : `exit status ${status}`);
  }
  // How the process ended says more than "exit-code" or "signal": the result only where it adds.
  const result = RESULTS[unit.result];
  const said = parts.length > 0 && ['exit-code', 'signal', 'core-dump'].includes(unit.result);
  if (result && !said) parts.unshift(result);
  else if (!result && unit.result && unit.result !== 'success') parts.unshift(`result ${unit.result}`);
  return parts.join('; ') || NO_CAUSE;
}

/** How the main process last ended, as the journal says it ("exit status 3/NOTIMPLEMENTED", "killed by SIGKILL"). */
function lastExitOf(journal: JournalFacts | undefined): string | null {
  const line = journal?.entries.findLast((e) => e.origin === 'systemd' && EXITED.test(e.message));
  if (!line) return null;
  const [, code, status] = EXITED.exec(line.message)!;
  return code === 'killed' || code === 'dumped' ? endedBy(code, status!) : `exit status ${status}`;
}

/** A host's units that need their journal read: failed or crash-looping ones. */
export const failingUnits = (units: readonly UnitStatus[]) => units.filter(isFailing);

/**
 * The failed and crash-looping units among `units`, critical for a crash loop, a warning for a
 * unit that failed and stays down; with each one's journal lines where they were read.
 */
export function hostFindings(units: readonly UnitStatus[], host = 'local', journals: ReadonlyMap<string, JournalFacts> = new Map(), now = Date.now()): Finding[] {
  const findings: Finding[] = [];
  for (const unit of failingUnits(units)) {
    const code = unit.crashLooping ? 'crash-loop' : 'unit-failed';
    const journal = journals.get(unit.name);
    // Caught running between two crashes, a unit shows no result: its journal says how it last ended.
    const recorded = causeOf(unit);
    const cause = recorded === NO_CAUSE ? (lastExitOf(journal) ?? recorded) : recorded;
    // Between two crashes the state changes at every restart: "since" says something only of a unit that stays down.
    const since = unit.stateChangedAt && !unit.crashLooping ? `, since ${unit.stateChangedAt.replace('T', ' ').slice(0, 19)} UTC` : '';
    findings.push({
      id: `${host}/${code}:${unit.name}`,
      code,
      severity: unit.crashLooping ? 'critical' : 'warning',
      environment: null,
      host,
      title:
        !unit.crashLooping ? `${unit.name} has failed: ${cause}`
        : unit.activeState === 'failed' ? `${unit.name} crash-looped (${plural(unit.nRestarts, 'restart')}) until systemd gave up: ${cause}`
        : `${unit.name} is crash-looping (${plural(unit.nRestarts, 'restart')}): ${cause}`,
      evidence: [
        { text: `${unit.activeState}/${unit.subState}${since}; Result=${unit.result || '-'}, ExecMainStatus=${unit.execMainStatus ?? '-'}, NRestarts=${unit.nRestarts}, Restart=${unit.restart || '-'}`, from: show(unit.name, 'ActiveState,SubState,Result,ExecMainStatus,NRestarts,Restart') },
        ...(unit.fragmentPath ? [{ text: `unit file ${unit.fragmentPath}${unit.dropInPaths.length > 0 ? `; drop-ins: ${unit.dropInPaths.join(' ')}` : ''}`, from: show(unit.name, 'FragmentPath,DropInPaths') }] : []),
        ...(journal ? journalEvidence(unit, journal, now) : []),
      ],
      fix: null,
      note: `its last lines: journalctl -u ${unit.name} -n ${JOURNAL_LINES}${unit.crashLooping ? '' : `; once fixed: systemctl reset-failed ${unit.name} (or start it)`}`,
    });
  }
  return findings.map(safeFinding).sort(bySeverity);
}
