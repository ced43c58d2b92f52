// The console's logs pane in a real terminal (tmux) against the shared lab: a hostile pattern
// applied to long lines is long work, and SIGTERM still ends the console promptly with the
// terminal restored and no journalctl left behind.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Host } from '../../src/core/host/host.js';
import { describeLab, labContext, opsdeckBin, sharedLabConfig } from '../support/lab.js';
import { childrenOf, cmdline, descendants } from '../support/proc.js';
import { tmuxSession } from '../support/tmux.js';

const session = `opsdeck-logs-${process.pid}`;
const { waitFor, start, kill, display, keys } = tmuxSession(session);
const unit = `opsdeck-test-hostile-${randomBytes(3).toString('hex')}.service`;
const LINES = 1000;
let host: Host;
let dir: string;

async function consolePid(): Promise<number> {
  const shell = Number(await display('#{pane_pid}'));
  return childrenOf(shell).find((pid) => cmdline(pid).includes('opsdeck.js'))!;
}

describeLab('the logs pane under a hostile pattern', () => {
  beforeAll(async () => {
    host = labContext().hosts.get('lab');
    // Long lines of "a" (under journald's 48K LineMax), then a marker once all are written.
    const script = `const l = "a".repeat(45000) + "!"; for (let i = 0; i < ${LINES}; i++) console.log(l); console.log("DONE");`;
    await host.run(['systemd-run', `--unit=${unit}`, '--quiet', '--collect', '--', process.execPath, '-e', script]);
    const until = Date.now() + 30_000;
    for (;;) {
      const last = await host.run(['journalctl', '--no-pager', '--quiet', '--lines=1', '--output=cat', `_SYSTEMD_UNIT=${unit}`]);
      if (last.stdout.trim() === 'DONE') break;
      if (Date.now() > until) throw new Error(`${unit} did not log its lines`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // A config with one environment: the unit above, on the shared lab.
    const lab = (parse(readFileSync(sharedLabConfig(), 'utf8')) as { hosts: { lab: { lab: string } } }).hosts.lab.lab;
    dir = mkdtempSync(path.join(tmpdir(), 'opsdeck-e2e-logs-'));
    writeFileSync(path.join(dir, 'opsdeck.yaml'), ['hosts:', '  lab:', '    transport: lab', `    lab: ${lab}`, 'environments:', '  hostile:', '    host: lab', `    unit: ${unit}`, ''].join('\n'));
  }, 60_000);

  afterAll(async () => {
    await kill();
    await host?.run(['systemctl', 'reset-failed', '--', unit], { okExitCodes: [0, 1, 5] }).catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ends on SIGTERM while it filters, restoring the terminal, leaving no journalctl', async () => {
    await start(`node ${opsdeckBin} --config ${path.join(dir, 'opsdeck.yaml')}; echo EXITED-$?; sleep 600`);
    await waitFor(/hostile/);
    const node = await consolePid();
    await keys('4');
    await waitFor(new RegExp(`${LINES + 1} lines|${LINES} lines`), 30_000);
    await keys('+');
    await keys('-l', '(a+)+$');
    await keys('Enter');
    // Each line costs the linear engine milliseconds: the filter is long work, shown as such.
    await waitFor(/filtering… \d+%/, 10_000);
    const followers = descendants(node).filter((pid) => cmdline(pid).includes('journalctl'));
    process.kill(node, 'SIGTERM');
    await waitFor(/EXITED-143/, 5000);
    expect(await display('#{alternate_on} #{cursor_flag}')).toBe('0 1');
    expect(childrenOf(node)).toEqual([]);
    for (const pid of followers) expect(cmdline(pid)).not.toMatch(/journalctl/);
  }, 90_000);
});
