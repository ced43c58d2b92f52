// How the console treats the terminal: no TTY, NO_COLOR, and a dropped SSH session (SIGHUP).
import { afterEach, describe, expect, it } from 'vitest';
import { describeLab, opsdeck, opsdeckBin, sharedLabConfig } from '../support/lab.js';
import { childrenOf, cmdline, descendants } from '../support/proc.js';
import { tmuxSession } from '../support/tmux.js';
import { until } from '../support/until.js';

const session = `opsdeck-term-${process.pid}`;
const { screen, waitFor, start: startSession, kill, display, keys } = tmuxSession(session);

async function consolePid(): Promise<number> {
  const shell = Number(await display('#{pane_pid}'));
  return childrenOf(shell).find((pid) => cmdline(pid).includes('opsdeck.js'))!;
}

/** The logs pane's journalctl --follow below the console (not the short reads the status makes of a failing unit). */
const followers = (node: number) => descendants(node).filter((pid) => cmdline(pid).includes('journalctl') && cmdline(pid).includes('--follow'));

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
    const node = await consolePid();
    expect(node).toBeGreaterThan(0);
    // With the logs pane open, a journalctl follower is running too.
    await keys('4');
    await waitFor(/● following/);
    // The pane says "following" once the follow is asked for; on a busy machine its process shows in /proc a moment later.
    await until('the journalctl follower to run', () => followers(node).length > 0, { timeoutMs: 15_000, everyMs: 50 });
    const running = followers(node);
    process.kill(node, 'SIGHUP');
    await waitFor(/EXITED-129/);
    const flags = await display('#{alternate_on} #{cursor_flag}');
    expect(flags).toBe('0 1');
    expect(childrenOf(node)).toEqual([]);
    for (const pid of running) expect(cmdline(pid)).not.toMatch(/journalctl/);
  });

  it('follows the journal, survives the follower being killed without losing or repeating a line, and stops it when leaving', async () => {
    await start('');
    await waitFor(/CRASH-LOOP/);
    const node = await consolePid();
    await keys('4');
    await waitFor(/FATAL: cannot write state[\s\S]*● following|● following[\s\S]*FATAL: cannot write state/);
    // The counts come from a journalctl of their own, which may answer after the follow does.
    await waitFor(/today: \d+ errors?/);
    // journalctl itself (inside the lab, below nsenter) is ours, a descendant of the console
    // we started: kill it by PID, as if it had crashed.
    await until('the follower to run', () => followers(node).some((pid) => cmdline(pid).startsWith('journalctl')), { timeoutMs: 15_000, everyMs: 50 });
    const journalctl = followers(node).find((pid) => cmdline(pid).startsWith('journalctl'));
    process.kill(journalctl!, 'SIGKILL');
    await waitFor(/reconnected after [\d.]+ s; resumed after the last line received \(nothing lost, nothing repeated\)/, 15_000);
    await waitFor(/● following/);
    await until('the follower to run again', () => followers(node).length > 0, { timeoutMs: 15_000, everyMs: 50 });
    await keys('1');
    await waitFor(/▸1 environments/);
    await until('the follower to stop once the logs pane is left', () => followers(node).length === 0, { timeoutMs: 10_000, everyMs: 50 });
    await keys('q');
    await waitFor(/EXITED-0/);
  });
});
