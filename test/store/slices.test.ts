// Slices on their own: each is a factory given set/get/now, so it can be driven without the
// rest of the store (other slices' actions are whatever `get().actions` holds).
import { describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createNavigationSlice } from '../../src/store/navigation-slice.js';
import { createQuitSlice } from '../../src/store/quit-slice.js';
import type { AppActions, AppDeps, AppState, SliceContext } from '../../src/store/types.js';

function harness(others: Partial<AppActions> = {}) {
  const config = parseConfig('environments:\n  production: { host: local, unit: a.service }\n', 'test.yaml');
  let clock = 0;
  let state = { config, actions: { notify: vi.fn(), ...others } } as unknown as AppState;
  const ctx: SliceContext = {
    deps: { config } as AppDeps,
    set: (patch) => (state = { ...state, ...patch }),
    get: () => state,
    now: () => clock,
    notify: (text, level) => state.actions.notify(text, level),
  };
  return { ctx, state: () => state, merge: (slice: { state: object; actions: object }) => (state = { ...state, ...slice.state, actions: { ...state.actions, ...slice.actions } } as AppState), tick: (ms: number) => (clock += ms) };
}

describe('the quit slice', () => {
  it('lets Ctrl+C stop the first job that runs, in order; with none it arms quitting, and a second press soon quits', () => {
    const h = harness();
    const stopped: string[] = [];
    let actionRuns = true;
    const quit = h.merge(createQuitSlice(h.ctx, [() => actionRuns && (stopped.push('action'), true), () => (stopped.push('tail'), true)]));
    expect(quit.quitArmedAt).toBeNull();
    h.state().actions.interrupt();
    expect(stopped).toEqual(['action']);
    actionRuns = false;
    h.state().actions.interrupt();
    expect(stopped).toEqual(['action', 'tail']);
    expect(h.state().quitArmedAt).toBeNull();
  });

  it('quits only on a second press within the window', () => {
    const h = harness();
    h.merge(createQuitSlice(h.ctx, []));
    h.state().actions.interrupt();
    expect(h.state().quitRequested).toBe(false);
    expect(h.state().actions.notify).toHaveBeenCalledWith('nothing to cancel: press Ctrl+C again to quit', 'info');
    h.tick(2000);
    h.state().actions.interrupt();
    expect(h.state().quitRequested).toBe(false);
    h.tick(500);
    h.state().actions.interrupt();
    expect(h.state().quitRequested).toBe(true);
  });
});

describe('the navigation slice', () => {
  it('starts following the journal on entering the logs pane and stops it on leaving, through the logs slice\'s actions', () => {
    const openLogs = vi.fn();
    const closeLogs = vi.fn(async () => {});
    const h = harness({ openLogs, closeLogs });
    h.merge(createNavigationSlice(h.ctx));
    h.state().actions.setPane('logs');
    expect(openLogs).toHaveBeenCalledTimes(1);
    h.state().actions.cyclePane(1);
    expect(h.state().pane).toBe('doctor');
    expect(closeLogs).toHaveBeenCalledTimes(1);
    h.state().actions.logsOf({ host: 'local', units: ['b.service'], label: 'b.service', environment: null });
    expect(h.state().pane).toBe('logs');
    expect(openLogs).toHaveBeenLastCalledWith({ host: 'local', units: ['b.service'], label: 'b.service', environment: null });
  });
});
