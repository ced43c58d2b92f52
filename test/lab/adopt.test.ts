// Adopting the hand-started process (a lab of this file's own): production's port handed from
// the V1 process started by hand to mcp-coordination.service, the service down for seconds and
// never left down. While the unit cannot serve (its ReadWritePaths= as the incident has it), the
// health gate fails and the rollback starts the process again by itself, from its recorded
// command line, cwd and environment; once the unit is fixed, the adoption holds, and its undo
// serves from the hand-started process again. Secrets in its environment are never printed.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Finding } from '../../src/core/doctor/finding.js';
import { readLaunch, type Launch } from '../../src/core/ops/relaunch.js';
import { dropInDirectory } from '../../src/core/ops/plans.js';
import { probeHealth } from '../../src/core/status/health.js';
import { listListeners } from '../../src/core/systemd/listeners.js';
import { showUnits } from '../../src/core/systemd/units.js';
import { describeLab, labContext, opsdeck, privateLab } from '../support/lab.js';
import { PORT_OFFSETS, privatePortBase } from '../support/lab-constants.js';
import { until } from '../support/until.js';

const UNIT = 'mcp-coordination.service';
const OFFSET = PORT_OFFSETS.adopt;
const PORT = privatePortBase(OFFSET);
/** In the hand-started process's environment (it inherits ours): must survive a restart, and never be printed. */
const SECRET = `adopt-test-token-${process.pid}-s3cr3t`;

let lab: Awaited<ReturnType<typeof privateLab>> | undefined;
let work = '';
let original: Launch;
const env = () => ({ OPSDECK_AUDIT_LOG: path.join(work, 'audit.jsonl') });
const cli = (args: string[], timeout = 120_000) => opsdeck([...args, '--config', lab!.config], { env: env(), timeout });
const stateDir = () => path.join(lab!.state.dir, 'state');

function context() {
  const { config, hosts } = labContext(lab!.config);
  return { config, hosts, host: hosts.get('lab') };
}

/** Who serves the port now: the PID, its unit, how it was started; null when nobody does. */
async function server(): Promise<{ pid: number; unit: string | null; launch: Launch } | null> {
  const { hosts, host } = context();
  try {
    const holder = (await listListeners(host)).find((l) => l.port === PORT && l.pid !== null);
    if (!holder) return null;
    const launch = await readLaunch(host, holder.pid!);
    return launch ? { pid: holder.pid!, unit: holder.unit, launch } : null;
  } finally {
    await hosts.closeAll();
  }
}

async function healthy(): Promise<boolean> {
  const { config, hosts, host } = context();
  try {
    return (await probeHealth(host, config.environments.production!.health!)).ok;
  } finally {
    await hosts.closeAll();
  }
}

async function lastAdoption(): Promise<string> {
  const ops = JSON.parse((await cli(['ops', 'production', '--json', '--all'])).stdout) as Array<{ id: string; title: string }>;
  return ops.find((o) => o.title.startsWith('adopt'))!.id;
}

/** The same process, started again: argv and cwd exactly, every variable of its environment. */
function expectSameLaunch(launch: Launch): void {
  expect(launch.argv).toEqual(original.argv);
  expect(launch.cwd).toBe(original.cwd);
  expect([launch.uid, launch.gid]).toEqual([original.uid, original.gid]);
  const names = /^[A-Za-z_][A-Za-z0-9_]*=/;
  expect(launch.environ).toEqual(expect.arrayContaining(original.environ.filter((e) => names.test(e))));
}

/** Nothing opsdeck printed, logged or journaled holds the secret value. */
function expectSecretKept(...outputs: string[]): void {
  for (const out of outputs) expect(out).not.toContain(SECRET);
  const audit = path.join(work, 'audit.jsonl');
  if (existsSync(audit)) expect(readFileSync(audit, 'utf8')).not.toContain(SECRET);
}

describeLab('adopting the hand-started process', () => {
  beforeAll(async () => {
    work = mkdtempSync('/var/tmp/opsdeck-adopt-test-');
    process.env.OPSDECK_ADOPT_TEST_TOKEN = SECRET;
    lab = await privateLab('adopt', OFFSET);
    const first = await server();
    expect(first).toMatchObject({ unit: null });
    original = first!.launch;
    expect(original.environ).toContain(`OPSDECK_ADOPT_TEST_TOKEN=${SECRET}`);
  }, 120_000);
  afterAll(async () => {
    delete process.env.OPSDECK_ADOPT_TEST_TOKEN;
    await lab?.down();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('offers to adopt the process that serves, and previews it with the environment redacted', async () => {
    const report = await cli(['doctor', 'production', '--json']);
    const finding = (JSON.parse(report.stdout) as { findings: Finding[] }).findings.find((f) => f.id === `production/port-unmanaged:${PORT}`)!;
    expect(finding.fix?.plan).toEqual({ kind: 'adopt', environment: 'production', unit: UNIT, pid: (await server())!.pid, port: PORT });
    const dry = await cli(['doctor', '--fix', `production/port-unmanaged:${PORT}`, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('OPSDECK_ADOPT_TEST_TOKEN=…');
    expect(dry.stdout).toMatch(/systemd-run --unit=opsdeck-readopt-/);
    expect(dry.stdout).toMatch(/health gate: mcp-coordination\.service active/);
    expectSecretKept(report.stdout, dry.stdout, dry.stderr);
  }, 60_000);

  it('the unit cannot serve (ReadWritePaths=): the gate fails and the rollback starts the process again by itself', async () => {
    const before = (await server())!;
    const started = Date.now();
    const fix = await cli(['doctor', '--fix', `production/port-unmanaged:${PORT}`, '--yes']);
    expect(fix.code).not.toBe(0);
    expect(fix.stdout + fix.stderr).toMatch(/rolled back/);
    const id = await lastAdoption();
    // Served again within seconds of the rollback, by the same command, cwd and environment, now in a transient unit.
    await until('the port served again', async () => (await server()) !== null, { timeoutMs: 15_000, everyMs: 250 });
    const again = (await server())!;
    expect(again.pid).not.toBe(before.pid);
    expect(again.unit).toBe(`opsdeck-readopt-${id}.service`);
    expectSameLaunch(again.launch);
    await until('health OK', healthy, { timeoutMs: 15_000, everyMs: 250 });
    expect(Date.now() - started).toBeLessThan(90_000);
    const shown = await cli(['ops', 'show', id, '--json']);
    expect(JSON.parse(shown.stdout)).toMatchObject({ status: 'rolled-back' });
    // The values are on the host only, in the operation's private directory.
    const envFile = path.join(stateDir(), 'ops', id, 'backup', '1');
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(envFile, 'utf8')).toContain(`OPSDECK_ADOPT_TEST_TOKEN='${SECRET}'`);
    expect(shown.stdout).toContain('OPSDECK_ADOPT_TEST_TOKEN');
    expectSecretKept(fix.stdout, fix.stderr, shown.stdout);
    // The unit is left as it was: crash-looping, not holding the port.
    const { hosts, host } = context();
    const unit = (await showUnits(host, [UNIT])).get(UNIT)!;
    await hosts.closeAll();
    // (Between two crashes a Type=simple unit is briefly active/running: still its crash loop.)
    expect(unit.crashLooping || ['activating', 'failed', 'inactive'].includes(unit.activeState)).toBe(true);
    expect((await server())?.unit).not.toBe(UNIT);
  }, 150_000);

  it('with ReadWritePaths= fixed, the adoption holds; its undo serves from the hand-started process again', async () => {
    // The sandbox fixed by hand (a drop-in, daemon-reload): the unit still loops, now on EADDRINUSE, until the port is handed over.
    const { hosts, host } = context();
    const dir = `${await dropInDirectory(host)}/${UNIT}.d`;
    await host.run(['mkdir', '-p', dir]);
    await host.run(['sh', '-c', `printf '[Service]\\nReadWritePaths=%s\\n' "$1" > "$2"`, 'sh', original.environ.find((e) => e.startsWith('DATA_DIR='))!.slice('DATA_DIR='.length), `${dir}/adopt-test.conf`]);
    await host.run(['systemctl', 'daemon-reload']);
    await hosts.closeAll();

    const fix = await cli(['doctor', '--fix', `production/port-unmanaged:${PORT}`, '--yes']);
    expect(fix.stdout).toMatch(/✓ adopt PID \d+ into mcp-coordination\.service .*: done/);
    expect(fix.code).toBe(0);
    const adopted = (await server())!;
    expect(adopted.unit).toBe(UNIT);
    const c = context();
    const unit = (await showUnits(c.host, [UNIT])).get(UNIT)!;
    await c.hosts.closeAll();
    expect(unit).toMatchObject({ activeState: 'active', subState: 'running', mainPid: adopted.pid });
    expect(await healthy()).toBe(true);

    const id = await lastAdoption();
    const back = await cli(['ops', 'rollback', id, '--yes']);
    expect(back.stdout).toMatch(/rolled back/);
    expect(back.code).toBe(0);
    const again = (await server())!;
    expect(again.unit).toBe(`opsdeck-readopt-${id}.service`);
    expectSameLaunch(again.launch);
    await until('health OK', healthy, { timeoutMs: 15_000, everyMs: 250 });
    expectSecretKept(fix.stdout, fix.stderr, back.stdout, back.stderr);
  }, 150_000);
});
