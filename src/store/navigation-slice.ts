// Navigation and selection: the pane shown, the cursor and filter of each pane, the selected
// environment, how the processes pane lists and sorts. Entering the logs pane starts following
// the journal and leaving it stops it (the logs slice does both).
import { environmentNames, processRows, selectedFinding } from './selectors.js';
import type { LogTarget } from './log-session.js';
import { PANES, PROCESS_SORTS, type NavigationActions, type PaneId, type Slice, type SliceContext } from './types.js';

export interface NavigationSlice extends Slice<'pane' | 'selectedEnv' | 'cursor' | 'filter' | 'filterEditing' | 'processes', NavigationActions> {
  /** After a refresh re-sorted the processes pane, put the cursor back on the same row. */
  followProcessRow(): void;
}

export function createNavigationSlice({ deps, set, get }: SliceContext): NavigationSlice {
  /** A unit picked in the processes pane, to follow when the logs pane opens. */
  let pendingTarget: LogTarget | undefined;
  /** The processes pane's selected row, by key: the list is re-sorted on every refresh. */
  let processKey: string | null = null;

  const enterPane = (pane: PaneId) => {
    const previous = get().pane;
    set({ pane, filterEditing: false });
    // The tail runs only while the logs pane is shown: leaving it kills journalctl.
    if (pane === 'logs' && previous !== 'logs') {
      // A unit picked in the processes pane is followed; otherwise the selected environment.
      get().actions.openLogs(pendingTarget);
      pendingTarget = undefined;
    } else if (pane !== 'logs' && previous === 'logs') void get().actions.closeLogs();
  };

  const syncSelection = (pane: PaneId) => {
    const state = get();
    if (pane === 'environments') {
      const name = environmentNames(state)[state.cursor.environments];
      if (name && name !== state.selectedEnv) set({ selectedEnv: name });
    } else if (pane === 'processes') {
      processKey = processRows(state)[state.cursor.processes]?.key ?? null;
    } else if (pane === 'doctor') {
      // The header's production cue and the border follow the finding in view: a fix of
      // production's finding is production's.
      const env = selectedFinding(state)?.environment;
      if (env && env !== state.selectedEnv && deps.config.environments[env]) actions.selectEnv(env);
    }
  };

  const actions: NavigationActions = {
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
      if (showAll) void get().actions.refresh();
    },
    cycleSort(step) {
      const index = PROCESS_SORTS.indexOf(get().processes.sort);
      set({ processes: { ...get().processes, sort: PROCESS_SORTS[(index + step + PROCESS_SORTS.length) % PROCESS_SORTS.length]! } });
    },
    invertSort() {
      set({ processes: { ...get().processes, descending: !get().processes.descending } });
    },
    logsOf(target) {
      if (get().pane === 'logs') get().actions.openLogs(target);
      else {
        pendingTarget = target;
        enterPane('logs');
      }
    },
  };

  return {
    state: {
      pane: 'environments',
      selectedEnv: Object.keys(deps.config.environments)[0] ?? null,
      cursor: { environments: 0, processes: 0, backups: 0, logs: 0, doctor: 0 },
      filter: { environments: '', processes: '', backups: '', logs: '', doctor: '' },
      filterEditing: false,
      processes: { showAll: false, sort: 'name', descending: false },
    },
    actions,
    followProcessRow() {
      if (!processKey) return;
      const index = processRows(get()).findIndex((r) => r.key === processKey);
      if (index >= 0 && index !== get().cursor.processes) set({ cursor: { ...get().cursor, processes: index } });
    },
  };
}
