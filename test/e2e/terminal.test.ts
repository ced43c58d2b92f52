// How the console treats the terminal: no TTY, NO_COLOR, and a dropped SSH session (SIGHUP).
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { describeLab, opsdeck, opsdeckBin, sharedLabConfig } from '../support/lab.js';

const session = `opsdeck-term-${process.pid}`;
const tmux = (...args: string[]) => execa('tmux', args, { reject: false });
const screen = async (escapes = false) => String((await tmux('capture-pane', '-t', session, '-p', ...(escapes ? ['-e'] : []))).stdout);

async function waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = await screen();
    if (pattern.test(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`screen never matched ${pattern}:\n${last}`);
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function start(prefix: string): Promise<unknown> {
  return tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '40', `${prefix} node ${opsdeckBin} --config ${sharedLabConfig()}; echo EXITED-$?; sleep 600`);
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
    await tmux('kill-session', '-t', session);
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
    const shell = Number(String((await tmux('display-message', '-p', '-t', session, '#{pane_pid}')).stdout).trim());
    const node = childrenOf(shell).find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('opsdeck.js'))!;
    expect(node).toBeGreaterThan(0);
    process.kill(node, 'SIGHUP');
    await waitFor(/EXITED-129/);
    const flags = String((await tmux('display-message', '-p', '-t', session, '#{alternate_on} #{cursor_flag}')).stdout).trim();
    expect(flags).toBe('0 1');
    expect(childrenOf(node)).toEqual([]);
  });
});
