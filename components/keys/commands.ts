// Every key of the console maps to a named command in this one registry. It drives the keymap's
// key handler, the `?` help overlay, the footer (only the keys that work here, now), the `:`
// palette, and user overrides (`keys:` in the config: command id -> key).
import { isReservedKey, splitKeys } from '../../src/config/keys.js';
import { daemonReloadOperation, unitOperation } from '../../src/core/ops/plans.js';
import type { UnitAction } from '../../src/core/systemd/units.js';
import { PANES, type AppState, type AppStore, type PaneId } from '../../src/store/types.js';
import { backupRows, currentSelection, doctorRows, environmentNames, hostWideTarget, processRows, selectedFinding } from '../../src/store/selectors.js';

export interface CommandContext {
  store: AppStore;
  state: AppState;
  /** Rows visible in the current pane's list (PgUp/PgDn move this much). */
  pageSize: number;
}

/** What the console's key handlers are made with. */
export interface KeyContext {
  store: AppStore;
  keymap: Keymap;
  /** Rows a page moves, asked at key time (at least 1). */
  pageSize: () => number;
}

export interface CommandDef {
  id: string;
  title: string;
  keys: string[];
  /** Panes where it works; absent = everywhere. */
  panes?: readonly PaneId[];
  mutating?: boolean;
  /** Shown in the footer when it works. */
  footer?: boolean;
  /** Group in the help overlay. */
  group: 'navigation' | 'view' | 'actions' | 'app';
  enabled?: (state: AppState) => boolean;
  run: (ctx: CommandContext) => void;
}

export function listLength(state: AppState, pane: PaneId = state.pane): number {
  switch (pane) {
    case 'environments':
      return environmentNames(state).length;
    case 'processes':
      return processRows(state).length;
    case 'backups':
      return backupRows(state).length;
    case 'logs':
      return state.logs.length;
    case 'doctor':
      return doctorRows(state).length;
  }
}

const move = (delta: (ctx: CommandContext) => number) => (ctx: CommandContext) => {
  const { state } = ctx;
  if (state.pane !== 'logs') return state.actions.moveCursor(state.pane, delta(ctx), listLength(state));
  const d = delta(ctx);
  // In the logs, moving down past the end (or G) follows again; moving up pauses.
  if (d >= 1e9) state.actions.followLogs();
  else state.actions.scrollLogs(d <= -1e9 ? -state.logs.length : d, ctx.pageSize);
};

const logsOnly = ['logs'] as const;
const backupsOnly = ['backups'] as const;
const doctorOnly = ['doctor'] as const;

function unitCommand(id: UnitAction, title: string, keys: string[]): CommandDef {
  return {
    id,
    title,
    keys,
    group: 'actions',
    mutating: true,
    footer: id === 'restart' || id === 'start' || id === 'stop',
    enabled: (state) => currentSelection(state)?.kind === 'unit',
    run: ({ state }) => {
      const selection = currentSelection(state);
      if (selection?.kind !== 'unit') return;
      state.actions.propose(unitOperation(id, selection.unit, selection.target));
    },
  };
}

export const COMMANDS: readonly CommandDef[] = [
  { id: 'help', title: 'help: every key', keys: ['?'], group: 'app', footer: true, run: ({ state }) => state.actions.openOverlay({ kind: 'help' }) },
  { id: 'palette', title: 'command palette', keys: [':'], group: 'app', footer: true, run: ({ state }) => state.actions.openOverlay({ kind: 'palette', query: '', index: 0 }) },
  { id: 'quit', title: 'quit', keys: ['q'], group: 'app', footer: true, run: ({ state }) => state.actions.requestQuit() },
  { id: 'refresh', title: 'refresh now', keys: ['ctrl+r'], group: 'app', run: ({ state }) => void state.actions.refresh() },

  { id: 'next-pane', title: 'next pane', keys: ['tab'], group: 'navigation', footer: true, run: ({ state }) => state.actions.cyclePane(1) },
  { id: 'prev-pane', title: 'previous pane', keys: ['shift+tab'], group: 'navigation', run: ({ state }) => state.actions.cyclePane(-1) },
  ...PANES.map((pane, i): CommandDef => ({ id: `pane-${pane}`, title: `${pane} pane`, keys: [String(i + 1)], group: 'navigation', run: ({ state }) => state.actions.setPane(pane) })),
  { id: 'up', title: 'up', keys: ['up', 'k'], group: 'navigation', run: move(() => -1) },
  { id: 'down', title: 'down', keys: ['down', 'j'], group: 'navigation', run: move(() => 1) },
  // With the backups pane's details open, PgUp/PgDn scroll them (↑↓ still pick the archive).
  { id: 'backup-details-up', title: 'scroll the details up', keys: ['pageup', 'ctrl+b'], group: 'navigation', panes: backupsOnly, enabled: (s) => s.backups.details, run: (c) => c.state.actions.scrollBackupDetails(-Math.max(1, Math.floor(c.pageSize / 2))) },
  { id: 'backup-details-down', title: 'scroll the details down', keys: ['pagedown', 'ctrl+f'], group: 'navigation', panes: backupsOnly, enabled: (s) => s.backups.details, run: (c) => c.state.actions.scrollBackupDetails(Math.max(1, Math.floor(c.pageSize / 2))) },
  // The doctor's PgUp/PgDn scroll the evidence (↑↓ pick the finding), as the backups pane's details.
  { id: 'doctor-evidence-up', title: 'scroll the evidence up', keys: ['pageup', 'ctrl+b'], group: 'navigation', panes: doctorOnly, run: (c) => c.state.actions.scrollDoctorDetails(-Math.max(1, Math.floor(c.pageSize / 2))) },
  { id: 'doctor-evidence-down', title: 'scroll the evidence down', keys: ['pagedown', 'ctrl+f'], group: 'navigation', panes: doctorOnly, run: (c) => c.state.actions.scrollDoctorDetails(Math.max(1, Math.floor(c.pageSize / 2))) },
  { id: 'page-up', title: 'page up', keys: ['pageup', 'ctrl+b'], group: 'navigation', run: move((c) => -c.pageSize) },
  { id: 'page-down', title: 'page down', keys: ['pagedown', 'ctrl+f'], group: 'navigation', run: move((c) => c.pageSize) },
  { id: 'top', title: 'first row', keys: ['g', 'home'], group: 'navigation', run: move(() => -1e9) },
  { id: 'bottom', title: 'last row', keys: ['G', 'end'], group: 'navigation', run: move(() => 1e9) },
  {
    id: 'details',
    title: 'details: the unit file (systemctl cat)',
    keys: ['return'],
    group: 'view',
    footer: true,
    enabled: (state) => currentSelection(state)?.kind === 'unit' && state.pane !== 'backups' && state.pane !== 'doctor',
    run: ({ state }) => {
      const selection = currentSelection(state);
      if (selection?.kind === 'unit') void state.actions.showUnitFile(selection.target.host, selection.unit);
    },
  },
  // The backups pane's keys come before the unit actions that share them (r, R): in that pane they win.
  { id: 'backup-details', title: 'details: sanity evidence, manifest, verify checks', keys: ['return'], group: 'view', footer: true, panes: backupsOnly, run: ({ state }) => state.actions.toggleBackupDetails() },
  { id: 'backup-create', title: 'create: a backup now (source sanity checked first)', keys: ['c'], group: 'actions', mutating: true, footer: true, panes: backupsOnly, run: ({ state }) => void state.actions.proposeBackupCreate() },
  { id: 'backup-verify', title: 'verify: checksum, test extraction, manifest', keys: ['v'], group: 'actions', footer: true, panes: backupsOnly, run: ({ state }) => void state.actions.verifyBackup() },
  { id: 'backup-restore', title: 'restore: into the data dir (verified first)', keys: ['r'], group: 'actions', mutating: true, footer: true, panes: backupsOnly, run: ({ state }) => void state.actions.proposeBackupRestore(false) },
  { id: 'backup-restore-stopped', title: 'restore with the unit stopped around the swap', keys: ['R'], group: 'actions', mutating: true, panes: backupsOnly, run: ({ state }) => void state.actions.proposeBackupRestore(true) },
  { id: 'backup-prune', title: 'prune: what the retention policy lets go', keys: ['p'], group: 'actions', mutating: true, footer: true, panes: backupsOnly, run: ({ state }) => void state.actions.proposeBackupPrune() },
  { id: 'backup-stop', title: 'stop: the running verify or check', keys: ['escape'], group: 'actions', footer: true, panes: backupsOnly, enabled: (s) => s.backups.job !== null, run: ({ state }) => void state.actions.stopBackupJob() },
  { id: 'backup-details-close', title: 'close: the details', keys: ['escape'], group: 'view', footer: true, panes: backupsOnly, enabled: (s) => s.backups.job === null && s.backups.details, run: ({ state }) => state.actions.toggleBackupDetails(false) },
  // The doctor's keys come before the unit actions that share them (r): in its pane they win.
  { id: 'doctor-details', title: 'details: the evidence over the whole pane', keys: ['return'], group: 'view', footer: true, panes: doctorOnly, run: ({ state }) => state.actions.toggleDoctorDetails() },
  { id: 'doctor-fix', title: 'fix: preview the finding\'s fix, then confirm it', keys: ['f'], group: 'actions', mutating: true, footer: true, panes: doctorOnly, enabled: (s) => Boolean(selectedFinding(s)?.fix), run: ({ state }) => void state.actions.proposeFix() },
  { id: 'doctor-run', title: 'run again: the doctor, on every environment', keys: ['r'], group: 'actions', footer: true, panes: doctorOnly, run: ({ state }) => void state.actions.runDoctor() },
  { id: 'doctor-stop', title: 'stop: the running doctor', keys: ['escape'], group: 'actions', footer: true, panes: doctorOnly, enabled: (s) => s.doctor.running !== null, run: ({ state }) => void state.actions.stopDoctor() },
  { id: 'doctor-details-close', title: 'close: the evidence', keys: ['escape'], group: 'view', footer: true, panes: doctorOnly, enabled: (s) => s.doctor.running === null && s.doctor.expanded, run: ({ state }) => state.actions.toggleDoctorDetails(false) },
  { id: 'filter', title: 'filter rows', keys: ['/'], group: 'view', footer: true, panes: ['environments', 'processes', 'backups'], run: ({ state }) => state.actions.startFilter() },
  { id: 'toggle-all', title: 'all services on the host / only the environments\'', keys: ['a'], group: 'view', footer: true, panes: ['processes'], run: ({ state }) => state.actions.toggleShowAll() },
  { id: 'sort-next', title: 'sort by next column', keys: ['>'], group: 'view', panes: ['processes'], run: ({ state }) => state.actions.cycleSort(1) },
  { id: 'sort-prev', title: 'sort by previous column', keys: ['<'], group: 'view', panes: ['processes'], run: ({ state }) => state.actions.cycleSort(-1) },
  { id: 'sort-invert', title: 'invert sort order', keys: ['I'], group: 'view', panes: ['processes'], run: ({ state }) => state.actions.invertSort() },

  { id: 'logs-search', title: 'search the log (regex)', keys: ['/'], group: 'view', footer: true, panes: logsOnly, run: ({ state }) => state.actions.startLogPrompt('search') },
  { id: 'logs-next', title: 'next match', keys: ['n'], group: 'view', panes: logsOnly, enabled: (s) => s.logs.search !== '', run: (c) => c.state.actions.nextMatch(1, c.pageSize) },
  { id: 'logs-prev', title: 'previous match', keys: ['N'], group: 'view', panes: logsOnly, enabled: (s) => s.logs.search !== '', run: (c) => c.state.actions.nextMatch(-1, c.pageSize) },
  { id: 'logs-priority', title: 'priority filter: all / warning+ / error+', keys: ['p'], group: 'view', footer: true, panes: logsOnly, run: ({ state }) => state.actions.cycleLogPriority() },
  { id: 'logs-include', title: 'keep only lines matching a regex', keys: ['+'], group: 'view', footer: true, panes: logsOnly, run: ({ state }) => state.actions.startLogPrompt('include') },
  { id: 'logs-exclude', title: 'hide lines matching a regex', keys: ['-'], group: 'view', footer: true, panes: logsOnly, run: ({ state }) => state.actions.startLogPrompt('exclude') },
  { id: 'logs-since', title: 'time window: since (1 hour ago, today…)', keys: ['T'], group: 'view', panes: logsOnly, run: ({ state }) => state.actions.startLogPrompt('since') },
  { id: 'logs-clear', title: 'clear filters, search and time window', keys: ['c'], group: 'view', panes: logsOnly, run: ({ state }) => state.actions.clearLogFilters() },
  { id: 'logs-time', title: 'absolute / relative times', keys: ['t'], group: 'view', footer: true, panes: logsOnly, run: ({ state }) => state.actions.toggleLogTime() },
  { id: 'logs-wrap', title: 'wrap / truncate long lines', keys: ['w'], group: 'view', footer: true, panes: logsOnly, run: ({ state }) => state.actions.toggleLogWrap() },
  { id: 'logs-pager', title: 'open the view in $PAGER', keys: ['o'], group: 'view', footer: true, panes: logsOnly, run: ({ state }) => state.actions.openLogPager() },
  {
    id: 'logs-of-unit',
    title: 'follow this unit\'s log',
    keys: ['l'],
    group: 'view',
    footer: true,
    panes: ['processes'],
    enabled: (state) => currentSelection(state)?.kind === 'unit',
    run: ({ state }) => {
      const selection = currentSelection(state);
      if (selection?.kind === 'unit') state.actions.logsOf({ host: selection.target.host, units: [selection.unit], label: selection.unit, environment: null });
    },
  },

  unitCommand('start', 'start the unit', ['s']),
  unitCommand('stop', 'stop the unit', ['x']),
  unitCommand('restart', 'restart the unit', ['r']),
  unitCommand('reload', 'reload the unit', ['R']),
  unitCommand('enable', 'enable the unit', ['e']),
  unitCommand('disable', 'disable the unit', ['d']),
  unitCommand('reset-failed', 'reset the failed state', ['F']),
  {
    id: 'daemon-reload',
    title: 'daemon-reload on the host',
    keys: ['D'],
    group: 'actions',
    mutating: true,
    enabled: (state) => currentSelection(state) !== null,
    run: ({ state }) => {
      const selection = currentSelection(state);
      if (selection) state.actions.propose(daemonReloadOperation(hostWideTarget(state, selection)));
    },
  },
  {
    id: 'kill',
    title: 'kill the PID (TERM, then KILL after 5 s)',
    keys: ['K', 'ctrl+k'],
    group: 'actions',
    mutating: true,
    footer: true,
    panes: ['processes'],
    enabled: (state) => currentSelection(state)?.kind === 'pid',
    run: ({ state }) => {
      const selection = currentSelection(state);
      // What the PID is (command line, cwd, unit) is asked of its host before the preview.
      if (selection?.kind === 'pid') void state.actions.proposeKill(selection.target.host, selection.pid);
    },
  },
];

/** Commands that work here, now (pane, read-only mode, what is selected). */
export function worksNow(command: CommandDef, state: AppState): boolean {
  if (command.mutating && state.readonly) return false;
  if (command.panes && !command.panes.includes(state.pane)) return false;
  return command.enabled ? command.enabled(state) : true;
}

export interface Keymap {
  /** Several commands may share a key in different panes; the first that works now wins. */
  byKey: Map<string, CommandDef[]>;
  keysOf: (id: string) => string[];
  /** Overrides that could not be applied, for a notice at start. */
  problems: string[];
}

/** Defaults plus the config's `keys:` overrides (command id -> key, or several with commas). */
export function buildKeymap(overrides: Record<string, string> = {}, commands: readonly CommandDef[] = COMMANDS): Keymap {
  const problems: string[] = [];
  const keys = new Map(commands.map((c) => [c.id, c.keys]));
  for (const [id, value] of Object.entries(overrides)) {
    if (!keys.has(id)) {
      problems.push(`keys: unknown command ${JSON.stringify(id)}`);
      continue;
    }
    keys.set(id, splitKeys(value));
  }
  const byKey = new Map<string, CommandDef[]>();
  for (const command of commands) {
    for (const key of keys.get(command.id) ?? []) {
      if (isReservedKey(key)) {
        problems.push(`keys: ctrl+c is reserved (cancel, twice to quit)`);
        continue;
      }
      byKey.set(key, [...(byKey.get(key) ?? []), command]);
    }
  }
  return { byKey, keysOf: (id) => keys.get(id) ?? [], problems };
}
