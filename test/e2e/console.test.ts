// The built `opsdeck` in a real terminal (tmux, 120x40) against a lab of its own.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeLab, opsdeckBin, privateLab } from '../support/lab.js';
import { tmuxSession } from '../support/tmux.js';
import { PORT_OFFSETS, privatePortBase } from '../support/lab-constants.js';

const session = `opsdeck-e2e-${process.pid}`;
const audit = '/var/lib/opsdeck-test-e2e-audit.jsonl';
let lab: Awaited<ReturnType<typeof privateLab>> | undefined;

const { screen, keys, waitFor, start, kill, display } = tmuxSession(session);

function auditLines(): Array<Record<string, unknown>> {
  if (!existsSync(audit)) return [];
  return readFileSync(audit, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

describeLab('the console in a real terminal', () => {
  beforeAll(async () => {
    rmSync(audit, { force: true });
    lab = await privateLab('e2e', PORT_OFFSETS.e2e);
    // Give the crash loop a restart or two before the first frame.
    await new Promise((r) => setTimeout(r, 3500));
  });
  afterAll(async () => {
    await kill();
    await lab?.down();
    rmSync(audit, { force: true });
  });

  it('shows the incident, helps, confirms actions exactly, audits them, and leaves the terminal as it was', async () => {
    const command = `echo BEFORE-OPSDECK; env CI=true OPSDECK_AUDIT_LOG=${audit} node ${opsdeckBin} --config ${lab!.config}; echo EXITED-$?; sleep 600`;
    await start(command);

    // First frame: production crash-looping, its port held by an unmanaged PID.
    const first = await waitFor(/CRASH-LOOP/);
    expect(first).toMatch(/PRODUCTION: production/);
    // Its sub-state is whatever phase of the loop the frame caught (auto-restart, or briefly running).
    expect(first).toMatch(/production PROD\s+✗ CRASH-LOOP [a-z-]+/);
    expect(first).toMatch(new RegExp(`${privatePortBase(PORT_OFFSETS.e2e)} ✗ PID \\d+ no unit`));
    expect(first.split('\n').length).toBeLessThanOrEqual(40);

    await keys('?');
    await waitFor(/Keys \(dimmed/);
    expect(await screen()).toMatch(/restart the unit/);
    await keys('Escape');
    await waitFor(/CRASH-LOOP/);

    // Development: a plain confirmation naming the exact command.
    await keys('j');
    await waitFor(/opsdeck {2}development/);
    await keys('r');
    const confirm = await waitFor(/Confirm: restart mcp-coordination-dev\.service[\s\S]*Proceed\? y: yes/);
    expect(confirm).toMatch(/\$ systemctl restart --no-ask-password -- mcp-coordination-dev\.service/);
    expect(confirm).toMatch(/Proceed\? y: yes/);
    await keys('y');
    await waitFor(/✓ restart mcp-coordination-dev\.service: done/);
    const devLine = auditLines().find((l) => l.environment === 'development' && l.outcome !== 'started');
    expect(devLine).toMatchObject({ action: 'restart mcp-coordination-dev.service', exitCode: 0, outcome: 'ok', host: 'lab', argv: ['systemctl', 'restart', '--no-ask-password', '--', 'mcp-coordination-dev.service'] });
    await keys('Escape');

    // Production: typing "y" does nothing; only its name confirms.
    await keys('k');
    await waitFor(/PRODUCTION: production/);
    await keys('r');
    await waitFor(/Type production to confirm/);
    await keys('y');
    await waitFor(/Type production to confirm: y/);
    await keys('Enter');
    await waitFor(/type production exactly/);
    expect(auditLines().filter((l) => l.environment === 'production')).toEqual([]);
    await keys('BSpace');
    await keys('-l', 'production');
    await waitFor(/✓ Enter to run/);
    await keys('Enter');
    await waitFor(/restart mcp-coordination\.service: (done|failed)/);
    expect(auditLines().find((l) => l.environment === 'production')).toMatchObject({ confirmedBy: 'typed-name', action: 'restart mcp-coordination.service' });
    await keys('Escape');

    // Processes: the port row shows the unmanaged holder; `a` lists every service of the host.
    await keys('2');
    const processes = await waitFor(/listening ports/);
    expect(processes).toMatch(new RegExp(`127\\.0\\.0\\.1:${privatePortBase(PORT_OFFSETS.e2e)}\\s+lab\\s+\\d+\\s+✗ no unit \\(started by hand\\?\\)`));
    expect(processes).not.toMatch(/systemd-journald/);
    // K on the port row: the preview says what the PID is before anything is asked.
    await keys('/');
    await keys('-l', String(privatePortBase(PORT_OFFSETS.e2e)));
    await keys('Enter');
    await waitFor(new RegExp(`filter: ${privatePortBase(PORT_OFFSETS.e2e)}`));
    await keys('K');
    const kill = await waitFor(/Confirm: kill PID \d+[\s\S]*Type production to confirm/); // the preview read, not only the title
    expect(kill).toMatch(/command: .*node .*\/srv\/production\/server\.mjs/);
    expect(kill).toMatch(/cwd: \//);
    expect(kill).toMatch(/unit: none \(started by hand\?\)/);
    expect(kill).toMatch(/Type production to confirm/);
    await keys('Escape');
    await keys('/');
    await keys('Escape');
    await waitFor(/listening ports/);
    await keys('a');
    await waitFor(/systemd-journald\.service/);
    await keys('/');
    await keys('-l', 'journald');
    await keys('Enter');
    const filtered = await waitFor(/filter: journald/);
    expect(filtered).not.toMatch(/mcp-coordination-dev\.service/);

    await keys('q');
    const after = await waitFor(/EXITED-0/);
    expect(after).toMatch(/BEFORE-OPSDECK/);
    expect(after).not.toMatch(/CRASH-LOOP/);
    const flags = await display('#{alternate_on} #{cursor_flag}');
    expect(flags).toBe('0 1');
  });
});
