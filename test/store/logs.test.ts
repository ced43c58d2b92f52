// The logs pane's actions against a scripted journalctl: what a time window, G and c do to the
// follow (which journalctl runs start and stop), without rendering.
import { describe, expect, it } from 'vitest';
import { CommandError } from '../../src/core/text/errors.js';
import { makeStore } from '../support/console.js';
import { ScriptedHost } from '../support/scripted-host.js';
import { until } from '../support/until.js';

function logsOn() {
  const host = new ScriptedHost();
  const { store } = makeStore({ host });
  // The errors/warnings count runs journalctl too; these are the follow's runs.
  const journalRuns = () => host.runs.filter((r) => !r.argv.includes('--output-fields=PRIORITY'));
  store.getState().actions.setPane('logs');
  return { host, store, journalRuns, latest: () => journalRuns().at(-1)! };
}

const typeWindow = (store: ReturnType<typeof makeStore>['store'], text: string) => {
  store.getState().actions.startLogPrompt('since');
  store.getState().actions.editLogPrompt(text);
  store.getState().actions.submitLogPrompt();
};

describe('the logs time window', () => {
  it('refuses a window that cannot be followed before it stops anything', () => {
    const { store, journalRuns } = logsOn();
    const before = journalRuns().length;
    expect(before).toBeGreaterThan(0);
    store.getState().logSession.ingest([{ cursor: 'c1', timeUs: 1, priority: 6, unit: 'mcp-coordination.service', message: 'kept', binary: false, truncated: 0, suppressed: 0, origin: 'unit' }]);
    for (const bad of ['2026-02-30', '1969-07-20', '@99999999999999999999']) {
      typeWindow(store, bad);
      expect(store.getState().notice).toMatchObject({ level: 'error', text: expect.stringMatching(/invalid time .* for time window/) });
      // Still open for a correction; the follow, its entries and its window as they were.
      expect(store.getState().logs.prompt?.kind).toBe('since');
      store.getState().actions.cancelLogPrompt();
    }
    expect(journalRuns()).toHaveLength(before);
    expect(journalRuns().every((r) => !r.stopped)).toBe(true);
    expect(store.getState().logs).toMatchObject({ since: null, length: 1 });
    expect(store.getState().logSession.following).toBe(true);
  });

  it('follows in a valid window, and c clears it with the filters, following the usual history again', () => {
    const { store, latest } = logsOn();
    typeWindow(store, '1 hour ago');
    expect(store.getState().logs.since).toBe('1 hour ago');
    const windowed = latest();
    expect(windowed.argv.some((a) => a.startsWith('--since=@'))).toBe(true);
    store.getState().actions.clearLogFilters();
    expect(store.getState().logs.since).toBeNull();
    expect(windowed.stopped).toBe(true);
    expect(latest()).not.toBe(windowed);
    expect(latest().argv.some((a) => a.startsWith('--since'))).toBe(false);
    expect(latest().argv).toContain('--lines=1000');
  });
});

describe('G in the logs pane', () => {
  it('follows again after Ctrl+C stopped the follow', async () => {
    const { store, journalRuns, latest } = logsOn();
    const first = latest();
    store.getState().actions.interrupt();
    await until('the follow to stop', () => store.getState().logs.connection === 'stopped');
    expect(first.stopped).toBe(true);
    const before = journalRuns().length;
    store.getState().actions.followLogs();
    expect(journalRuns().length).toBe(before + 1);
    expect(store.getState().logs.connection).toBe('connecting');
    expect(store.getState().logSession.following).toBe(true);
  });

  it('follows again after the follow failed for good', async () => {
    const { store, journalRuns } = logsOn();
    await store.getState().actions.closeLogs();
    store.setState({ logs: { ...store.getState().logs, connection: 'failed' } });
    const before = journalRuns().length;
    store.getState().actions.followLogs();
    expect(journalRuns().length).toBe(before + 1);
    expect(store.getState().logs.connection).toBe('connecting');
  });
});

describe('the logs connection state', () => {
  it('is what the follower said last, even when it said it while starting (a host that cannot even be reached)', () => {
    const host = new ScriptedHost();
    host.stream = () => {
      throw new CommandError({ kind: 'lab', host: 'lab', argv: [], message: 'the lab at /nowhere is not running' });
    };
    const { store } = makeStore({ host });
    store.getState().actions.setPane('logs');
    expect(store.getState().logs.connection).toBe('reconnecting');
    expect(store.getState().logs.waitingSince).toBeNull();
    expect(store.getState().logs.lastEvent?.text).toMatch(/journal connection lost \(the lab at \/nowhere is not running\); reconnecting in/);
    void store.getState().actions.closeLogs();
  });
});
