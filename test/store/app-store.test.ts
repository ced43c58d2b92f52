// The console's state machine, without rendering.
import { describe, expect, it } from 'vitest';
import { unitOperation } from '../../src/core/ops/plans.js';
import { currentSelection, processRows, restartRate } from '../../src/store/selectors.js';
import { makeStore } from '../support/console.js';

describe('console state', () => {
  it('cycles panes both ways and clamps the cursor', () => {
    const { store } = makeStore();
    const { actions } = store.getState();
    actions.cyclePane(1);
    expect(store.getState().pane).toBe('processes');
    actions.cyclePane(-1);
    actions.cyclePane(-1);
    expect(store.getState().pane).toBe('doctor');
    actions.cyclePane(-1);
    expect(store.getState().pane).toBe('logs');
    actions.moveCursor('environments', 10, 2);
    expect(store.getState().cursor.environments).toBe(1);
    expect(store.getState().selectedEnv).toBe('development');
    actions.moveCursor('environments', -10, 2);
    expect(store.getState().selectedEnv).toBe('production');
  });

  it('selects the unit of the environment, or the unit/PID row in the processes pane', () => {
    const { store } = makeStore();
    expect(currentSelection(store.getState())).toMatchObject({ kind: 'unit', unit: 'mcp-coordination.service', target: { protected: true, environment: 'production', phrase: 'production' } });
    store.getState().actions.setPane('processes');
    const rows = processRows(store.getState());
    const portIndex = rows.findIndex((r) => r.kind === 'port' && r.listener.port === 3444);
    store.getState().actions.setCursor('processes', portIndex);
    expect(currentSelection(store.getState())).toMatchObject({ kind: 'pid', target: { environment: 'production', environments: ['production'], protected: true } });
  });

  it('filters process rows', () => {
    const { store } = makeStore();
    store.getState().actions.setPane('processes');
    store.getState().actions.editFilter('dev');
    const rows = processRows(store.getState());
    expect(rows.every((r) => r.kind === 'port' || r.unit.name.includes('dev'))).toBe(true);
    expect(rows.some((r) => r.kind === 'unit')).toBe(true);
  });

  it('lists the environments\' own ports first, however many other listeners the host has', () => {
    const { store } = makeStore();
    const report = structuredClone(store.getState().status!);
    const others = Array.from({ length: 40 }, (_, i) => ({ address: '127.0.0.1', port: 1000 + i, pid: 5000 + i, process: 'x', command: 'x', unit: null, cgroup: null }));
    report.hosts[0]!.listeners = [...others, ...report.hosts[0]!.listeners].sort((a, b) => a.port - b.port);
    store.setState({ status: report });
    const ports = processRows(store.getState()).filter((r) => r.kind === 'port');
    expect(ports.slice(0, 2).map((r) => r.kind === 'port' && r.environment)).toEqual(['production', 'development']);
    expect(ports.slice(2).every((r) => r.kind === 'port' && r.environment === null)).toBe(true);
  });

  it('Ctrl+C with nothing running arms quitting; a second press soon quits', () => {
    const { store } = makeStore();
    store.getState().actions.interrupt();
    expect(store.getState().quitRequested).toBe(false);
    expect(store.getState().notice?.text).toMatch(/press Ctrl\+C again to quit/);
    store.getState().actions.interrupt();
    expect(store.getState().quitRequested).toBe(true);
  });

  it('refuses to propose a mutating action in read-only mode', () => {
    const { store } = makeStore({ readonly: true });
    store.getState().actions.propose(unitOperation('restart', 'mcp-coordination-dev.service', { host: 'lab', environment: 'development', environments: ['development'], protected: false, phrase: null }));
    expect(store.getState().overlay).toBeNull();
    expect(store.getState().notice?.text).toMatch(/read-only/);
  });

  it('computes a restart rate per minute from samples', () => {
    expect(restartRate([{ at: 0, restarts: 10, latencyMs: 1 }, { at: 30_000, restarts: 20, latencyMs: 1 }])).toBe(20);
    expect(restartRate([{ at: 0, restarts: 10, latencyMs: 1 }])).toBeNull();
  });
});
