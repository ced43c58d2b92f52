// The store's shape: the state and actions of every slice, what a slice is given, and the few
// constants these types are made of. Every store module imports its types from here and this
// file imports no store module but the log session's (which knows nothing of the store), so no
// two store modules import each other, not even for a type.
//
// Adding a slice: its state and actions interfaces here, both added to AppState and AppActions
// below; a `createThingSlice(ctx)` in its own file; one line in app-store.ts.
import type { StoreApi } from 'zustand/vanilla';
import type { Config } from '../config/schema.js';
import type { Action, ActionExecutor, ActionResult } from '../core/ops/actions.js';
import type { HostRegistry } from '../core/host/registry.js';
import type { PriorityCounts } from '../core/journal/counts.js';
import type { PriorityRange } from '../core/journal/filter.js';
import type { StatusReport } from '../core/status/collect.js';
import type { UnitStatus } from '../core/systemd/units.js';
import type { LogSession, LogTarget, LogWork } from './log-session.js';

export const PANES = ['environments', 'processes', 'backups', 'logs'] as const;
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
  executor: ActionExecutor;
  readonly: boolean;
  now?: () => number;
}

export interface SliceContext {
  deps: AppDeps;
  /** Merges a patch into the state (any slice's fields; a slice writes its own, and a few shared ones such as `overlay`). */
  set: (patch: Partial<AppState>) => void;
  get: () => AppState;
  now: () => number;
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
  refresh(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Overlays, and an action's way through them: proposed, confirmed, running, result
// (overlay-slice.ts); the unit file shown in a text overlay (unit-file-slice.ts).

export type Overlay =
  | { kind: 'help' }
  | { kind: 'palette'; query: string; index: number }
  | { kind: 'confirm'; action: Action; commands: string[]; wrapped: string[]; typed: string }
  | { kind: 'running'; action: Action; startedAt: number }
  | { kind: 'result'; action: Action; result: ActionResult }
  | { kind: 'text'; title: string; text: string; scroll: number }
  | null;

export type OverlayOf<K extends NonNullable<Overlay>['kind']> = Extract<NonNullable<Overlay>, { kind: K }>;

export interface OverlayState {
  overlay: Overlay;
}

export interface OverlayActions {
  openOverlay(overlay: Overlay): void;
  closeOverlay(): void;
  updateOverlay(patch: Partial<OverlayOf<'palette'>> | Partial<OverlayOf<'confirm'>> | Partial<OverlayOf<'text'>>): void;
  /** Preview an action and ask for confirmation (refused at once in read-only mode). */
  propose(action: Action): void;
  /** Find out what a PID is on its host (command line, cwd, unit, ports, environments), then propose killing it. */
  proposeKill(host: string, pid: number): Promise<void>;
  /** Run the action in the confirm dialog; the keyboard stays live while it runs. */
  confirm(): Promise<void>;
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
// The whole store: every slice's state, and one stable `actions` object of every slice's actions.

export type AppActions = NavigationActions & RefreshActions & OverlayActions & UnitFileActions & NoticeActions & QuitActions & LogActions;

export interface AppState extends ConfigState, NavigationState, RefreshState, OverlayState, NoticeState, QuitState, LogsSliceState {
  actions: AppActions;
}

export type AppStore = StoreApi<AppState>;
