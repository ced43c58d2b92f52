// How the console treats the terminal: no TTY, NO_COLOR, and a dropped SSH session (SIGHUP).
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { describeLab, opsdeck, opsdeckBin, sharedLabConfig } from '../support/lab.js';
import { tmuxSession } from '../support/tmux.js';

const session = `opsdeck-term-${process.pid}`;
const { screen, waitFor, start: startSession, kill, display } = tmuxSession(session);

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function start(prefix: string): Promise<unknown> {
  return startSession(`${prefix} node ${opsdeckBin} --config ${sharedLabConfig()}; echo EXITED-$?; sleep 600`);
}

describe('without a terminal', () => {
  it('says so, names the CLI verbs and exits 2 (no raw-mode stack trace)', async () => {
    const { code, stderr } = await opsdeck([]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/the console needs a terminal/);
    expect(stderr).toMatch(/opsdeck status, units, health/);
    expect(stderr).not.toMatch(/setRawMode|\n\s+at /);
  });
});

describeLab('in a terminal', () => {
  afterEach(async () => {
    await kill();
  });

  it('honours NO_COLOR: no colour codes, marks instead', async () => {
    await start('NO_COLOR=1');
    await waitFor(/CRASH-LOOP/);
    const raw = await screen(true);
    expect(raw).not.toMatch(/\x1b\[(3\d|4\d|9\d|38;|48;)/);
    expect(raw).toMatch(/✗ CRASH-LOOP/);
    expect(raw).toMatch(/production PROD/);
    expect(raw).toMatch(/▶ production/);
  });

  it('on SIGHUP (an SSH drop) restores the terminal and leaves no child behind', async () => {
    await start('');
    await waitFor(/CRASH-LOOP/);
    const shell = Number(await display('#{pane_pid}'));
    const node = childrenOf(shell).find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('opsdeck.js'))!;
    expect(node).toBeGreaterThan(0);
    process.kill(node, 'SIGHUP');
    await waitFor(/EXITED-129/);
    const flags = await display('#{alternate_on} #{cursor_flag}');
    expect(flags).toBe('0 1');
    expect(childrenOf(node)).toEqual([]);
  });
});
