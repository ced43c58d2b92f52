// Every finding of the doctor that the incident itself does not show, each caused for real on a
// lab of this file's own (real systemd, real units, nothing mocked): a stopped unit, a unit that
// failed, one that does not exist, a drop-in hiding its data dir (InaccessiblePaths=) or naming a
// missing one (226/NAMESPACE), a port held by another environment's unit, a hung service,
// backups missing, stale or unreadable, environments sharing a data dir, a port or a unit, a
// secret in a drop-in, a unit near its memory or tasks limit or held back by its CPU quota, a
// host that cannot be reached, a host tool that fails, ports whose holders an unprivileged user
// cannot see, and the host's failed and crash-looping services without a config. Each scenario
// checks the finding (code, severity, evidence, fix) and that nothing else is alarmed:
// development, untouched, has no finding above info, and production has only the incident's.
// Each undoes its cause, so the next starts from the lab as booted.
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stampOf } from '../../src/core/backups/policy.js';
import type { Finding } from '../../src/core/doctor/finding.js';
import { BACKUP_STALE_SEC } from '../../src/core/doctor/rules-service.js';
import { NEAR_LIMIT } from '../../src/core/doctor/rules-config.js';
import { CPU_MIN_PERIODS, CPU_THROTTLED_SHARE } from '../../src/core/doctor/rules-cpu.js';
import { loadConfig } from '../../src/config/load.js';
import { runDoctor } from '../../src/core/doctor/doctor.js';
import { HostRegistry } from '../../src/core/host/registry.js';
import { collectStatus, type StatusReport } from '../../src/core/status/collect.js';
import type { Host } from '../../src/core/host/host.js';
import { LabHost } from '../../src/core/host/lab.js';
import { catUnit } from '../../src/core/systemd/units.js';
import { UNITS, scenarioPaths } from '../../src/lab/scenario.js';
import { deriveConfig, type Lab } from '../support/backup-lab.js';
import { describeLab, labContext, opsdeck, privateLab } from '../support/lab.js';
import { OneHost } from '../support/one-host.js';
import { until } from '../support/until.js';
import { PORT_OFFSETS } from '../support/lab-constants.js';

const DEV = UNITS.development;

/** The lab's host as an unprivileged user sees it: every command run as nobody. */
class UnprivilegedLabHost extends LabHost {
  override wrap(argv: readonly string[]): string[] {
    return super.wrap(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--', ...argv]);
  }
}
/** Units this file starts inside the lab (all stopped and forgotten by its end). */
const FAILED = 'opsdeck-findings-false.service';
const LOOP = 'opsdeck-findings-loop.service';
const STAGING = 'opsdeck-findings-staging.service';
const WORKER = 'opsdeck-findings-worker.service';
const BURNER = 'opsdeck-findings-burner.service';

let lab: Lab | undefined;
let ctx: ReturnType<typeof labContext> | undefined;
let host: Host;
let work = '';
const ports = () => lab!.state.ports;
const paths = () => scenarioPaths(lab!.state.dir);
const devData = () => path.join(paths().development, 'data');
/** What production shows as booted: the incident. Never anything else, whatever a scenario does elsewhere. */
const incident = () => ['production/crash-loop', 'production/sandbox-path', `production/port-unmanaged:${ports().production}`, 'production/backup-archives-stale'];

type Doc = { hosts: Record<string, Record<string, unknown>>; environments: Record<string, Record<string, unknown>> };
/** The lab's config with `edit` applied, written beside it. */
const derived = (name: string, edit: (doc: Doc) => void) => deriveConfig(lab!, `findings-${name}`, (doc) => edit(doc as unknown as Doc));

interface Report {
  code: number;
  stdout: string;
  findings: Finding[];
  errors: string[];
}

/** `opsdeck doctor --json` against `config` (the lab's own by default), as a user runs it. */
async function doctor(config = lab!.config, args: string[] = []): Promise<Report> {
  const r = await opsdeck(['doctor', '--json', ...args, '--config', config], { env: { OPSDECK_AUDIT_LOG: path.join(work, 'audit.jsonl') }, timeout: 60_000 });
  let parsed: { findings: Finding[]; errors: string[] };
  try {
    parsed = JSON.parse(r.stdout) as typeof parsed;
  } catch {
    throw new Error(`opsdeck doctor printed no JSON (exit ${r.code}): ${r.stderr || r.stdout}`);
  }
  return { code: r.code, stdout: r.stdout, findings: parsed.findings, errors: parsed.errors };
}

const alarmIds = (report: Report, environment: string | null) => report.findings.filter((f) => f.environment === environment && f.severity !== 'info').map((f) => f.id).sort();

function finding(report: Report, id: string): Finding {
  const found = report.findings.find((f) => f.id === id);
  expect(found, `${id} in ${report.findings.map((f) => f.id).join(', ')}`).toBeDefined();
  return found!;
}

const evidenceOf = (f: Finding) => f.evidence.map((e) => e.text).join('\n');
/** A pattern matching `text` literally (unit names, paths). */
const lit = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * The alarms are exactly `expected` on the environments a scenario touched; development, when
 * untouched, has none; production only ever has the incident's. Exit code 1 (production).
 */
function expectAlarms(report: Report, expected: Record<string, string[]>): void {
  expect(report.errors).toEqual([]);
  expect(report.code).toBe(1);
  for (const [environment, ids] of Object.entries(expected)) expect(alarmIds(report, environment), environment).toEqual([...ids].sort());
  if (!('development' in expected)) expect(alarmIds(report, 'development'), 'development, untouched').toEqual([]);
  expect(incident(), 'production, untouched: only the incident').toEqual(expect.arrayContaining(alarmIds(report, 'production')));
}

const run = (argv: string[], okExitCodes = [0]) => host.run(argv, { okExitCodes });

async function prop(unit: string, name: string): Promise<string> {
  return (await run(['systemctl', 'show', `--property=${name}`, '--value', '--', unit])).stdout.trim();
}

async function healthy(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

/** Stop a transient unit and make systemd forget it (a failed one stays until reset). */
async function forget(unit: string): Promise<void> {
  await run(['systemctl', 'stop', '--', unit], [0, 5]);
  await run(['systemctl', 'reset-failed', '--', unit], [0, 1, 5]);
  await until(`${unit} forgotten`, async () => (await prop(unit, 'LoadState')) === 'not-found', { everyMs: 100 });
}

/**
 * A limit in a drop-in of `unit` (where `systemctl edit` puts one: the unit path's first
 * directory), then a daemon-reload: applied to its running cgroup at once. Not `systemctl
 * set-property`: its drop-ins go to /run/systemd/system.control, which the lab's unit path does
 * not hold, so systemd would flag the unit NeedDaemonReload=yes (and a reload would drop the limit).
 */
async function limit(unit: string, setting: string): Promise<void> {
  mkdirSync(path.join(paths().units, `${unit}.d`), { recursive: true });
  writeFileSync(path.join(paths().units, `${unit}.d`, 'findings-limit.conf'), `[Service]\n${setting}\n`);
  await run(['systemctl', 'daemon-reload']);
}

/** The limit's drop-in gone, and reloaded: the unit's limits are the booted ones again. */
async function unlimit(unit: string): Promise<void> {
  rmSync(path.join(paths().units, `${unit}.d`), { recursive: true, force: true });
  await run(['systemctl', 'daemon-reload']);
}

/** Development serving and the doctor silent on it: a crash loop ended is told until the unit has run for half a minute. */
async function developmentClean(): Promise<void> {
  await until('development clean again', async () => (await healthy(ports().development)) && alarmIds(await doctor(), 'development').length === 0, { timeoutMs: 90_000, everyMs: 1000 });
}

/** A loopback port nothing listens on: the kernel's pick, closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describeLab('every doctor finding, caused for real on the lab', () => {
  beforeAll(async () => {
    work = mkdtempSync('/var/tmp/opsdeck-doctor-findings-');
    lab = await privateLab('doctor-findings', PORT_OFFSETS.doctorFindings);
    ctx = labContext(lab.config);
    host = ctx.hosts.get('lab');
    await until('development healthy', () => healthy(ports().development), { timeoutMs: 30_000, everyMs: 200 });
    // As booted: development is clean, production shows the incident (other tests cover it).
    const booted = await doctor();
    expectAlarms(booted, {});
  }, 120_000);

  afterAll(async () => {
    await ctx?.hosts.closeAll();
    await lab?.down();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('unit-inactive: development stopped; nothing listens on its port and its health check fails, from the same cause', async () => {
    await run(['systemctl', 'stop', '--', DEV]);
    try {
      await until('development stopped', async () => (await prop(DEV, 'ActiveState')) === 'inactive');
      const report = await doctor();
      const port = ports().development;
      expectAlarms(report, { development: ['development/unit-inactive', `development/port-not-listening:${port}`, 'development/health-failing'] });
      const inactive = finding(report, 'development/unit-inactive');
      expect(inactive).toMatchObject({ severity: 'critical', title: `${DEV} is inactive`, fix: null });
      expect(evidenceOf(inactive)).toMatch(new RegExp(`^${lit(DEV)} is inactive/dead, 0 restarts`));
      expect(finding(report, `development/port-not-listening:${port}`)).toMatchObject({ severity: 'critical', title: `nothing listens on port ${port}` });
      const health = finding(report, 'development/health-failing');
      expect(health.severity).toBe('critical');
      expect(health.title).toContain(`health check http://127.0.0.1:${port}/health fails`);
      expect(evidenceOf(health)).toMatch(/connect|refused/i);
    } finally {
      await run(['systemctl', 'start', '--', DEV]);
      await until('development healthy again', () => healthy(ports().development), { timeoutMs: 30_000, everyMs: 100 });
    }
  }, 60_000);

  it('unit-failed: an environment whose unit exited 1 and is not restarted', async () => {
    await run(['systemd-run', `--unit=${FAILED}`, '--quiet', '--property=Restart=no', '--', '/bin/false']);
    try {
      await until(`${FAILED} failed`, async () => (await prop(FAILED, 'ActiveState')) === 'failed', { everyMs: 50 });
      const config = derived('unit-failed', (doc) => {
        doc.environments.batch = { host: 'lab', unit: FAILED };
      });
      const report = await doctor(config);
      expectAlarms(report, { batch: ['batch/unit-failed'] });
      const failed = finding(report, 'batch/unit-failed');
      expect(failed).toMatchObject({ severity: 'critical', title: `${FAILED} has failed (result exit-code)`, fix: null });
      expect(failed.evidence[0]!.text).toBe(`${FAILED} is failed/failed, 0 restarts (NRestarts), last result exit-code, exit status 1`);
      // Its journal read: how it ended, quoted.
      expect(failed.evidence.flatMap((e) => e.quote ?? [])).toContain(`${FAILED}: Main process exited, code=exited, status=1/FAILURE`);
    } finally {
      await forget(FAILED);
    }
  }, 60_000);

  it('unit-not-found: an environment naming a unit the host does not have', async () => {
    const config = derived('unit-not-found', (doc) => {
      doc.environments.ghost = { host: 'lab', unit: 'opsdeck-findings-missing.service' };
    });
    const report = await doctor(config);
    expectAlarms(report, { ghost: ['ghost/unit-not-found'] });
    const missing = finding(report, 'ghost/unit-not-found');
    expect(missing).toMatchObject({ severity: 'critical', title: 'opsdeck-findings-missing.service does not exist on host lab', fix: null });
    expect(missing.evidence).toEqual([{ text: 'LoadState=not-found', from: 'systemctl show opsdeck-findings-missing.service -p LoadState' }]);
  }, 60_000);

  it("port-other-unit: an environment whose port is served by another environment's unit (both claim it)", async () => {
    await run(['systemd-run', `--unit=${STAGING}`, '--quiet', '--', '/bin/sleep', 'infinity']);
    try {
      await until(`${STAGING} running`, async () => (await prop(STAGING, 'SubState')) === 'running', { everyMs: 50 });
      const port = ports().development;
      const config = derived('port-other-unit', (doc) => {
        doc.environments.staging = { host: 'lab', unit: STAGING, ports: [port] };
      });
      const report = await doctor(config);
      expectAlarms(report, { staging: [`staging/port-other-unit:${port}`, 'staging/shared-port:development'], development: ['development/shared-port:staging'] });
      const other = finding(report, `staging/port-other-unit:${port}`);
      expect(other).toMatchObject({ severity: 'warning', title: `port ${port} is held by ${DEV}, not ${STAGING}`, fix: null });
      expect(evidenceOf(other)).toMatch(new RegExp(`^PID \\d+ \\(.*server\\.mjs\\) is in ${lit(DEV)}$`));
    } finally {
      await forget(STAGING);
    }
  }, 60_000);

  /**
   * Development broken by a sandbox setting in a drop-in (then restarted): the doctor's
   * sandbox-path finding, checked by `check`; its fix applied through the runner; development
   * healthy and clean again. The drop-in and opsdeck's override beside it are removed after.
   */
  async function sandboxScenario(setting: string, check: (sandbox: Finding) => void): Promise<void> {
    try {
      await limit(DEV, setting);
      await run(['systemctl', 'restart', '--', DEV], [0, 1]);
      // Until the doctor tells it all: systemd's exit status can be seen before journald has its line.
      let report: Report | undefined;
      const told = (f: Finding | undefined) => {
        try {
          check(f!);
          return true;
        } catch {
          return false;
        }
      };
      await until('the doctor to see why development fails', async () => {
        report = await doctor();
        return told(report.findings.find((f) => f.id === 'development/sandbox-path'));
      }, { timeoutMs: 30_000, everyMs: 250 }).catch(() => undefined);
      const sandbox = finding(report!, 'development/sandbox-path');
      expect(sandbox.severity).toBe('critical');
      check(sandbox);
      const fixed = await opsdeck(['doctor', '--fix', 'development/sandbox-path', '--yes', '--config', lab!.config], { env: { OPSDECK_AUDIT_LOG: path.join(work, 'audit.jsonl') }, timeout: 90_000 });
      expect(fixed.code, fixed.stderr || fixed.stdout).toBe(0);
      expect(await healthy(ports().development)).toBe(true);
      await developmentClean();
      expectAlarms(await doctor(), {});
    } finally {
      await unlimit(DEV); // opsdeck's override too: it sits beside the drop-in
      if (!(await healthy(ports().development))) await run(['systemctl', 'restart', '--', DEV], [0, 1]);
      await developmentClean();
    }
  }

  it("sandbox-path by InaccessiblePaths=: a drop-in hides development's data dir, overruling its ReadWritePaths=; the fix takes it out", async () => {
    await sandboxScenario(`InaccessiblePaths=${devData()}`, (sandbox) => {
      expect(sandbox.title).toBe(`${DEV} cannot write ${devData()}/state.json: InaccessiblePaths=${devData()} makes it inaccessible, over ReadWritePaths=${devData()}`);
      expect(sandbox.evidence[0]!.from).toBe(`systemctl show ${DEV} -p InaccessiblePaths`);
      // The lab's service runs as root: it meets the hidden path as read-only.
      expect(sandbox.evidence.at(-1)!.quote![0]).toMatch(/EROFS: read-only file system/);
      expect(sandbox.fix!.title).toMatch(new RegExp(`^take ${lit(devData())} out of ${lit(DEV)}'s InaccessiblePaths= and grant it: unit override InaccessiblePaths= ReadWritePaths=${lit(devData())} \\(drop-in, daemon-reload, restart, health gate\\)$`));
    });
  }, 240_000);

  it('sandbox-path by a missing directory: a drop-in adds one to ReadWritePaths=, so systemd cannot build the sandbox (226/NAMESPACE); the fix leaves it out', async () => {
    const missing = path.join(paths().development, 'no-such-dir');
    await sandboxScenario(`ReadWritePaths=${missing}`, (sandbox) => {
      expect(sandbox.title).toBe(`${DEV} cannot start: its sandbox names ${missing}, which does not exist (226/NAMESPACE)`);
      expect(sandbox.evidence[1]!.text).toBe(`systemd cannot set up the service's mount namespace: ${missing} does not exist`);
      expect(sandbox.evidence[1]!.quote!.join('\n')).toMatch(/status=226\/NAMESPACE/);
      expect(sandbox.fix!.title).toBe(`grant ${devData()} instead of the missing ${missing}: unit override ReadWritePaths=${devData()} (drop-in, daemon-reload, restart, health gate)`);
    });
  }, 240_000);

  it('health-failing: development hangs (SIGSTOP): its unit runs and its port listens, but the health check gets no answer', async () => {
    await run(['systemctl', 'kill', '--signal=SIGSTOP', '--', DEV]);
    try {
      const report = await doctor();
      expectAlarms(report, { development: ['development/health-failing'] });
      const health = finding(report, 'development/health-failing');
      expect(health.severity).toBe('critical');
      expect(health.title).toMatch(new RegExp(`^health check http://127\\.0\\.0\\.1:${ports().development}/health fails: .*timed out`));
      expect(health.evidence.map((e) => e.from)).toContain(`curl http://127.0.0.1:${ports().development}/health`);
    } finally {
      await run(['systemctl', 'kill', '--signal=SIGCONT', '--', DEV]);
      await until('development answering again', () => healthy(ports().development), { timeoutMs: 30_000, everyMs: 100 });
    }
  }, 60_000);

  it('backup-none: a backups dir with no archive; the fix is a first backup of the data', async () => {
    const dir = path.join(paths().srv, 'findings-empty-backups');
    mkdirSync(dir);
    try {
      const config = derived('backup-none', (doc) => {
        (doc.environments.development!.backups as Record<string, unknown>).dir = dir;
      });
      const report = await doctor(config);
      expectAlarms(report, { development: ['development/backup-none'] });
      const none = finding(report, 'development/backup-none');
      expect(none).toMatchObject({ severity: 'warning', title: `no backups in ${dir}` });
      expect(none.evidence).toEqual([{ text: `${dir} holds no archive`, from: `ls ${dir}` }]);
      expect(none.fix?.plan).toEqual({ kind: 'backup-create', environment: 'development', source: devData() });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('backup-stale: the newest archive is older than the limit; the fix brings the backups up to date', async () => {
    const dir = path.join(paths().srv, 'findings-stale-backups');
    mkdirSync(dir);
    try {
      // A good archive of development's data, only made (name and mtime) long ago: past the
      // schedule's allowance, and twice BACKUP_STALE_SEC (the limit when the schedule is unknown).
      const when = new Date(Date.now() - 2 * BACKUP_STALE_SEC * 1000);
      const name = `data-${stampOf(when)}.tar.gz`;
      execFileSync('tar', ['-czf', path.join(dir, name), '-C', devData(), '.']);
      utimesSync(path.join(dir, name), when, when);
      const config = derived('backup-stale', (doc) => {
        (doc.environments.development!.backups as Record<string, unknown>).dir = dir;
      });
      const report = await doctor(config);
      expectAlarms(report, { development: ['development/backup-stale'] });
      const stale = finding(report, 'development/backup-stale');
      expect(stale.severity).toBe('warning');
      // No opsdeck timer runs development's backups (the old job's are not on a schedule opsdeck
      // knows): a day and two hours are allowed (doctor-checks.test.ts judges one by its timer).
      expect(stale.title).toMatch(new RegExp(`^newest backup ${lit(name)} is .+ old$`));
      expect(stale.evidence[0]!.text).toMatch(new RegExp(`^the newest archive, ${lit(name)}, was written .+ ago \\(allowed: 1d2h\\)$`));
      expect(stale.fix?.plan).toEqual({ kind: 'backup-create', environment: 'development', source: devData() });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('backup-dir: a backups dir that does not exist', async () => {
    const dir = path.join(paths().srv, 'findings-no-such-backups');
    const config = derived('backup-dir', (doc) => {
      (doc.environments.development!.backups as Record<string, unknown>).dir = dir;
    });
    const report = await doctor(config);
    expectAlarms(report, { development: ['development/backup-dir'] });
    const broken = finding(report, 'development/backup-dir');
    expect(broken).toMatchObject({ severity: 'warning', title: `backups: ${dir}: directory does not exist`, fix: null });
  }, 60_000);

  it("shared-data-dir: another environment on the host writes development's data dir", async () => {
    const config = derived('shared-data-dir', (doc) => {
      doc.environments.staging = { host: 'lab', dataDir: devData() };
    });
    const report = await doctor(config);
    expectAlarms(report, { staging: ['staging/shared-data-dir:development'], development: ['development/shared-data-dir:staging'] });
    const shared = finding(report, 'staging/shared-data-dir:development');
    expect(shared).toMatchObject({ severity: 'warning', title: `staging shares a data directory with development on host lab: staging's dataDir ${devData()} is also development's dataDir ${devData()}`, fix: null });
    expect(shared.evidence[0]!.from).toBe('the config: environments.staging.dataDir, environments.development.dataDir');
  }, 60_000);

  it("shared-port: another environment on the host claims development's port", async () => {
    const port = ports().development;
    const config = derived('shared-port', (doc) => {
      doc.environments.staging = { host: 'lab', ports: [port] };
    });
    const report = await doctor(config);
    expectAlarms(report, { staging: ['staging/shared-port:development'], development: ['development/shared-port:staging'] });
    expect(finding(report, 'development/shared-port:staging')).toMatchObject({ severity: 'warning', title: `development and staging both claim port ${port} on host lab: only one can listen there`, fix: null });
  }, 60_000);

  it("shared-unit: another environment on the host is development's unit", async () => {
    const config = derived('shared-unit', (doc) => {
      doc.environments.staging = { host: 'lab', unit: DEV };
    });
    const report = await doctor(config);
    expectAlarms(report, { staging: ['staging/shared-unit:development'], development: ['development/shared-unit:staging'] });
    expect(finding(report, 'development/shared-unit:staging')).toMatchObject({ severity: 'warning', title: `development and staging are the same unit ${DEV} on host lab: a restart or a deploy of one is one of the other`, fix: null });
  }, 60_000);

  it('secret-in-unit: a token in a drop-in\'s Environment= is reported redacted; its value is printed nowhere', async () => {
    // Random, so no output can contain it by chance; shaped like a GitHub token.
    const token = `ghp_${randomBytes(36).toString('base64').replace(/[^A-Za-z0-9]/g, '').padEnd(36, 'x').slice(0, 36)}`;
    const dropInDir = path.join(paths().units, `${DEV}.d`);
    const dropIn = path.join(dropInDir, 'findings-secret.conf');
    mkdirSync(dropInDir, { recursive: true });
    writeFileSync(dropIn, `[Service]\nEnvironment=API_TOKEN=${token}\n`);
    try {
      await run(['systemctl', 'daemon-reload']);
      const report = await doctor();
      expectAlarms(report, { development: ['development/secret-in-unit'] });
      const secret = finding(report, 'development/secret-in-unit');
      expect(secret).toMatchObject({ severity: 'warning', title: `${DEV} keeps a secret in Environment=: API_TOKEN=ghp_…`, fix: null });
      expect(evidenceOf(secret)).toContain(dropIn);
      expect(secret.note).toMatch(/EnvironmentFile= with mode 0600/);
      // Not in the doctor's JSON or text, nor in status's JSON (which carries the units): not even most of it.
      const text = await opsdeck(['doctor', '--config', lab!.config]);
      const status = await opsdeck(['status', '--json', '--config', lab!.config]);
      // Nor in the unit file view (the processes pane's `u`: systemctl cat).
      const unitFile = await catUnit(host, DEV);
      for (const out of [report.stdout, text.stdout, text.stderr, status.stdout, status.stderr, unitFile]) {
        expect(out).not.toContain(token);
        expect(out).not.toContain(token.slice(4, 20));
      }
      expect(text.stdout).toContain('API_TOKEN=ghp_…');
      expect(unitFile).toContain(`# ${dropIn}\n[Service]\nEnvironment=API_TOKEN=ghp_…\n`);
    } finally {
      rmSync(dropInDir, { recursive: true, force: true });
      await run(['systemctl', 'daemon-reload']);
    }
  }, 60_000);

  it("memory-near-limit: a worker unit of development's uses just under its MemoryMax=", async () => {
    // development's own node grows with every health probe: a limit 5 % above it could OOM-kill
    // it. A worker holding a fixed 64 MiB (perl, asleep) is as near its limit, and stays there.
    // A unit file, not systemd-run: systemd 252 forgets a transient unit's memory accounting on a
    // daemon-reload (MemoryCurrent=[not set]), and does not read drop-ins for it.
    const script = path.join(lab!.state.dir, 'findings-worker.pl'); // not in /var/tmp: the lab has its own
    const unitFile = path.join(paths().units, WORKER);
    writeFileSync(script, 'my $x = "x" x (32 << 20);\nsleep;\n');
    writeFileSync(unitFile, `[Unit]\nDescription=development's worker (doctor-findings test)\n\n[Service]\nExecStart=/usr/bin/perl ${script}\n`);
    try {
      await run(['systemctl', 'daemon-reload']);
      await run(['systemctl', 'start', '--', WORKER]);
      await until(`${WORKER} holding its memory`, async () => Number(await prop(WORKER, 'MemoryCurrent')) > 48 << 20, { everyMs: 50 });
      const config = derived('memory-near-limit', (doc) => {
        doc.environments.development!.relatedUnits = [WORKER];
      });
      // The worker alone is no alarm: the limit is.
      expectAlarms(await doctor(config), {});
      const current = Number(await prop(WORKER, 'MemoryCurrent'));
      const max = Math.ceil(current / 0.95);
      await limit(WORKER, `MemoryMax=${max}`);
      const report = await doctor(config);
      expectAlarms(report, { development: [`development/memory-near-limit:${WORKER}`] });
      const near = finding(report, `development/memory-near-limit:${WORKER}`);
      expect(near).toMatchObject({ severity: 'warning', fix: null });
      expect(near.title).toMatch(new RegExp(`^${lit(WORKER)} uses 9\\d % of its memory limit: .* of MemoryMax=`));
      const [, used, shownMax] = /^MemoryCurrent=(\d+) of MemoryMax=(\d+)/.exec(evidenceOf(near)) ?? [];
      expect(Number(shownMax)).toBe(max);
      expect(Number(used)).toBeGreaterThan(NEAR_LIMIT * max);
    } finally {
      await run(['systemctl', 'stop', '--', WORKER], [0, 5]);
      rmSync(unitFile, { force: true });
      rmSync(script, { force: true });
      await unlimit(WORKER);
      await until(`${WORKER} forgotten`, async () => (await prop(WORKER, 'LoadState')) === 'not-found', { everyMs: 100 });
    }
  }, 60_000);

  it("tasks-near-limit: development's unit runs just under its TasksMax=", async () => {
    const original = await prop(DEV, 'TasksMax');
    // node's threads are fixed once it serves: one more allowed, or none where one more is below 90 %.
    const tasks = Number(await prop(DEV, 'TasksCurrent'));
    expect(tasks).toBeGreaterThan(1);
    const max = tasks > NEAR_LIMIT * (tasks + 1) ? tasks + 1 : tasks;
    try {
      await limit(DEV, `TasksMax=${max}`);
      const report = await doctor();
      expectAlarms(report, { development: ['development/tasks-near-limit'] });
      const near = finding(report, 'development/tasks-near-limit');
      expect(near).toMatchObject({ severity: 'warning', fix: null });
      expect(near.title).toMatch(new RegExp(`^${lit(DEV)} runs \\d+ % of its tasks limit: \\d+ of TasksMax=${max}$`));
      const [, used] = new RegExp(`^TasksCurrent=(\\d+) of TasksMax=${max} \\(cgroup ${lit(`/system.slice/${DEV}`)}\\)$`).exec(evidenceOf(near)) ?? [];
      expect(Number(used)).toBeGreaterThan(NEAR_LIMIT * max);
    } finally {
      await unlimit(DEV);
      await until(`${DEV}'s TasksMax back to ${original}`, async () => (await prop(DEV, 'TasksMax')) === original);
    }
  }, 60_000);

  it("cpu-throttled: a worker unit of development's burns the CPU at CPUQuota=10%", async () => {
    // Asleep until told (SIGUSR1), then a busy loop: under its quota and idle it is no alarm; busy, the kernel holds it back every period.
    const script = path.join(lab!.state.dir, 'findings-burner.pl');
    const unitFile = path.join(paths().units, BURNER);
    writeFileSync(script, 'my $burn = 0;\n$SIG{USR1} = sub { $burn = 1 };\nsleep 1 until $burn;\n1 while 1;\n');
    writeFileSync(unitFile, `[Unit]\nDescription=development's CPU-bound worker (doctor-findings test)\n\n[Service]\nExecStart=/usr/bin/perl ${script}\nCPUQuota=10%\n`);
    try {
      await run(['systemctl', 'daemon-reload']);
      await run(['systemctl', 'start', '--', BURNER]);
      const pid = await prop(BURNER, 'MainPID');
      expect(Number(pid)).toBeGreaterThan(0);
      const config = derived('cpu-throttled', (doc) => {
        doc.environments.development!.relatedUnits = [BURNER];
      });
      expectAlarms(await doctor(config), {});
      await run(['kill', '-USR1', pid]);
      let report: Report | undefined;
      await until('the kernel to hold the worker back, and the doctor to see it', async () => {
        report = await doctor(config);
        return report.findings.some((f) => f.code === 'cpu-throttled');
      }, { timeoutMs: 30_000, everyMs: 250 });
      expectAlarms(report!, { development: [`development/cpu-throttled:${BURNER}`] });
      const throttled = finding(report!, `development/cpu-throttled:${BURNER}`);
      expect(throttled).toMatchObject({ severity: 'warning', fix: null });
      const [, times, periods] = new RegExp(`^${lit(BURNER)} is held back by its CPU limit: throttled in (\\d+) of (\\d+) periods \\(\\d+ %\\) since it started, at CPUQuota=10%$`).exec(throttled.title) ?? [];
      expect(Number(times)).toBeGreaterThanOrEqual(CPU_THROTTLED_SHARE * Number(periods));
      expect(Number(periods)).toBeGreaterThanOrEqual(CPU_MIN_PERIODS);
      expect(throttled.evidence[0]!.from).toMatch(new RegExp(`^cat /sys/fs/cgroup/(cpu/|cpu,cpuacct/)?system\\.slice/${lit(BURNER)}/cpu\\.stat$`));
      expect(throttled.evidence[1]!.text).toBe('CPUQuota=10% of one CPU: 100 ms of CPU time per second');
      // A console refreshing judges since its refresh before: the same alarm, over that stretch, in status's problems too.
      const hosts = new HostRegistry(loadConfig(config).config);
      try {
        const { config: parsed } = loadConfig(config);
        const first = await collectStatus(parsed, hosts, ['development']);
        const burner = (report: StatusReport) => report.environments[0]!.checks!.cpu.find((c) => c.unit === BURNER)!;
        let second = first;
        await until('a read long enough after the first to judge since it', async () => {
          second = await collectStatus(parsed, hosts, ['development'], { previous: first });
          return burner(second).windowSec !== null;
        }, { timeoutMs: 30_000, everyMs: 500 });
        const cpu = burner(second);
        expect(cpu.windowSec).not.toBeNull();
        expect(cpu.periods).toBeLessThan(cpu.total.periods);
        expect(second.environments[0]!.problems.find((p) => p.code === 'cpu-throttled')?.message).toMatch(/ in the last \d+s, at CPUQuota=10%$/);
      } finally {
        await hosts.closeAll();
      }
    } finally {
      await run(['systemctl', 'stop', '--', BURNER], [0, 5]);
      rmSync(unitFile, { force: true });
      rmSync(script, { force: true });
      await run(['systemctl', 'daemon-reload']);
      await until(`${BURNER} forgotten`, async () => (await prop(BURNER, 'LoadState')) === 'not-found', { everyMs: 100 });
    }
  }, 60_000);

  it('host-unreachable: an environment on a host whose ssh port is closed', async () => {
    const port = await closedPort();
    const config = derived('host-unreachable', (doc) => {
      doc.hosts.gone = { transport: 'ssh', address: '127.0.0.1', port, user: 'root', connectTimeoutSec: 5 };
      doc.environments.remote = { host: 'gone', unit: DEV, ports: [ports().development] };
    });
    const report = await doctor(config);
    expectAlarms(report, { remote: ['remote/host-unreachable'] });
    const unreachable = finding(report, 'remote/host-unreachable');
    expect(unreachable).toMatchObject({ severity: 'critical', host: 'gone', fix: null });
    expect(unreachable.title).toContain(`cannot reach host gone over ssh: ssh: connect to host 127.0.0.1 port ${port}: Connection refused`);
  }, 60_000);

  it('collect-error: journalctl broken on the host while systemctl works; the findings say what they can without it', async () => {
    // /bin/false over journalctl in the lab's own mount namespace (the machine's journalctl stays as it is).
    await run(['mount', '--bind', '/bin/false', '/usr/bin/journalctl']);
    try {
      const report = await doctor();
      expect(report.code).toBe(1);
      expect(report.errors).toEqual([]);
      const error = finding(report, 'production/collect-error');
      expect(error).toMatchObject({ severity: 'warning', fix: null, title: `journal of ${UNITS.production}: \`journalctl\` failed on host lab (exit code 1)` });
      expect(error.evidence).toEqual([{ text: 'the findings above say what they can without it', from: 'the refresh of host lab' }]);
      // Production's journal is read because its unit fails: without it the crash loop's cause is not found, and not guessed.
      expect(alarmIds(report, 'production')).not.toContain('production/sandbox-path');
      expect([...incident(), 'production/collect-error']).toEqual(expect.arrayContaining(alarmIds(report, 'production')));
      // Development's unit runs: its journal is not needed, and it stays clean.
      expect(alarmIds(report, 'development')).toEqual([]);
    } finally {
      await run(['umount', '/usr/bin/journalctl']);
    }
    expectAlarms(await doctor(), {});
  }, 60_000);

  it('port-owner-unknown: opsdeck run by an unprivileged user sees the sockets, not the processes holding them', async () => {
    // Every command on the host as nobody (setpriv inside the lab): /proc/*/fd of root's processes is closed to it.
    const nobody = new UnprivilegedLabHost('lab', lab!.state.dir);
    const { findings, errors } = await runDoctor(ctx!.config, new OneHost(ctx!.config, nobody));
    expect(errors).toEqual([]);
    const unknown = findings.find((f) => f.id === `development/port-owner-unknown:${ports().development}`);
    expect(unknown).toMatchObject({ severity: 'warning', fix: null, title: `port ${ports().development} is listening, but its process is not visible (run opsdeck as root on host lab to see it)` });
    expect(unknown!.evidence).toEqual([{ text: `a socket listens on 127.0.0.1:${ports().development}; /proc/*/fd shows no holder to this user`, from: '/proc/net/tcp, /proc/net/tcp6' }]);
    // Production's hand-started holder is just as hidden: not guessed to be unmanaged, nor its unit's.
    expect(findings.map((f) => f.id)).toContain(`production/port-owner-unknown:${ports().production}`);
    expect(findings.map((f) => f.code)).not.toContain('port-unmanaged');
    expect(findings.map((f) => f.code)).not.toContain('port-other-unit');
  }, 60_000);

  it("without environments: the host's failed and crash-looping services, each with its cause", async () => {
    await run(['systemd-run', `--unit=${FAILED}`, '--quiet', '--property=Restart=no', '--', '/bin/false']);
    // Crash-loops until systemd gives up: a state that holds while the doctor looks.
    await run(['systemd-run', `--unit=${LOOP}`, '--quiet', '--property=Restart=always', '--property=RestartSec=100ms', '--property=StartLimitBurst=3', '--property=StartLimitIntervalSec=1h', '--', '/bin/sh', '-c', 'exit 3']);
    try {
      await until('both failed', async () => (await prop(FAILED, 'ActiveState')) === 'failed' && (await prop(LOOP, 'ActiveState')) === 'failed', { everyMs: 50 });
      const config = derived('no-environments', (doc) => {
        doc.environments = {};
      });
      const report = await doctor(config, ['--host', 'lab']);
      expect(report.code).toBe(1);
      expect(report.errors).toEqual([]);
      // Exactly these: production's loop (the incident), and the two started here.
      expect(alarmIds(report, null)).toEqual([`lab/crash-loop:${UNITS.production}`, `lab/crash-loop:${LOOP}`, `lab/unit-failed:${FAILED}`].sort());
      const loop = finding(report, `lab/crash-loop:${LOOP}`);
      expect(loop).toMatchObject({ severity: 'critical', host: 'lab', environment: null, fix: null });
      expect(loop.title).toMatch(new RegExp(`^${lit(LOOP)} crash-looped \\(\\d+ restarts\\) until systemd gave up: exit status 3$`));
      expect(loop.evidence[0]!.text).toMatch(/^failed\/failed; Result=exit-code, ExecMainStatus=3, NRestarts=\d+, Restart=always$/);
      const failed = finding(report, `lab/unit-failed:${FAILED}`);
      expect(failed).toMatchObject({ severity: 'warning', title: `${FAILED} has failed: exit status 1`, fix: null });
      expect(failed.evidence[0]!.text).toMatch(/^failed\/failed, since .* UTC; Result=exit-code, ExecMainStatus=1, NRestarts=0, Restart=no$/);
      expect(failed.note).toContain(`systemctl reset-failed ${FAILED}`);
      // Production is still looping: caught running between two crashes or not, its cause is told (from its journal when its properties have none).
      const production = finding(report, `lab/crash-loop:${UNITS.production}`);
      expect(production.title).toMatch(new RegExp(`^${lit(UNITS.production)} is crash-looping \\(\\d+ restarts?\\): exit status 3(/NOTIMPLEMENTED)?$`));
      expect(production.evidence.some((e) => e.quote?.some((q) => /EROFS: read-only file system/.test(q)))).toBe(true);
    } finally {
      await forget(FAILED);
      await forget(LOOP);
    }
  }, 60_000);
});
