// The doctor slice on a host that answers as the lab did (test/fixtures/doctor-view.json,
// recorded by test/support/record-doctor.ts): a run replaced by another is cancelled and never
// stored, Ctrl+C stops one, an operation's end runs it again, and a fix is never planned from
// findings older than FRESH_MS without running the doctor first.
import { describe, expect, it, vi } from 'vitest';
import { FRESH_MS } from '../../src/store/doctor-slice.js';
import type { OperationView } from '../../src/store/types.js';
import { replayDoctor } from '../support/doctor-replay.js';
import { testOperation } from '../support/operation.js';
import { until } from '../support/until.js';

const SYSTEMCTL_SHOW = /^systemctl show --no-pager --timestamp=unix /;

describe('the doctor slice', () => {
  it('cancels a run when another starts: the first one\'s report is never stored', async () => {
    const { store, host } = replayDoctor('incident');
    const { actions } = store.getState();
    host.hold(/journalctl/);
    const first = actions.runDoctor();
    await until('the first run reading the journal', () => host.count(/journalctl/) === 1);
    await actions.runDoctor();
    const second = store.getState().doctor.report;
    expect(second?.findings.map((f) => f.id)).toEqual(['production/crash-loop', 'production/sandbox-path', 'production/port-unmanaged:3444', 'production/backup-archives-stale']);
    await first;
    expect(store.getState().doctor.report).toBe(second);
    expect(store.getState().doctor.running).toBeNull();
  });

  it('stops on Ctrl+C before anything else is cancelled, saying the findings shown are the last whole run\'s', async () => {
    const { store, host } = replayDoctor('incident');
    host.hold(/journalctl/);
    const run = store.getState().actions.runDoctor();
    await until('running', () => host.count(/journalctl/) === 1);
    store.getState().actions.interrupt();
    await run;
    expect(store.getState().doctor).toMatchObject({ running: null, report: null, error: null });
    expect(store.getState().notice?.text).toBe('the doctor stopped: the findings shown are from its last whole run');
    expect(store.getState().quitArmedAt).toBeNull();
  });

  it('selects the environment of the finding in view when the pane is entered, as moving to it does', async () => {
    const { store, host } = replayDoctor('incident');
    const { actions } = store.getState();
    actions.setPane('doctor');
    await until('the first run', () => store.getState().doctor.ranAt !== null && store.getState().doctor.running === null);
    actions.setPane('environments');
    actions.selectEnv('development');
    // Back within seconds of that run, whatever the machine's speed: the clock at the run's end.
    vi.setSystemTime(store.getState().doctor.ranAt!);
    actions.setPane('doctor');
    expect(store.getState().selectedEnv).toBe('production');
    // Within seconds of the last run: shown as it is, not run again.
    expect(host.count(SYSTEMCTL_SHOW)).toBe(1);
  });

  it('runs again when an operation ends while the pane is shown', async () => {
    const { store, host } = replayDoctor('incident');
    store.getState().actions.setPane('doctor');
    await until('the first run', () => store.getState().doctor.ranAt !== null && store.getState().doctor.running === null);
    const op = testOperation({ environment: 'production' });
    const view: OperationView = { op, mode: 'run', steps: [], current: null, output: [], unitJournal: [], gate: null, progress: null, failure: null, result: null, asking: false, startedAt: Date.now() };
    store.setState({ operation: view });
    expect(host.count(SYSTEMCTL_SHOW)).toBe(1);
    store.setState({ operation: { ...view, result: { id: op.id, status: 'finished', ok: true, summary: 'done', failedStep: null, error: null, stderr: '', journal: [], auditError: null, durationMs: 5 } } });
    await until('the run after the operation', () => host.count(SYSTEMCTL_SHOW) === 2 && store.getState().doctor.running === null);
  });

  it('plans a fix from findings seconds old as they are, and from older ones only after running the doctor again', async () => {
    const { store, host } = replayDoctor('incident');
    const { actions } = store.getState();
    await actions.runDoctor();
    actions.setCursor('doctor', 1);
    await actions.proposeFix();
    expect(host.count(SYSTEMCTL_SHOW)).toBe(1);
    expect(store.getState().overlay).toMatchObject({ kind: 'confirm', op: { kind: 'unit.override' } });
    actions.closeOverlay();
    vi.setSystemTime(Date.now() + FRESH_MS + 1000);
    await actions.proposeFix();
    expect(host.count(SYSTEMCTL_SHOW)).toBe(2);
    expect(store.getState().overlay).toMatchObject({ kind: 'confirm', op: { kind: 'unit.override', details: expect.arrayContaining([expect.stringMatching(/^doctor: production\/sandbox-path: /)]) } });
  });
});
