// Mutating verbs from a script: previewed/refused/confirmed as they should be, and audited.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { collectStatus } from '../../src/core/status/collect.js';
import { describeLab, labContext, opsdeck, privateLab } from '../support/lab.js';
import { PORT_OFFSETS } from '../support/lab-constants.js';

const audit = '/var/lib/opsdeck-test-actions-audit.jsonl';
let lab: Awaited<ReturnType<typeof privateLab>> | undefined;
const env = () => ({ OPSDECK_AUDIT_LOG: audit });
const lines = () => (existsSync(audit) ? readFileSync(audit, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);

describeLab('unit and kill verbs', () => {
  beforeAll(async () => {
    rmSync(audit, { force: true });
    lab = await privateLab('actions', PORT_OFFSETS.actions);
  });
  afterAll(async () => {
    await lab?.down();
    rmSync(audit, { force: true });
  });

  it('refuses without a terminal and without --yes, changing nothing', async () => {
    const { code, stderr } = await opsdeck(['unit', 'stop', 'development', '--config', lab!.config], { env: env() });
    expect(code).toBe(2);
    expect(stderr).toMatch(/refusing to stop mcp-coordination-dev\.service on host lab without confirmation/);
    expect(stderr).toMatch(/pass --yes/);
    // Nothing ran, and the refusal is on record.
    expect(lines()).toMatchObject([{ outcome: 'refused', action: 'stop mcp-coordination-dev.service', confirmedBy: 'none', exitCode: null, stderr: expect.stringMatching(/without confirmation/) }]);
  });

  it('refuses in read-only mode', async () => {
    const { code, stderr } = await opsdeck(['unit', 'restart', 'development', '--yes', '--readonly', '--config', lab!.config], { env: env() });
    expect(code).toBe(2);
    expect(stderr).toMatch(/read-only mode/);
    expect(lines().at(-1)).toMatchObject({ outcome: 'refused', action: 'restart mcp-coordination-dev.service', stderr: expect.stringMatching(/read-only/) });
  });

  it('stops and starts development with --yes, each in the audit log (0600) with its exact argv', async () => {
    const stop = await opsdeck(['unit', 'stop', 'development', '--yes', '--config', lab!.config], { env: env() });
    expect(stop.code).toBe(0);
    expect(stop.stdout).toMatch(/✓ stop mcp-coordination-dev\.service: done/);
    expect(stop.stdout).toMatch(/undo: start mcp-coordination-dev\.service/);
    const { config, hosts } = labContext(lab!.config);
    expect((await collectStatus(config, hosts, ['development'])).environments[0]!.unit!.activeState).toBe('inactive');
    expect((await opsdeck(['unit', 'start', 'mcp-coordination-dev.service', '--yes', '--config', lab!.config], { env: env() })).code).toBe(0);
    const records = lines().filter((l) => l.outcome !== 'refused');
    // Each step's intent is on record before it runs, its result after.
    expect(records.map((l) => l.outcome)).toEqual(['started', 'ok', 'started', 'ok']);
    expect(records[0]).toMatchObject({ action: 'stop mcp-coordination-dev.service', exitCode: null, argv: records[1].argv });
    const [first, second] = records.filter((l) => l.outcome !== 'started');
    expect(first).toMatchObject({ action: 'stop mcp-coordination-dev.service', environment: 'development', host: 'lab', exitCode: 0, outcome: 'ok', confirmedBy: '--yes', argv: ['systemctl', 'stop', '--no-ask-password', '--', 'mcp-coordination-dev.service'] });
    expect(first.wrappedArgv.slice(0, 2)).toEqual(['nsenter', '-t']);
    // Named by its unit, it is still the development environment's.
    expect(second).toMatchObject({ action: 'start mcp-coordination-dev.service', environment: 'development' });
    expect(readFileSync(audit) && (await import('node:fs')).statSync(audit).mode & 0o777).toBe(0o600);
  });

  it('reports a failing action with its exit code and stderr', async () => {
    const { code, stdout } = await opsdeck(['unit', 'reload', 'development', '--yes', '--config', lab!.config], { env: env() });
    expect(code).toBe(1);
    expect(stdout).toMatch(/✗ reload mcp-coordination-dev\.service: failed: .*\(exit code 3\): .*Job type reload is not applicable/);
    // One step that failed changed nothing: no rollback is suggested.
    expect(stdout).not.toMatch(/ops rollback/);
    expect(lines().at(-1)).toMatchObject({ outcome: 'failed', exitCode: 3 });
  });

  it('signals every process of a unit through systemd (`unit kill`)', async () => {
    const { code, stdout } = await opsdeck(['unit', 'kill', 'development', '--signal', 'CONT', '--yes', '--config', lab!.config], { env: env() });
    expect(code).toBe(0);
    expect(stdout).toMatch(/✓ kill mcp-coordination-dev\.service \(CONT\): done/);
    expect(lines().at(-1)).toMatchObject({ argv: ['systemctl', 'kill', '--no-ask-password', '--signal=SIGCONT', '--', 'mcp-coordination-dev.service'], outcome: 'ok' });
  });

  it('kills the hand-started process holding production\'s port: TERM first', async () => {
    const { config, hosts } = labContext(lab!.config);
    const before = await collectStatus(config, hosts, ['production']);
    const holder = before.environments[0]!.listeners[0]!;
    expect(holder.unit).toBeNull();
    const { code, stdout } = await opsdeck(['kill', String(holder.pid), '--env', 'production', '--grace', '3', '--yes', '--config', lab!.config], { env: env() });
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`✓ kill PID ${holder.pid}: done`));
    // The sample app exits on TERM, so KILL was not needed.
    expect(stdout).toMatch(new RegExp(`PID ${holder.pid} exited after TERM: no KILL needed`));
    const after = await collectStatus(config, hosts, ['production']);
    expect(after.environments[0]!.listeners.find((l) => l.pid === holder.pid)).toBeUndefined();
    expect(lines().at(-1)).toMatchObject({ action: `kill PID ${holder.pid}`, environment: 'production', argv: ['kill', '-s', 'TERM', '--', String(holder.pid)] });
  });
});
