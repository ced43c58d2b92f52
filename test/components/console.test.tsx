// The console rendered with ink-testing-library, fed a status report recorded from the lab.
import { existsSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { unitOperation } from '../../src/core/ops/plans.js';
import { makeStore, renderConsole, settle } from '../support/console.js';

describe('the console', () => {
  it('shows production crash-looping and its port held by an unmanaged PID, with the production cue', () => {
    const { store } = makeStore();
    const { lastFrame, unmount } = renderConsole(store);
    const frame = lastFrame()!;
    expect(frame).toMatch(/PRODUCTION: production/);
    expect(frame).toMatch(/production PROD\s+✗ CRASH-LOOP auto-restart\s+\d+/);
    expect(frame).toMatch(/3444 ✗ PID \d+ no unit/);
    expect(frame).toMatch(/development\s+active\/running/);
    expect(frame).toMatch(/✗ port 3444 is held by PID \d+/);
    // The column header sits right above the rows.
    expect(frame).toMatch(/ENVIRONMENT\s+STATE\s+RESTARTS\s+HEALTH.*\n.*▶ production PROD/);
    unmount();
  });

  it('keeps the frame shorter than the terminal', () => {
    const { store } = makeStore();
    const { lastFrame, unmount } = renderConsole(store);
    expect(lastFrame()!.split('\n').length).toBeLessThan(24);
    unmount();
  });

  it('switches panes with Tab and digits, and shows only the keys that work there', async () => {
    const { store } = makeStore();
    const { lastFrame, stdin, unmount } = renderConsole(store);
    stdin.write('\t');
    await settle();
    expect(lastFrame()).toMatch(/▸2 processes/);
    expect(lastFrame()).toMatch(/mcp-coordination-dev\.service/);
    expect(lastFrame()).toMatch(/listening ports/);
    expect(lastFrame()).toMatch(/a all services/);
    stdin.write('3');
    await settle();
    expect(lastFrame()).toMatch(/production: 6 archives in \/var\/lib\/opsdeck-lab\/srv\/production-data-backups/);
    expect(lastFrame()).not.toMatch(/a all services/);
    unmount();
  });

  it('opens help generated from the key registry: every key on a large terminal, those that work here on a small one, never past its edges', async () => {
    const { store } = makeStore();
    const { lastFrame, stdin, stdout, unmount } = renderConsole(store);
    const size = async (columns: number, rows: number) => {
      Object.defineProperty(stdout, 'columns', { value: columns, configurable: true });
      Object.defineProperty(stdout, 'rows', { value: rows, configurable: true });
      stdout.emit('resize');
      await settle();
    };
    await size(160, 60);
    stdin.write('?');
    await settle();
    expect(lastFrame()).toMatch(/Keys \(dimmed: not available here/);
    expect(lastFrame()).toMatch(/restart the unit/);
    expect(lastFrame()).toMatch(/kill the PID/);
    await size(80, 24);
    const small = lastFrame()!;
    expect(small).toMatch(/Keys that work here/);
    expect(small).toMatch(/restart the unit/);
    expect(small).not.toMatch(/kill the PID/); // the processes pane's
    const lines = small.split('\n');
    expect(lines.length).toBeLessThanOrEqual(24);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
    stdin.write('x');
    await settle();
    expect(lastFrame()).not.toMatch(/Keys that work here/);
    unmount();
  });

  it('asks a protected environment to type its name, showing the exact command', async () => {
    const { store } = makeStore();
    const { lastFrame, stdin, unmount } = renderConsole(store);
    stdin.write('r');
    await settle();
    expect(lastFrame()).toMatch(/Confirm: restart mcp-coordination\.service/);
    // The preview is read from the host: it follows the dialog's title.
    await vi.waitFor(() => expect(lastFrame()).toMatch(/\$ systemctl restart --no-ask-password -- mcp-coordination\.service/));
    expect(lastFrame()).toMatch(/Type production to confirm/);
    stdin.write('y');
    await settle();
    stdin.write('\r');
    await settle();
    // "y" is not the name: nothing runs, the dialog stays.
    expect(store.getState().overlay?.kind).toBe('confirm');
    expect(lastFrame()).toMatch(/type production exactly/);
    stdin.write('\x1b');
    await settle(80);
    expect(store.getState().overlay).toBeNull();
    unmount();
  });

  it('takes no confirmation from a pasted chunk: its name and Enter pasted together run nothing', async () => {
    const { store } = makeStore();
    const { lastFrame, stdin, unmount } = renderConsole(store);
    stdin.write('r');
    await vi.waitFor(() => expect(lastFrame()).toMatch(/\$ systemctl restart/));
    stdin.write('production\r');
    await settle();
    expect(store.getState().overlay?.kind).toBe('confirm');
    expect(lastFrame()).toMatch(/a pasted key does not confirm/);
    stdin.write('\x1b');
    await settle(80);
    expect(store.getState().overlay).toBeNull();
    unmount();
  });

  it('hides mutating keys in read-only mode and says so', async () => {
    const { store } = makeStore({ readonly: true });
    const { lastFrame, stdin, unmount } = renderConsole(store);
    expect(lastFrame()).toMatch(/READ-ONLY/);
    expect(lastFrame()).not.toMatch(/r restart/);
    stdin.write('r');
    await settle();
    expect(store.getState().overlay).toBeNull();
    expect(lastFrame()).toMatch(/read-only: restart the unit is not available/);
    unmount();
  });

  it('finds an environment in the command palette', async () => {
    const { store } = makeStore();
    const { lastFrame, stdin, unmount } = renderConsole(store);
    stdin.write(':');
    await settle();
    stdin.write('dev');
    await settle();
    expect(lastFrame()).toMatch(/▶ env development/);
    stdin.write('\r');
    await settle();
    expect(store.getState().selectedEnv).toBe('development');
    unmount();
  });

  it('applies key overrides from the config', async () => {
    const { store } = makeStore({ keys: { restart: 'ctrl+t' } });
    const { stdin, unmount } = renderConsole(store);
    stdin.write('r');
    await settle();
    expect(store.getState().overlay).toBeNull();
    stdin.write('\x14'); // Ctrl+T
    await settle();
    expect(store.getState().overlay?.kind).toBe('confirm');
    unmount();
  });

  it('keeps the header on one line at 80 columns: only the hosts and config path give way', async () => {
    const { store } = makeStore();
    store.setState({ configFile: '/var/lib/opsdeck-lab/some/long/path/to/opsdeck.yaml' });
    const { lastFrame, unmount, stdout } = renderConsole(store);
    Object.defineProperty(stdout, 'columns', { value: 80, configurable: true });
    stdout.emit('resize');
    await settle();
    const header = lastFrame()!.split('\n')[0]!;
    expect(header).toMatch(/^opsdeck {2}PRODUCTION: production {3}hosts lab · \/var\/lib\/.*… refresh 42 ms {2}\d\d:\d\d$/);
    expect(header).toHaveLength(80);
    expect(lastFrame()!.split('\n')[1]).toMatch(/^ ▸1 environments/);
    unmount();
  });

  it('says the terminal is too small, and then no key acts: nothing runs unseen', async () => {
    const { store, auditFile } = makeStore();
    const { lastFrame, unmount, stdout, stdin } = renderConsole(store);
    stdin.write('j'); // development, which asks only for `y`
    await settle();
    Object.defineProperty(stdout, 'columns', { value: 50, configurable: true });
    stdout.emit('resize');
    await settle();
    expect(lastFrame()).toMatch(/terminal too small: 50x/);
    stdin.write('r');
    await settle();
    stdin.write('y');
    await settle();
    expect(store.getState().overlay).toBeNull();
    expect(existsSync(auditFile)).toBe(false);
    // With room again, the same key opens the preview first.
    Object.defineProperty(stdout, 'columns', { value: 100, configurable: true });
    stdout.emit('resize');
    await settle();
    stdin.write('r');
    await settle();
    expect(lastFrame()).toMatch(/Confirm: restart mcp-coordination-dev\.service/);
    unmount();
  });

  it('acts on the highlighted environment, also after filtering', async () => {
    const { store } = makeStore();
    const { lastFrame, stdin, unmount } = renderConsole(store);
    stdin.write('j');
    await settle();
    expect(store.getState().selectedEnv).toBe('development');
    stdin.write('/');
    stdin.write('PROD');
    stdin.write('\r');
    await settle();
    expect(store.getState().selectedEnv).toBe('production');
    expect(lastFrame()).toMatch(/▶ production PROD/);
    stdin.write('x');
    await settle();
    expect(lastFrame()).toMatch(/Confirm: stop mcp-coordination\.service/);
    unmount();
  });

  it('never lets one pasted chunk both open a confirmation and answer it', async () => {
    const { store } = makeStore();
    const { stdin, unmount } = renderConsole(store);
    stdin.write('j');
    await settle();
    stdin.write('xy');
    await settle();
    expect(store.getState().overlay?.kind).toBe('confirm');
    unmount();
  });

  it('keeps an operation\'s result on screen until Enter, Esc, q or Space, and says so', async () => {
    const { store } = makeStore();
    const { lastFrame, stdin, unmount } = renderConsole(store);
    const op = unitOperation('restart', 'mcp-coordination-dev.service', { host: 'lab', environment: 'development', environments: ['development'], protected: false, phrase: null });
    const result = { id: op.id, status: 'finished' as const, ok: true, summary: 'restart mcp-coordination-dev.service: done in 26 ms', failedStep: null, error: null, stderr: '', journal: [], auditError: null, durationMs: 26 };
    store.setState({
      overlay: { kind: 'operation' },
      operation: { op, mode: 'run', steps: [{ state: 'done', durationMs: 26, error: null }], current: null, output: [], unitJournal: [], gate: null, progress: null, failure: null, result, asking: false, startedAt: Date.now() - 26 },
    });
    await settle();
    expect(lastFrame()).toMatch(/✓ 1\. systemctl restart mcp-coordination-dev\.service +26 ms/);
    expect(lastFrame()).toMatch(/done in 26 ms/);
    expect(lastFrame()).toMatch(/Enter\/Esc\/q\/Space: close/);
    stdin.write('r'); // typed ahead: not a dismissal
    await settle();
    expect(store.getState().overlay?.kind).toBe('operation');
    stdin.write('\r');
    await settle();
    expect(store.getState().overlay).toBeNull();
    unmount();
  });
});
