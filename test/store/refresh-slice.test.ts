// The status refresh's slow parts, here the doctor's per-host looks (their stat -f counted):
// reused for 30 s between the 2 s refreshes, asked again at once after an operation ends (it
// may have changed what they saw). On the recorded lab (backups-pane.json, which holds no
// refresh: what fails to replay is an error of the refresh, and the looks keep their own).
import { describe, expect, it, onTestFinished } from 'vitest';
import { replayStore } from '../support/backups-fixture.js';

describe('the refresh\'s slow parts', () => {
  it('are reused for 30 s, and asked again at once after an operation ends', async () => {
    let clock = 1_000_000;
    const made = replayStore('lab', { now: () => clock });
    onTestFinished(made.cleanup);
    const { store, host } = made;
    const looks = () => host.count(/^stat -f /);
    const refresh = async (ms: number, options?: { slow?: boolean }) => {
      clock += ms;
      await store.getState().actions.refresh(options);
    };
    await refresh(0);
    expect(looks()).toBe(1);
    await refresh(2000);
    expect(looks()).toBe(1);
    // An operation ends: the operations slice's refresh asks the slow parts again (operations-slice.ts).
    await refresh(2000, { slow: true });
    expect(looks()).toBe(2);
    await refresh(2000);
    expect(looks()).toBe(2);
    // Asked while a refresh runs: the next one asks them.
    const running = store.getState().actions.refresh();
    void store.getState().actions.refresh({ slow: true });
    await running;
    expect(looks()).toBe(2);
    await refresh(2000);
    expect(looks()).toBe(3);
    await refresh(2000);
    expect(looks()).toBe(3);
    await refresh(30_000);
    expect(looks()).toBe(4);
  });
});
