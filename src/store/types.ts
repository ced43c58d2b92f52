// The store's shape: the state and actions of every slice, what a slice is given, and the few
// constants these types are made of. Every store module imports its types from here and this
// file imports no store module but the log session's (which knows nothing of the store), so no
// two store modules import each other, not even for a type.
//
// Adding a slice: its state and actions interfaces here, both added to AppState and AppActions
// below; a `createThingSlice(ctx)` in its own file; one line in app-store.ts.
import type { StoreApi } from 'zustand/vanilla';
import type { Config } from '../config/schema.js';
import type { Operation } from '../core/ops/operation.js';
import type { PreviewLine } from '../core/ops/preview.js';
import type { Confirmation, OperationResult, OperationRunner } from '../core/ops/runner.js';
import type { Progress } from '../core/ops/progress.js';
import type { OperationStatus } from '../core/ops/state.js';
import type { GateSample } from '../core/status/gate.js';
import type { HostRegistry } from '../core/host/registry.js';
import type { PriorityCounts } from '../core/journal/counts.js';
import type { PriorityRange } from '../core/journal/filter.js';
import type { StatusReport } from '../core/status/collect.js';
import type { UnitStatus } from '../core/systemd/units.js';
import type { LogSession, LogTarget, LogWork } from './log-session.js';
import type { BackupOverview } from '../core/backups/overview.js';
import type { VerifyRecord } from '../core/backups/manifest.js';
import type { DoctorReport } from '../core/doctor/doctor.js';

export const PANES = ['environments', 'processes', 'backups', 'logs', 'doctor'] as const;
export type PaneId = (typeof PANES)[number];

export const PROCESS_SORTS = ['name', 'state', 'pid', 'memory', 'uptime', 'restarts'] as const;
export type ProcessSort = (typeof PROCESS_SORTS)[number];

// ---------------------------------------------------------------------------------------------
// What the store is made from, and what every slice factory is given.

export interface AppDeps {
  /** Lines the logs pane keeps (ring buffer). */
  logCapacity?: number;
  config: Config;
  configFile: string | null;
  hosts: HostRegistry;
  /** Runs every operation (and refuses, locks, journals, audits): the CLI's own runner. */
  runner: OperationRunner;
  readonly: boolean;
  now?: () => number;
}

export interface SliceContext {
  deps: AppDeps;
  /** Merges a patch into the state (any slice's fields; a slice writes its own, and a few shared ones such as `overlay`). */
  set: (patch: Partial<AppState>) => void;
  get: () => AppState;
  now: () => number;
  /** A notice in the footer (the notice slice's action, looked up at call time). */
  notify: NoticeActions['notify'];
}

/** What a slice factory returns: its part of the initial state, and its actions. Other slices
 *  call its actions through `get().actions` at call time, never at creation. */
export interface Slice<K extends keyof AppState, A> {
  state: Pick<AppState, K>;
  actions: A;
}

/** A running job Ctrl+C can stop: stops it and returns true, or returns false when it has none. */
export type Canceller = () => boolean;

// ---------------------------------------------------------------------------------------------
// Configuration, as the store was made (not changed by any action).

export interface ConfigState {
  config: Config;
  configFile: string | null;
  /** Read-only everywhere: mutating commands are hidden. */
  readonly: boolean;
}

// ---------------------------------------------------------------------------------------------
// Navigation and selection (navigation-slice.ts).

export interface NavigationState {
  pane: PaneId;
  selectedEnv: string | null;
  cursor: Record<PaneId, number>;
  filter: Record<PaneId, string>;
  filterEditing: boolean;
  processes: { showAll: boolean; sort: ProcessSort; descending: boolean };
}

export interface NavigationActions {
  setPane(pane: PaneId): void;
  cyclePane(step: 1 | -1): void;
  selectEnv(name: string): void;
  moveCursor(pane: PaneId, delta: number, length: number): void;
  setCursor(pane: PaneId, index: number): void;
  startFilter(): void;
  editFilter(text: string): void;
  endFilter(keep: boolean): void;
  toggleShowAll(): void;
  cycleSort(step: 1 | -1): void;
  invertSort(): void;
  /** Follow these units in the logs pane (e.g. a unit picked in the processes pane). */
  logsOf(target: LogTarget): void;
}

// ---------------------------------------------------------------------------------------------
// Refreshing the status (refresh-slice.ts).

export interface Sample {
  at: number;
  latencyMs: number | null;
  restarts: number;
}

export type HostUnit = UnitStatus & { host: string };

export interface RefreshState {
  status: StatusReport | null;
  statusError: string | null;
  /** How long the last refresh took (a slow host shows here). */
  lastRefreshMs: number | null;
  lastRefreshAt: number | null;
  /** Per environment, the last samples of health latency and restart count (for sparklines). */
  history: Record<string, Sample[]>;
  /** Every service on the environments' hosts, when the processes pane shows all. */
  allUnits: HostUnit[];
}

export interface RefreshActions {
  /** `slow`: ask the slow parts again too (an operation ended: they may have changed), now or, if one runs, in the next. */
  refresh(options?: { slow?: boolean }): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Overlays, and an operation's way through them: proposed (its preview), confirmed, then the
// operation view (overlay-slice.ts, operations-slice.ts); the unit file shown in a text overlay
// (unit-file-slice.ts), from which a setting can be overridden (a prompt).

/** What an operation in the confirm dialog is for: a new one, or picking one up from its journal. */
export type OperationMode = 'run' | 'resume' | 'rollback';

export type Overlay =
  | { kind: 'help' }
  | { kind: 'palette'; query: string; index: number }
  /** `preview`: null while the hosts are asked (the diff needs the file as it is). */
  | { kind: 'confirm'; op: Operation; mode: OperationMode; preview: PreviewLine[] | null; typed: string; scroll: number }
  /** The operation view: what it is made of is in OperationsState. */
  | { kind: 'operation' }
  /** A unit file; `unit` when it is one that can be overridden from here. */
  | { kind: 'text'; title: string; text: string; scroll: number; unit?: { host: string; name: string } }
  /** One line typed for something: a setting to override in a unit. */
  | { kind: 'prompt'; label: string; text: string; purpose: { kind: 'override'; host: string; unit: string } }
  | null;

export type OverlayOf<K extends NonNullable<Overlay>['kind']> = Extract<NonNullable<Overlay>, { kind: K }>;

export interface OverlayState {
  overlay: Overlay;
}

export interface OverlayActions {
  openOverlay(overlay: Overlay): void;
  closeOverlay(): void;
  updateOverlay(patch: Partial<OverlayOf<'palette'>> | Partial<OverlayOf<'confirm'>> | Partial<OverlayOf<'text'>> | Partial<OverlayOf<'prompt'>>): void;
  /** Preview an operation and ask for confirmation (refused at once, and audited, in read-only mode). */
  propose(op: Operation, mode?: OperationMode): void;
  /** Find out what a PID is on its host (command line, cwd, unit, ports, environments), then propose stopping it. */
  proposeKill(host: string, pid: number): Promise<void>;
  /** Plan an override of a unit from a `Key=Value` line (the prompt of the unit file view), then propose it. */
  proposeOverride(host: string, unit: string, line: string): Promise<void>;
  /** Run the operation in the confirm dialog; its view opens and the keyboard stays live. */
  confirm(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Operations (operations-slice.ts): the one in view, and the ones left open on the hosts.

export type StepState = 'pending' | 'running' | 'done' | 'failed' | 'undoing' | 'undone' | 'undo-failed';

export interface OperationView {
  op: Operation;
  mode: OperationMode;
  steps: Array<{ state: StepState; durationMs: number | null; error: string | null }>;
  /** The step running (or being undone) now. */
  current: number | null;
  /** The running step's last output lines (bounded). */
  output: string[];
  /** The last lines of the unit's journal while it runs, beside the steps. */
  unitJournal: string[];
  gate: { sample: GateSample; samples: number } | null;
  progress: Progress | null;
  /** Why a step failed: its stderr and the unit's journal lines of the last seconds. */
  failure: { step: number; error: string; stderr: string; journal: string[] } | null;
  result: OperationResult | null;
  /** Ctrl+C was pressed while it runs: stop here, roll back, or keep waiting? */
  asking: boolean;
  startedAt: number;
}

/** An operation on some host that has not ended for good: shown in the header until resumed or rolled back. */
export interface OpenOperation {
  id: string;
  host: string;
  title: string;
  environment: string | null;
  status: OperationStatus;
  reason: string | null;
  done: number;
  steps: number;
}

export interface OperationsState {
  operation: OperationView | null;
  openOperations: OpenOperation[];
}

export interface OperationsActions {
  /** Run an operation (confirmed), or resume / roll back a stored one, in the operation view. */
  startOperation(op: Operation, mode: OperationMode, confirmation: Confirmation): Promise<void>;
  /** The answer to Ctrl+C while an operation runs. */
  answerInterrupt(answer: 'stop' | 'rollback' | 'wait'): void;
  /** Close the view of an operation that has ended. */
  closeOperation(): void;
  /** Propose resuming, or rolling back, an open operation (found on its host). */
  proposeStored(id: string, mode: 'resume' | 'rollback'): Promise<void>;
  /** Ask the hosts which operations are open (throttled: at most every few seconds unless forced). */
  refreshOpenOperations(force?: boolean): Promise<void>;
}

export interface UnitFileActions {
  showUnitFile(host: string, unit: string): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Notices in the footer (notice-slice.ts), Ctrl+C and quitting (quit-slice.ts).

export interface Notice {
  text: string;
  level: 'info' | 'warn' | 'error';
  at: number;
}

export interface NoticeState {
  notice: Notice | null;
}

export interface NoticeActions {
  notify(text: string, level?: Notice['level']): void;
}

export interface QuitState {
  /** When Ctrl+C was last pressed with nothing to cancel (a second press quits). */
  quitArmedAt: number | null;
  quitRequested: boolean;
}

export interface QuitActions {
  /** Ctrl+C: cancel the running job; with none, arm quitting; pressed again soon, quit. */
  interrupt(): void;
  requestQuit(): void;
}

// ---------------------------------------------------------------------------------------------
// The logs pane (logs-slice.ts); its entries live in LogSession, outside React state.

export type LogPromptKind = 'search' | 'include' | 'exclude' | 'since';

export interface LogsState {
  target: LogTarget | null;
  /** Bumped on every batch of new entries: the viewport re-reads the session. */
  revision: number;
  /** Entries in view after the filter. */
  length: number;
  /** Pinned to the newest line; scrolling up pauses, `G`/End resumes. */
  follow: boolean;
  /** First visible entry while paused. */
  top: number;
  newWhilePaused: number;
  /** 'live' only once journalctl answered (entries, or a read that ended well). */
  connection: 'idle' | 'connecting' | 'live' | 'reconnecting' | 'stopped' | 'failed';
  /** Since when journalctl has been started on the host without answering yet (null: not waiting). */
  waitingSince: number | null;
  lastEvent: { text: string; level: 'info' | 'warn' | 'error'; at: number } | null;
  /** Messages journald dropped (rate limit) while we followed. */
  suppressed: number;
  priority: PriorityRange | null;
  include: string;
  exclude: string;
  search: string;
  /** Index of the current search match, -1 when none. */
  match: number;
  /** Lines in view matching the search when it was entered (or the filter changed); null while counting. */
  matchCount: number | null;
  /** Long work on the entries (re-filter, search, count) and how far it got. */
  work: LogWork | null;
  since: string | null;
  timeMode: 'absolute' | 'relative';
  wrap: boolean;
  counts: PriorityCounts | null;
  countsError: string | null;
  prompt: { kind: LogPromptKind; text: string } | null;
  /** Text for the pager; the console runtime hands the terminal over and clears it. */
  pager: string | null;
}

export interface LogsSliceState {
  logs: LogsState;
  /** The logs pane's entries (hot data, outside React state); a stable reference. */
  logSession: LogSession;
}

export interface LogActions {
  /** Follow a target (default: the selected environment's units) in a time window (default: the
   *  current one). A window or target that cannot be followed is refused with a notice, and
   *  whatever was followed goes on. */
  openLogs(target?: LogTarget, since?: string | null): void;
  closeLogs(): Promise<void>;
  scrollLogs(delta: number, viewHeight: number): void;
  followLogs(): void;
  cycleLogPriority(): void;
  startLogPrompt(kind: LogPromptKind): void;
  editLogPrompt(text: string): void;
  submitLogPrompt(): void;
  cancelLogPrompt(): void;
  clearLogFilters(): void;
  nextMatch(step: 1 | -1, viewHeight: number): void;
  toggleLogTime(): void;
  toggleLogWrap(): void;
  openLogPager(): void;
  pagerDone(): void;
}

// ---------------------------------------------------------------------------------------------
// Backups (backups-slice.ts): each environment's overview (archives, source sanity, schedule),
// a verify run from the console (not an operation), and the backup operations planned from here.

export interface EnvBackups {
  overview: BackupOverview | null;
  /** Why the last read failed (no policy, host down), safe to print; the overview before it stays. */
  error: string | null;
  /** When the last read ended, well or not (reads are throttled from it). */
  readAt: number | null;
  reading: boolean;
}

/** Something the pane is doing for an archive or an environment before (or instead of) an operation. */
export interface BackupJob {
  kind: 'verify' | 'restore' | 'create' | 'prune';
  environment: string;
  /** The archive's name and path (verify, restore), or null. */
  archive: string | null;
  path: string | null;
  /** sanity: create checks the source first; catalog: prune reads it again; planning: restore looks at the data dir. */
  phase: 'sanity' | 'catalog' | 'checksum' | 'extraction' | 'planning';
  progress: Progress | null;
  startedAt: number;
  /** Esc or Ctrl+C was pressed: it ends at the next point it can. */
  stopping: boolean;
}

/** The last verify's outcome, shown until the next one. `ok` null: it did not finish (stopped, or an error). */
export interface BackupVerifyOutcome {
  environment: string;
  archive: string;
  path: string;
  ok: boolean | null;
  checks: VerifyRecord['checks'];
  error: string | null;
  at: number;
}

export interface BackupsState {
  backups: {
    byEnv: Record<string, EnvBackups>;
    /** The details panel: source-sanity evidence, the selected archive's manifest and verify checks. */
    details: boolean;
    /** How far the details panel is scrolled (lines; the pane keeps it within what there is). */
    detailsScroll: number;
    job: BackupJob | null;
    lastVerify: BackupVerifyOutcome | null;
  };
}

export interface BackupsActions {
  /** Read the environment's (default: the selected one's) overview; at most every 30 s unless forced. */
  readBackups(options?: { env?: string; force?: boolean }): Promise<void>;
  toggleBackupDetails(show?: boolean): void;
  scrollBackupDetails(delta: number): void;
  /** Verify the selected archive (checksum, test extraction, manifest); Esc or Ctrl+C stops it. */
  verifyBackup(): Promise<void>;
  /** Check source sanity afresh, then propose a backup (refused, the evidence shown, on a stale source). */
  proposeBackupCreate(): Promise<void>;
  /** Propose what the retention policy lets go (refused while the newest archive looks wrong). */
  proposeBackupPrune(): Promise<void>;
  /** Verify the selected archive, then propose restoring it into the source (the unit stopped around the swap, if asked). */
  proposeBackupRestore(stopUnit: boolean): Promise<void>;
  /** Stop the running job (a verify, a check before a plan): true if there was one. */
  stopBackupJob(): boolean;
}

// ---------------------------------------------------------------------------------------------
// The doctor (doctor-slice.ts): its last report (every environment's findings, most severe
// first), a run going on, and a fix being planned; the pane's cursor is `cursor.doctor`.

export interface DoctorRun {
  /** What runs: the doctor, or the fix of a finding being planned (the doctor first when its report is old). */
  kind: 'run' | 'fix';
  /** The finding whose fix is planned. */
  finding: string | null;
  startedAt: number;
}

export interface DoctorState {
  doctor: {
    report: DoctorReport | null;
    /** When the report was made here (the clock of the console). */
    ranAt: number | null;
    /** Why the last run failed, safe to print; the report before it stays. */
    error: string | null;
    running: DoctorRun | null;
    /** The evidence over the whole pane (the list reduced to the selected finding). */
    expanded: boolean;
    /** How far the evidence is scrolled (lines; the view keeps it within what there is). */
    scroll: number;
  };
}

export interface DoctorActions {
  /** Run the doctor on every environment (a run going on is cancelled first). */
  runDoctor(): Promise<void>;
  /** Cancel the running doctor (or the planning of a fix): true if one ran. */
  stopDoctor(): boolean;
  toggleDoctorDetails(show?: boolean): void;
  scrollDoctorDetails(delta: number): void;
  /** Build the selected finding's fix as the CLI does (the doctor run again first when its report is old), then propose it. */
  proposeFix(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// The whole store: every slice's state, and one stable `actions` object of every slice's actions.

export type AppActions = NavigationActions & RefreshActions & OverlayActions & OperationsActions & UnitFileActions & NoticeActions & QuitActions & LogActions & BackupsActions & DoctorActions;

export interface AppState extends ConfigState, NavigationState, RefreshState, OverlayState, OperationsState, NoticeState, QuitState, LogsSliceState, BackupsState, DoctorState {
  actions: AppActions;
}

export type AppStore = StoreApi<AppState>;
