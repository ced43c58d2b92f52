// The console's state: one vanilla zustand store per app, made by a factory so each test (and
// each remount after handing the terminal to a pager) gets or keeps its own. Components read
// narrow selectors; every change goes through `actions`. Side effects reach core through the
// injected dependencies, never through components.
//
// The store is composed of slices, one per concern, each a small factory in its own file that
// returns its initial state and its actions (types in types.ts). A new slice: its types in
// types.ts, its factory, and one line below for its state and one for its actions.
import { createStore } from 'zustand/vanilla';
import { createBackupsSlice } from './backups-slice.js';
import { createDoctorSlice } from './doctor-slice.js';
import { createLogsSlice } from './logs-slice.js';
import { createNavigationSlice } from './navigation-slice.js';
import { createNoticeSlice } from './notice-slice.js';
import { createOperationsSlice } from './operations-slice.js';
import { createOverlaySlice } from './overlay-slice.js';
import { createQuitSlice } from './quit-slice.js';
import { createRefreshSlice } from './refresh-slice.js';
import { createUnitFileSlice } from './unit-file-slice.js';
import type { AppDeps, AppState, AppStore, SliceContext } from './types.js';

export type { AppDeps, AppStore } from './types.js';

export function createAppStore(deps: AppDeps): AppStore {
  return createStore<AppState>()((set, get, api) => {
    const ctx: SliceContext = { deps, set: (patch) => set(patch), get, now: deps.now ?? Date.now, notify: (text, level) => get().actions.notify(text, level) };
    const navigation = createNavigationSlice(ctx);
    const refresh = createRefreshSlice(ctx, navigation.followProcessRow);
    const overlay = createOverlaySlice(ctx);
    const operations = createOperationsSlice(ctx);
    const unitFiles = createUnitFileSlice(ctx);
    const notice = createNoticeSlice(ctx);
    const logs = createLogsSlice(ctx);
    const backups = createBackupsSlice(ctx, api.subscribe);
    const doctor = createDoctorSlice(ctx, api.subscribe);
    // Ctrl+C stops the first of these that runs; with none, it arms quitting.
    const quit = createQuitSlice(ctx, [operations.interruptOperation, backups.stopJob, doctor.stopJob, logs.stopFollowing]);

    return {
      config: deps.config,
      configFile: deps.configFile,
      readonly: deps.readonly,
      ...navigation.state,
      ...refresh.state,
      ...overlay.state,
      ...operations.state,
      ...unitFiles.state,
      ...notice.state,
      ...quit.state,
      ...logs.state,
      ...backups.state,
      ...doctor.state,
      // One stable object: components and key handlers read `getState().actions.X`.
      actions: { ...navigation.actions, ...refresh.actions, ...overlay.actions, ...operations.actions, ...unitFiles.actions, ...notice.actions, ...quit.actions, ...logs.actions, ...backups.actions, ...doctor.actions },
    };
  });
}
