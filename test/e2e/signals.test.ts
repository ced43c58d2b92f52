// Signals on every exit path: over ssh, the console and `logs -f` close their ssh master
// connection (and with it the remote `journalctl -f`), not only on `q`; with the pager open,
// Ctrl+C is the pager's and SIGTERM still ends opsdeck at once.
import { execa } from 'execa';
import { readdirSync, readlinkSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { readLabState } from '../../src/core/host/lab-state.js';
import { describeLab, opsdeckBin, sharedLabConfig } from '../support/lab.js';
import { SHARED_LAB_DIR } from '../support/lab-constants.js';
import { childrenOf, cmdline } from '../support/proc.js';
import { tmuxSession } from '../support/tmux.js';
import { until } from '../support/until.js';

const session = `opsdeck-signals-${process.pid}`;
const { waitFor, start, kill, display, keys } = tmuxSession(session);

/** ssh master connections opsdeck process `pid` started (their control path ends in -PID). */
function mastersOf(pid: number): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((p) => /^ssh: .*-\d+ \[mux\]/.test(cmdline(p)) && cmdline(p).includes(`-${pid} [mux]`));
}

/** `journalctl --follow` of development inside the shared lab (where the lab's sshd runs it). */
function remoteFollowers(): number[] {
  const lab = readLabState(SHARED_LAB_DIR)!;
  const ns = readlinkSync(`/proc/${lab.pid}/ns/pid`);
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((p) => {
    try {
      return readlinkSync(`/proc/${p}/ns/pid`) === ns && /journalctl .*--follow.*mcp-coordination-dev\.service/.test(cmdline(p)) && !cmdline(p).startsWith('nsenter');
    } catch {
      return false;
    }
  });
}

describeLab('signals over ssh', () => {
  afterEach(async () => {
    await kill();
  });

  it('logs -f: SIGTERM closes the ssh master and the remote journalctl at once', async () => {
    const before = remoteFollowers();
    const child = execa(process.execPath, [opsdeckBin, 'logs', 'development', '-f', '--host', 'lab-ssh', '--config', sharedLabConfig()], { reject: false, env: { NO_COLOR: '1' } });
    await until('the remote follower', () => remoteFollowers().some((p) => !before.includes(p)), { everyMs: 100 });
    await until('its master connection', () => mastersOf(child.pid!).length > 0, { everyMs: 100 });
    child.kill('SIGTERM');
    expect((await child).exitCode).toBe(143);
    // Not after ControlPersist's minute: now.
    await until('no master left', () => mastersOf(child.pid!).length === 0, { timeoutMs: 3000, everyMs: 100 });
    await until('no remote journalctl left', () => remoteFollowers().every((p) => before.includes(p)), { timeoutMs: 3000, everyMs: 100 });
  });

  for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
    it(`the console with the logs pane open: ${signal} closes them too`, async () => {
      const before = remoteFollowers();
      await start(`node ${opsdeckBin} --host lab-ssh --config ${sharedLabConfig()}; echo EXITED-$?; sleep 600`);
      await waitFor(/CRASH-LOOP/, 20_000);
      const shell = Number(await display('#{pane_pid}'));
      const node = childrenOf(shell).find((pid) => cmdline(pid).includes('opsdeck.js'))!;
      await keys('j', '4');
      await waitFor(/development: .* on lab-ssh/);
      await until('the remote follower', () => remoteFollowers().some((p) => !before.includes(p)), { everyMs: 100 });
      expect(mastersOf(node).length).toBeGreaterThan(0);
      process.kill(node, signal);
      await waitFor(signal === 'SIGTERM' ? /EXITED-143/ : /EXITED-129/);
      await until('no master left', () => mastersOf(node).length === 0, { timeoutMs: 3000, everyMs: 100 });
      await until('no remote journalctl left', () => remoteFollowers().every((p) => before.includes(p)), { timeoutMs: 3000, everyMs: 100 });
    });
  }

  it('the pager owns Ctrl+C, and SIGTERM ends opsdeck (and the pager) without waiting for it', async () => {
    await start(`node ${opsdeckBin} --config ${sharedLabConfig()}; echo EXITED-$?; sleep 600`);
    await waitFor(/CRASH-LOOP/);
    const shell = Number(await display('#{pane_pid}'));
    const node = childrenOf(shell).find((pid) => cmdline(pid).includes('opsdeck.js'))!;
    const pagerOf = () => childrenOf(node).find((pid) => cmdline(pid).startsWith('less'));
    await keys('4');
    await waitFor(/● following/);
    await keys('o');
    await until('the pager', () => pagerOf() !== undefined, { everyMs: 100 });
    await keys('C-c');
    // Ctrl+C went to less, which stays; opsdeck too: quitting less brings the console back
    // (had Ctrl+C ended opsdeck, the shell would say EXITED-130 instead).
    await keys('q');
    const back = await waitFor(/● following|EXITED-/);
    expect(back).toMatch(/● following/);
    expect(pagerOf()).toBeUndefined();
    await keys('o');
    await until('the pager again', () => pagerOf() !== undefined, { everyMs: 100 });
    const less = pagerOf()!;
    process.kill(node, 'SIGTERM');
    await waitFor(/EXITED-143/, 5000);
    expect(await display('#{alternate_on}')).toBe('0');
    expect(cmdline(less)).toBe('');
  });
});
