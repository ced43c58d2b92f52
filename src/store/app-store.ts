// The console's state: one vanilla zustand store per app, made by a factory so each test (and
// each remount after handing the terminal to a pager) gets or keeps its own. Components read
// narrow selectors; every change goes through `actions`. Side effects reach core through the
// injected dependencies, never through components.
import { createStore } from 'zustand/vanilla';
import { killPidAction, type Confirmation } from '../core/ops/actions.js';
import { decideTarget, describeProcess } from '../core/ops/target.js';
import { describeError } from '../core/text/errors.js';
import { sanitizeLine } from '../core/text/sanitize.js';
import { catUnit } from '../core/systemd/units.js';
import { DEFAULT_LOG_CAPACITY } from '../core/journal/buffer.js';
import { LogSession, type LogTarget } from './log-session.js';
import { PANES, PROCESS_SORTS, type AppActions, type AppDeps, type AppState, type AppStore, type LogActions, type LogsState, type Overlay, type PaneId } from './types.js';
import { environmentHost, environmentNames, processRows } from './selectors.js';
import { createRefresher } from './refresh.js';
import { createLogActions, describeFollowEvent, initialLogsState } from './logs-slice.js';

export type { AppDeps, AppStore } from './types.js';

const QUIT_WINDOW_MS = 1500;


export function createAppStore(deps: AppDeps): AppStore {
  const now = deps.now ?? Date.now;
  let jobAbort: AbortController | null = null;

  return createStore<AppState>()((set, get) => {
    const logSession = new LogSession(deps.hosts, deps.logCapacity ?? DEFAULT_LOG_CAPACITY, {
      onEntries: (passed, dropped) => {
        const logs = get().logs;
        // A paused view keeps its lines in place while the ring buffer drops the oldest.
        const top = logs.follow ? logs.top : Math.max(0, logs.top - dropped);
        const match = logs.match < 0 ? -1 : logs.match - dropped >= 0 ? logs.match - dropped : -1;
        set({ logs: { ...logs, revision: logs.revision + 1, length: logSession.length, top, match, newWhilePaused: logs.follow ? 0 : logs.newWhilePaused + passed } });
      },
      onEvent: (event) => {
        const logs = get().logs;
        const connection: LogsState['connection'] =
          event.type === 'connected' || event.type === 'resumed' ? 'live' : event.type === 'reconnecting' ? 'reconnecting' : event.type === 'ended' ? (event.reason === 'failed' ? 'failed' : 'stopped') : logs.connection;
        set({
          logs: {
            ...logs,
            connection,
            waitingSince: event.type === 'waiting' ? event.at : event.type === 'suppressed' || event.type === 'oversized' ? logs.waitingSince : null,
            lastEvent: describeFollowEvent(event) ?? logs.lastEvent,
            suppressed: logs.suppressed + (event.type === 'suppressed' ? event.dropped : 0),
          },
        });
      },
      onWork: (work) => set({ logs: { ...get().logs, work } }),
    });
    const enterPane = (pane: PaneId) => {
      const previous = get().pane;
      set({ pane, filterEditing: false });
      // The tail runs only while the logs pane is shown: leaving it kills journalctl.
      if (pane === 'logs' && previous !== 'logs') {
        // A unit picked in the processes pane is followed; otherwise the selected environment.
        logActions.openLogs(pendingTarget);
        pendingTarget = undefined;
      } else if (pane !== 'logs' && previous === 'logs') void logActions.closeLogs();
    };
    let pendingTarget: LogTarget | undefined;
    /** The processes pane's selected row, by key: the list is re-sorted on every refresh. */
    let processKey: string | null = null;
    const syncSelection = (pane: PaneId) => {
      const state = get();
      if (pane === 'environments') {
        const name = environmentNames(state)[state.cursor.environments];
        if (name && name !== state.selectedEnv) set({ selectedEnv: name });
      } else if (pane === 'processes') {
        processKey = processRows(state)[state.cursor.processes]?.key ?? null;
      }
    };
    /** After a refresh, keep the cursor on the same process row. */
    const followProcessKey = () => {
      if (!processKey) return;
      const index = processRows(get()).findIndex((r) => r.key === processKey);
      if (index >= 0 && index !== get().cursor.processes) set({ cursor: { ...get().cursor, processes: index } });
    };
    const logActions: LogActions = createLogActions(
      (patch) => set(patch),
      () => get(),
      logSession,
      deps.hosts,
      (text, level) => actions.notify(text, level),
    );
    const refresher = createRefresher(deps, get, set, () => followProcessKey());
    const actions: Omit<AppActions, keyof LogActions> = {
      refresh() {
        return refresher();
      },
      setPane(pane) {
        enterPane(pane);
      },
      cyclePane(step) {
        const index = PANES.indexOf(get().pane);
        enterPane(PANES[(index + step + PANES.length) % PANES.length]!);
      },
      selectEnv(name) {
        if (!deps.config.environments[name]) return;
        // The highlighted row and the environment actions act on are always the same one.
        if (!environmentNames(get()).includes(name)) set({ filter: { ...get().filter, environments: '' } });
        set({ selectedEnv: name, cursor: { ...get().cursor, environments: Math.max(0, environmentNames(get()).indexOf(name)) } });
      },
      moveCursor(pane, delta, length) {
        const current = get().cursor[pane];
        const next = length === 0 ? 0 : Math.max(0, Math.min(length - 1, current + delta));
        actions.setCursor(pane, next);
      },
      setCursor(pane, index) {
        set({ cursor: { ...get().cursor, [pane]: Math.max(0, index) } });
        syncSelection(pane);
      },
      startFilter() {
        set({ filterEditing: true });
      },
      editFilter(text) {
        const pane = get().pane;
        set({ filter: { ...get().filter, [pane]: text }, cursor: { ...get().cursor, [pane]: 0 } });
        syncSelection(pane);
      },
      endFilter(keep) {
        const pane = get().pane;
        set({ filterEditing: false, ...(keep ? {} : { filter: { ...get().filter, [pane]: '' } }) });
      },
      toggleShowAll() {
        const showAll = !get().processes.showAll;
        set({ processes: { ...get().processes, showAll }, cursor: { ...get().cursor, processes: 0 } });
        if (showAll) void actions.refresh();
      },
      cycleSort(step) {
        const index = PROCESS_SORTS.indexOf(get().processes.sort);
        set({ processes: { ...get().processes, sort: PROCESS_SORTS[(index + step + PROCESS_SORTS.length) % PROCESS_SORTS.length]! } });
      },
      invertSort() {
        set({ processes: { ...get().processes, descending: !get().processes.descending } });
      },
      openOverlay(overlay) {
        set({ overlay, filterEditing: false });
      },
      closeOverlay() {
        if (get().overlay?.kind === 'running') return; // Ctrl+C cancels a running job
        set({ overlay: null });
      },
      updateOverlay(patch) {
        const overlay = get().overlay;
        if (overlay && overlay.kind !== 'help' && overlay.kind !== 'running' && overlay.kind !== 'result') set({ overlay: { ...overlay, ...patch } as Overlay });
      },
      propose(action) {
        if (deps.executor.isReadonly(action)) {
          const refusal = deps.executor.refuse(action, `read-only: ${action.title} is not allowed`, undefined, null);
          actions.notify(describeError(refusal), 'warn');
          return;
        }
        const commands = action.steps.map((s) => s.argv.join(' '));
        let wrapped: string[];
        try {
          wrapped = deps.executor.wrapped(action).map((argv) => argv.join(' '));
        } catch (error) {
          // The host cannot even be addressed (e.g. the lab is down): say so instead of asking.
          actions.notify(`cannot ${action.title}: ${describeError(error)}`, 'error');
          return;
        }
        set({ overlay: { kind: 'confirm', action, commands, wrapped, typed: '' } });
      },
      async proposeKill(host, pid) {
        try {
          const process = await describeProcess(deps.hosts.get(host), pid);
          if (!process) {
            actions.notify(`PID ${pid} is gone from host ${host}`, 'warn');
            return;
          }
          const state = get();
          const target = decideTarget(state.config, (name) => environmentHost(state, name), { kind: 'pid', host, pid, unit: process.unit, ports: process.ports });
          actions.propose(killPidAction(pid, { ...target, process }));
        } catch (error) {
          actions.notify(`cannot kill PID ${pid}: ${describeError(error)}`, 'error');
        }
      },
      async confirm() {
        const overlay = get().overlay;
        if (overlay?.kind !== 'confirm') return;
        const { action, typed } = overlay;
        const confirmation: Confirmation = action.protected ? { kind: 'typed-name', text: typed } : { kind: 'dialog' };
        jobAbort = new AbortController();
        set({ overlay: { kind: 'running', action, startedAt: now() } });
        try {
          const result = await deps.executor.run(action, confirmation, jobAbort.signal);
          set({ overlay: { kind: 'result', action, result } });
        } catch (error) {
          set({ overlay: null });
          actions.notify(describeError(error), 'error');
        } finally {
          jobAbort = null;
          void actions.refresh();
        }
      },
      interrupt() {
        if (jobAbort) {
          jobAbort.abort();
          actions.notify('cancelling…', 'warn');
          return;
        }
        // Following the journal is a running job too: Ctrl+C stops the tail.
        if (get().pane === 'logs' && logSession.following) {
          void logActions.closeLogs();
          actions.notify('stopped following the journal (Tab away and back, or G, to follow again)', 'info');
          return;
        }
        const armed = get().quitArmedAt;
        if (armed !== null && now() - armed < QUIT_WINDOW_MS) {
          actions.requestQuit();
          return;
        }
        set({ quitArmedAt: now() });
        actions.notify('nothing to cancel: press Ctrl+C again to quit', 'info');
      },
      async showUnitFile(host, unit) {
        try {
          const text = await catUnit(deps.hosts.get(host), unit);
          set({ overlay: { kind: 'text', title: `systemctl cat ${unit} (host ${host})`, text, scroll: 0 } });
        } catch (error) {
          actions.notify(describeError(error), 'error');
        }
      },
      notify(text, level = 'info') {
        // Notices quote errors, names and values from anywhere: one sanitizer on the way in.
        set({ notice: { text: sanitizeLine(text), level, at: now() } });
      },
      requestQuit() {
        set({ quitRequested: true });
      },
      logsOf(target) {
        if (get().pane === 'logs') logActions.openLogs(target);
        else {
          pendingTarget = target;
          enterPane('logs');
        }
      },
    };

    return {
      config: deps.config,
      configFile: deps.configFile,
      readonly: deps.readonly,
      status: null,
      statusError: null,
      lastRefreshMs: null,
      lastRefreshAt: null,
      history: {},
      allUnits: [],
      pane: 'environments',
      selectedEnv: Object.keys(deps.config.environments)[0] ?? null,
      cursor: { environments: 0, processes: 0, backups: 0, logs: 0 },
      filter: { environments: '', processes: '', backups: '', logs: '' },
      filterEditing: false,
      processes: { showAll: false, sort: 'name', descending: false },
      overlay: null,
      notice: null,
      quitArmedAt: null,
      quitRequested: false,
      logs: initialLogsState,
      logSession,
      actions: { ...actions, ...logActions },
    };
  });
}
