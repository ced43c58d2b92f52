// The status refresh's slow parts, here the doctor's per-host looks (their stat -f counted):
// reused for 30 s between the 2 s refreshes, asked again at once after an operation ends (it
// may have changed what they saw). On the recorded lab (backups-pane.json, which holds no
// refresh: what fails to replay is an error of the refresh, and the looks keep their own).
import { describe, expect, it, onTestFinished } from 'vitest';
import type { OperationView } from '../../src/store/types.js';
import { replayStore } from '../support/backups-fixture.js';
import { testOperation } from '../support/operation.js';

describe('the refresh\'s slow parts', () => {
  it('are reused for 30 s, and asked again at once after an operation ends', async () => {
    let clock = 1_000_000;
    const made = replayStore('lab', { now: () => clock });
    onTestFinished(made.cleanup);
    const { store, host } = made;
    const looks = () => host.count(/^stat -f /);
    const refresh = async (ms: number) => {
      clock += ms;
      await store.getState().actions.refresh();
    };
    await refresh(0);
    expect(looks()).toBe(1);
    await refresh(2000);
    expect(looks()).toBe(1);
    const op = testOperation({ kind: 'unit.override', environment: 'production' });
    const view: OperationView = { op, mode: 'run', steps: [], current: null, output: [], unitJournal: [], gate: null, progress: null, failure: null, result: null, asking: false, startedAt: clock };
    store.setState({ operation: { ...view, result: { id: op.id, status: 'finished', ok: true, summary: 'done', failedStep: null, error: null, stderr: '', journal: [], auditError: null, durationMs: 5 } } });
    await refresh(2000);
    expect(looks()).toBe(2);
    await refresh(2000);
    expect(looks()).toBe(2);
    // Its view closed: nothing more ended.
    store.setState({ operation: null });
    await refresh(2000);
    expect(looks()).toBe(2);
    await refresh(30_000);
    expect(looks()).toBe(3);
  });
});
