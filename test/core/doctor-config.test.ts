// The doctor's set-up rules (rules-config.ts): isolation across the config's environments,
// secrets in Environment= (redacted in the status itself), a unit file changed on disk with its
// daemon-reload fix, cgroup limits, and a host's failed units without a config. Driven by the
// lab's recorded facts and `systemctl show` output, and by variants of them: no lab.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { Finding } from '../../src/core/doctor/finding.js';
import { buildFixOperation } from '../../src/core/doctor/fix.js';
import type { ConfigFacts } from '../../src/core/doctor/rules-config.js';
import { causeOf, hostFindings } from '../../src/core/doctor/rules-host.js';
import { environmentFindings, type EnvironmentFacts } from '../../src/core/doctor/rules.js';
import { HostRegistry } from '../../src/core/host/registry.js';
import { diagnose } from '../../src/core/status/collect.js';
import { redactSecretsIn, redactUnitFile, secretEnvOf } from '../../src/core/systemd/secret-env.js';
import { cpuStatArgv, parseCpuStat } from '../../src/core/systemd/cgroup.js';
import { parseShowBlocks, timespanUsec, toUnitStatus } from '../../src/core/systemd/units.js';

const recorded = JSON.parse(readFileSync(new URL('../fixtures/doctor-incident-facts.json', import.meta.url), 'utf8')) as { environments: EnvironmentFacts[] };
const recordedShow = readFileSync(new URL('../fixtures/systemctl-show.txt', import.meta.url), 'utf8');
const recordedFailed = readFileSync(new URL('../fixtures/systemctl-show-failed.txt', import.meta.url), 'utf8');
const LAB = '/var/lib/opsdeck-lab/srv';
const LIVE = `${LAB}/production/data`;

/** A fresh copy of a recorded environment's facts, with the config's environments as its peers. */
function facts(name: string, change?: (envs: Record<string, EnvironmentFacts['env']>) => void): EnvironmentFacts & ConfigFacts {
  const all = structuredClone(recorded.environments);
  const peers = Object.fromEntries(all.map((e) => [e.environment, e.env]));
  change?.(peers);
  return { ...all.find((e) => e.environment === name)!, peers };
}
const codes = (findings: Finding[]) => findings.map((f) => f.code);
const byCode = (findings: Finding[], code: string) => findings.find((f) => f.code === code);
const alarms = (findings: Finding[]) => findings.filter((f) => f.severity !== 'info');

describe('the recorded lab: no false alarms', () => {
  it('development yields nothing above info with every new rule on, its peers included', () => {
    expect(alarms(environmentFindings(facts('development')))).toEqual([]);
  });

  it('production yields the incident and nothing new: its config shares nothing, its unit holds no secret', () => {
    expect(environmentFindings(facts('production')).map((f) => f.id)).toEqual(['production/crash-loop', 'production/sandbox-path', 'production/port-unmanaged:3444', 'production/backup-archives-stale']);
  });

  it('the lab units\' Environment= (APP_ENV, PORT, DATA_DIR, LOG_RATE) holds no secret', () => {
    expect(secretEnvOf(['APP_ENV=development', 'PORT=3446', `DATA_DIR=${LAB}/development/data`, 'LOG_RATE=0.5'])).toEqual([]);
  });
});

describe('isolation across the config\'s environments', () => {
  it('a data dir inside another environment\'s: a warning on each, naming the other', () => {
    const inside = (envs: Record<string, EnvironmentFacts['env']>) => void (envs.development!.dataDir = `${LIVE}/dev`);
    const dev = byCode(environmentFindings(facts('development', inside)), 'shared-data-dir')!;
    expect(dev).toMatchObject({ id: 'development/shared-data-dir:production', severity: 'warning' });
    expect(dev.title).toBe(`development shares a data directory with production on host lab: development's dataDir ${LIVE}/dev is inside production's dataDir and backups.source ${LIVE}`);
    expect(dev.evidence[0]!.from).toBe('the config: environments.development.dataDir, environments.production.dataDir and backups.source');
    const prod = byCode(environmentFindings(facts('production', inside)), 'shared-data-dir')!;
    expect(prod.id).toBe('production/shared-data-dir:development');
    expect(prod.title).toContain(`production's dataDir and backups.source ${LIVE} holds development's dataDir ${LIVE}/dev`);
  });

  it('a backups.source that is another environment\'s data dir counts', () => {
    const f = facts('development', (envs) => void (envs.development!.backups = { ...envs.production!.backups!, dir: `${LAB}/dev-backups` }));
    expect(byCode(environmentFindings(f), 'shared-data-dir')!.title).toContain(`development's backups.source ${LIVE} is also production's`);
  });

  it('a shared port and a shared unit (the config loader has made "mcp-coordination" mcp-coordination.service)', () => {
    const f = facts('development', (envs) => Object.assign(envs.development!, { ports: [3446, 3444], unit: 'mcp-coordination.service' }));
    const findings = environmentFindings(f);
    expect(byCode(findings, 'shared-port')).toMatchObject({ id: 'development/shared-port:production', severity: 'warning', title: 'development and production both claim port 3444 on host lab: only one can listen there' });
    expect(byCode(findings, 'shared-unit')).toMatchObject({ id: 'development/shared-unit:production', severity: 'warning' });
    expect(byCode(findings, 'shared-unit')!.title).toContain('the same unit mcp-coordination.service on host lab');
  });

  it('on different hosts the same path, port or unit is not shared', () => {
    const f = facts('development', (envs) => Object.assign(envs.development!, { host: 'other', ports: [3444], unit: 'mcp-coordination.service', dataDir: LIVE }));
    f.env = f.peers!.development!;
    expect(codes(environmentFindings(f)).filter((c) => c.startsWith('shared-'))).toEqual([]);
  });

  it('status sees it too: its problems come from the same rules', () => {
    const f = facts('development', (envs) => void (envs.development!.ports = [3444]));
    // (and development's status, which saw nothing on 3444, says nothing listens there)
    expect(diagnose(f.env, f.status, null, f.peers).map((p) => [p.code, p.severity])).toEqual([['port-not-listening', 'critical'], ['shared-port', 'warning']]);
  });
});

describe('secrets in Environment=', () => {
  const RAW = {
    token: 'tok-9f8e7d6c5b4a3210',
    github: 'ghp_R4nd0mL00kingT0kenValue1234567890',
    url: 'postgres://app:hunter2-Secret@db.internal/app',
    aws: 'AKIAIOSFODNN7EXAMPLE',
    session: 'Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MEFCQ0RFRkdISUpL',
    password: 'correct horse battery staple',
  };
  // As `systemctl show -p Environment` prints it: a value with spaces in double quotes.
  const show = [
    'Id=app.service',
    'ActiveState=active',
    'SubState=running',
    `Environment=APP_ENV=production PORT=3444 DATA_DIR=/srv/app/data GIT_COMMIT=9f2c1e0b7a6d5c4b3a29181716151413121110ff API_TOKEN=${RAW.token} GH=${RAW.github} DATABASE_URL=${RAW.url} AWS_ID=${RAW.aws} SESSION=${RAW.session} "DB_PASSWORD=${RAW.password}" CACHE_KEY=users TLS_KEY=/etc/ssl/private/app.key TOKEN_TTL=3600`,
    '',
  ].join('\n');
  const status = toUnitStatus(parseShowBlocks(show)[0]!);

  it('the status keeps the names and a redacted value: first characters, then …', () => {
    expect(status.secretEnv).toEqual([
      { name: 'API_TOKEN', redacted: 'tok-…' },
      { name: 'GH', redacted: 'ghp_…' },
      { name: 'DATABASE_URL', redacted: 'post…' },
      { name: 'AWS_ID', redacted: 'AKIA…' },
      { name: 'SESSION', redacted: 'Zm9v…' },
      { name: 'DB_PASSWORD', redacted: 'corr…' },
    ]);
    expect(status.dataEnv).toEqual([{ name: 'DATA_DIR', dir: '/srv/app/data' }]);
  });

  it('no raw secret appears anywhere in the status JSON, nor in the findings', () => {
    const json = JSON.stringify(status);
    const f = facts('development');
    f.status.unit = { ...f.status.unit!, secretEnv: status.secretEnv };
    const findings = JSON.stringify(environmentFindings(f));
    for (const raw of Object.values(RAW)) {
      for (const part of [raw, raw.slice(4, 12)]) {
        expect(json).not.toContain(part);
        expect(findings).not.toContain(part);
      }
    }
    expect(json).not.toContain('hunter2');
  });

  it('a short secret shows nothing of itself', () => {
    expect(secretEnvOf(['PASSWORD=abc123'])).toEqual([{ name: 'PASSWORD', redacted: '…' }]);
    expect(secretEnvOf(['SECRET=abcdefghij'])).toEqual([{ name: 'SECRET', redacted: 'ab…' }]);
  });

  it('a warning per unit with each variable\'s name and redacted value, suggesting EnvironmentFile= with mode 0600', () => {
    const f = facts('development');
    f.status.unit!.secretEnv = [{ name: 'API_TOKEN', redacted: 'tok-…' }, { name: 'DB_PASSWORD', redacted: 'corr…' }];
    const secret = byCode(environmentFindings(f), 'secret-in-unit')!;
    expect(secret).toMatchObject({ id: 'development/secret-in-unit', severity: 'warning', fix: null });
    expect(secret.title).toBe('mcp-coordination-dev.service keeps 2 secrets in Environment=: API_TOKEN=tok-…, DB_PASSWORD=corr…');
    expect(secret.evidence[0]).toEqual({ text: `Environment= API_TOKEN=tok-…: readable by every user on host lab (systemctl show), and in /var/lib/opsdeck-lab/units/mcp-coordination-dev.service`, from: 'systemctl show mcp-coordination-dev.service -p Environment' });
    expect(secret.note).toMatch(/^move API_TOKEN, DB_PASSWORD into an EnvironmentFile= with mode 0600/);
  });
});

describe('a unit file changed on disk', () => {
  it('a warning with the unit file and its drop-ins as evidence, and daemon-reload as its fix', () => {
    const f = facts('development');
    Object.assign(f.status.unit!, { needDaemonReload: true, dropInPaths: ['/etc/systemd/system/mcp-coordination-dev.service.d/override.conf'] });
    const reload = byCode(environmentFindings(f), 'daemon-reload')!;
    expect(reload).toMatchObject({ id: 'development/daemon-reload', severity: 'warning', title: 'mcp-coordination-dev.service changed on disk: run daemon-reload' });
    expect(reload.evidence[1]).toEqual({
      text: 'unit file /var/lib/opsdeck-lab/units/mcp-coordination-dev.service; 1 drop-in: /etc/systemd/system/mcp-coordination-dev.service.d/override.conf',
      from: 'systemctl show mcp-coordination-dev.service -p FragmentPath,DropInPaths',
    });
    expect(reload.fix?.plan).toEqual({ kind: 'daemon-reload', environment: 'development' });
  });

  it('the fix builds the daemon-reload operation on the environment\'s host, saying which finding asked for it', async () => {
    const config = parseConfig('hosts: { lab: { transport: lab, lab: /var/lib/lab } }\nenvironments:\n  development: { host: lab, unit: app-dev }\n', 'x.yaml');
    const f = facts('development');
    f.status.unit!.needDaemonReload = true;
    const op = await buildFixOperation(config, new HostRegistry(config), byCode(environmentFindings(f), 'daemon-reload')!, 'x.yaml');
    expect(op.steps.map((s) => s.kind)).toEqual(['daemon-reload']);
    expect(op.details[0]).toBe('doctor: development/daemon-reload: mcp-coordination-dev.service changed on disk: run daemon-reload');
  });
});

describe('resources against the cgroup\'s limits', () => {
  it('reads MemoryMax= and TasksMax= from the same show (infinity: no limit)', () => {
    const unit = toUnitStatus({ Id: 'a.service', MemoryCurrent: '7553024', MemoryMax: 'infinity', TasksCurrent: '11', TasksMax: '4915' });
    expect(unit).toMatchObject({ memoryBytes: 7553024, memoryMax: null, tasks: 11, tasksMax: 4915 });
  });

  it('a warning above 90 % of MemoryMax= or TasksMax=, nothing below', () => {
    const f = facts('development');
    Object.assign(f.status.unit!, { memoryBytes: 8187904, tasks: 11, memoryMax: 16 * 1024 * 1024, tasksMax: 4915 });
    expect(alarms(environmentFindings(f))).toEqual([]);
    Object.assign(f.status.unit!, { memoryMax: 8_500_000, tasksMax: 12 });
    const findings = environmentFindings(f);
    expect(byCode(findings, 'memory-near-limit')).toMatchObject({ id: 'development/memory-near-limit', severity: 'warning', title: 'mcp-coordination-dev.service uses 96 % of its memory limit: 7.8M of MemoryMax=8.1M' });
    expect(byCode(findings, 'tasks-near-limit')).toMatchObject({ severity: 'warning', title: 'mcp-coordination-dev.service runs 92 % of its tasks limit: 11 of TasksMax=12' });
    expect(byCode(findings, 'tasks-near-limit')!.evidence[0]).toEqual({ text: 'TasksCurrent=11 of TasksMax=12 (cgroup /system.slice/mcp-coordination-dev.service)', from: 'systemctl show mcp-coordination-dev.service -p TasksCurrent,TasksMax' });
  });

  it('a related unit near its limit is named in the id', () => {
    const f = facts('production');
    Object.assign(f.status.relatedUnits[0]!, { memoryBytes: 950, memoryMax: 1000 });
    expect(byCode(environmentFindings(f), 'memory-near-limit')!.id).toBe('production/memory-near-limit:mcp-backup.service');
  });
});

describe('the unit file view redacts what the doctor calls a secret', () => {
  it('Environment= values that look secret, quoted or bare; everything else as systemctl cat printed it', () => {
    const cat = [
      '# /var/lib/opsdeck-lab/units/mcp-coordination-dev.service.d/token.conf',
      '[Service]',
      'Environment=API_TOKEN=ghp_0123456789abcdefABCDEF0123 PORT=3446',
      'Environment="DATABASE_URL=postgres://app:hunter2@db/app" "GREETING=hello world"',
      'ExecStart=/usr/bin/node server.mjs --token sk-live-abcdef1234567890',
      'ReadWritePaths=/srv/app/data',
    ].join('\n');
    expect(redactUnitFile(cat).split('\n')).toEqual([
      '# /var/lib/opsdeck-lab/units/mcp-coordination-dev.service.d/token.conf',
      '[Service]',
      'Environment=API_TOKEN=ghp_… PORT=3446',
      'Environment="DATABASE_URL=post…" "GREETING=hello world"',
      'ExecStart=/usr/bin/node server.mjs --token sk-l…',
      'ReadWritePaths=/srv/app/data',
    ]);
  });

  it('in prose, shell snippets and JSON alike: a quote never hides what follows it', () => {
    expect(redactSecretsIn("can't connect to postgres://app:hunter2@db/app, it's down")).toBe("can't connect to post…, it's down");
    expect(redactUnitFile("ExecStart=/bin/sh -c 'exec env API_TOKEN=ghp_0123456789abcdefABCDEF0123 app'")).toBe("ExecStart=/bin/sh -c 'exec env API_TOKEN=ghp_… app'");
    expect(redactSecretsIn('{"token":"x","key":"ghp_0123456789abcdefABCDEF0123"}')).not.toContain('0123456789');
    expect(redactSecretsIn('ReadWritePaths=-/srv/app/Data2024AbCdEfGhIjKlMnOpQrStUv')).toBe('ReadWritePaths=-/srv/app/Data2024AbCdEfGhIjKlMnOpQrStUv');
  });

  it('flags, quotes inside a word, credentials; never a specifier, a path or a commit hash', () => {
    const cat = [
      'ExecStart=/usr/bin/app --token=ghp_0123456789abcdefABCDEF0123 --db=postgres://u:pw@h/app --cache=/var/cache/app',
      'Environment=API_TOKEN="hunter2 horse battery" SECRET_FILE=%d/token PASSWORD=$PASSWORD',
      'SetCredential=db-password:correct horse battery staple',
      'Description=built from 9f2c4e1a7b3d5f60718293a4b5c6d7e8f9012345',
    ].join('\n');
    expect(redactUnitFile(cat).split('\n')).toEqual([
      'ExecStart=/usr/bin/app --token=ghp_… --db=post… --cache=/var/cache/app',
      'Environment=API_TOKEN=hunt… SECRET_FILE=%d/token PASSWORD=$P…',
      'SetCredential=db-password:corr…',
      'Description=built from 9f2c4e1a7b3d5f60718293a4b5c6d7e8f9012345',
    ]);
  });
});

describe('CPU against CPUQuota=: how often the kernel held the unit back', () => {
  // Recorded in the lab (cgroup v1: the cpu controller apart from cpuacct) from a busy loop at CPUQuota=20%.
  const v1 = ['nr_periods 61', 'nr_throttled 61', 'throttled_time 4852450361', 'nr_bursts 0', 'burst_time 0'];
  // cgroup v2's keys, as the kernel's cgroup-v2.rst lists them (time in µs).
  const v2 = ['usage_usec 9120000', 'user_usec 9000000', 'system_usec 120000', 'nr_periods 400', 'nr_throttled 20', 'throttled_usec 310000', 'nr_bursts 0', 'burst_usec 0'];
  const group = '/system.slice/a.service';
  const grepped = (file: string, lines: string[]) => lines.map((l) => `${file}:${l}`).join('\n');

  it('reads CPUQuota= as systemctl show prints it; infinity is no limit', () => {
    expect(['200ms', '1.500000s', '50ms', '1min 30s', 'infinity', '', 'junk'].map(timespanUsec)).toEqual([200_000, 1_500_000, 50_000, 90_000_000, null, null, null]);
    expect(toUnitStatus({ Id: 'a.service', CPUQuotaPerSecUSec: '200ms' }).cpuQuotaPerSecUsec).toBe(200_000);
  });

  it('finds the counters in cgroup v2\'s tree or in v1\'s cpu controller, and nothing in a group leading out of the tree', () => {
    expect(cpuStatArgv([group])).toEqual(['grep', '-s', '-H', '-e', '', '--', `/sys/fs/cgroup${group}/cpu.stat`, `/sys/fs/cgroup/cpu${group}/cpu.stat`, `/sys/fs/cgroup/cpu,cpuacct${group}/cpu.stat`]);
    expect(parseCpuStat(grepped(`/sys/fs/cgroup/cpu${group}/cpu.stat`, v1), group)).toEqual({ periods: 61, throttled: 61, throttledUsec: 4_852_450, file: `/sys/fs/cgroup/cpu${group}/cpu.stat` });
    // v2's hybrid tree without the cpu controller has usage but no bandwidth counters: the v1 file counts.
    const hybrid = `${grepped(`/sys/fs/cgroup${group}/cpu.stat`, ['usage_usec 5'])}\n${grepped(`/sys/fs/cgroup/cpu${group}/cpu.stat`, v1)}`;
    expect(parseCpuStat(hybrid, group)!.file).toBe(`/sys/fs/cgroup/cpu${group}/cpu.stat`);
    expect(parseCpuStat(grepped(`/sys/fs/cgroup${group}/cpu.stat`, v2), group)).toMatchObject({ periods: 400, throttled: 20, throttledUsec: 310_000 });
    // Another unit's lines (a name that starts the same) are not this one's.
    expect(parseCpuStat(grepped(`/sys/fs/cgroup/cpu${group}x/cpu.stat`, v1), group)).toBeNull();
    expect(cpuStatArgv(['/system.slice/../../etc', 'relative'])).toEqual(['grep', '-s', '-H', '-e', '', '--']);
  });

  it('a warning when throttled in a quarter of the periods it ran, nothing below or on too few periods', () => {
    const f = facts('development');
    const unit = Object.assign(f.status.unit!, { cpuQuotaPerSecUsec: 200_000, controlGroup: group });
    const total = { periods: 61, throttled: 61, throttledUsec: 4_852_450, readAt: 0 };
    const at = (periods: number, throttled: number, windowSec: number | null = null) => environmentFindings({ ...f, cpu: [{ unit: unit.name, invocationId: unit.invocationId, total, baseline: null, windowSec, periods, throttled, throttledUsec: 4_852_450, from: 'cat f' }] });
    expect(alarms(at(400, 20))).toEqual([]);
    expect(alarms(at(9, 9))).toEqual([]);
    const throttled = byCode(at(61, 61), 'cpu-throttled')!;
    expect(throttled).toMatchObject({ id: 'development/cpu-throttled', severity: 'warning', fix: null, title: 'mcp-coordination-dev.service is held back by its CPU limit: throttled in 61 of 61 periods (100 %) since it started, at CPUQuota=20%' });
    expect(throttled.evidence).toEqual([
      { text: `since it started or got its limit: 61 periods it wanted the CPU, 61 of them stopped, 4.9 s stopped in all (cgroup ${group}: nr_periods 61, nr_throttled 61)`, from: 'cat f' },
      { text: 'CPUQuota=20% of one CPU: 200 ms of CPU time per second', from: 'systemctl show mcp-coordination-dev.service -p CPUQuotaPerSecUSec' },
    ]);
    expect(throttled.note).toContain('raise CPUQuota=');
    // Judged since the read before, when there was one of the same run.
    expect(byCode(at(30, 12, 30), 'cpu-throttled')!.title).toBe('mcp-coordination-dev.service is held back by its CPU limit: throttled in 12 of 30 periods (40 %) in the last 30s, at CPUQuota=20%');
    Object.assign(unit, { cpuQuotaPerSecUsec: 125_000 });
    expect(byCode(at(61, 61), 'cpu-throttled')!.title).toMatch(/at CPUQuota=12\.5%$/);
  });

});

describe('without a config: a host\'s failed and crash-looping units with their cause', () => {
  it('the recorded lab: the crash-looping production unit, critical, with its exit status; nothing for the healthy ones', () => {
    const units = parseShowBlocks(recordedShow).map(toUnitStatus);
    const findings = hostFindings(units, 'lab');
    expect(findings.map((f) => [f.id, f.severity])).toEqual([['lab/crash-loop:mcp-coordination.service', 'critical']]);
    expect(findings[0]!.title).toMatch(/^mcp-coordination\.service is crash-looping \(\d+ restarts\): exit status 3$/);
    expect(findings[0]!).toMatchObject({ environment: null, host: 'lab', fix: null });
    expect(findings[0]!.evidence[0]!.text).toMatch(/^activating\/auto-restart; Result=exit-code, ExecMainStatus=3, NRestarts=\d+, Restart=always$/);
  });

  it('recorded failed units (transient units in the lab): the cause systemd\'s exit status names, a signal, a crash loop systemd gave up on', () => {
    const units = parseShowBlocks(recordedFailed).map(toUnitStatus);
    const findings = hostFindings(units, 'lab');
    const title = (unit: string) => findings.find((f) => f.id.endsWith(`:${unit}`))?.title;
    expect(findings.map((f) => [f.id, f.severity])).toEqual([
      ['lab/crash-loop:opsdeck-rec-limit.service', 'critical'],
      ['lab/unit-failed:opsdeck-rec-exec.service', 'warning'],
      ['lab/unit-failed:opsdeck-rec-namespace.service', 'warning'],
      ['lab/unit-failed:opsdeck-rec-killed.service', 'warning'],
    ]);
    expect(title('opsdeck-rec-exec.service')).toBe('opsdeck-rec-exec.service has failed: exit status 203/EXEC: its ExecStart= program is missing or not executable');
    expect(title('opsdeck-rec-namespace.service')).toBe('opsdeck-rec-namespace.service has failed: exit status 226/NAMESPACE: a path its sandbox names (ReadWritePaths=, ReadOnlyPaths=, …) does not exist');
    expect(title('opsdeck-rec-killed.service')).toBe('opsdeck-rec-killed.service has failed: killed by SIGKILL');
    expect(title('opsdeck-rec-limit.service')).toBe('opsdeck-rec-limit.service crash-looped (5 restarts) until systemd gave up: exit status 1');
    const failed = findings.find((f) => f.id === 'lab/unit-failed:opsdeck-rec-exec.service')!;
    expect(failed.evidence[0]!.text).toMatch(/^failed\/failed, since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC; Result=exit-code, ExecMainStatus=203, NRestarts=0, Restart=no$/);
    expect(failed.evidence[1]).toEqual({ text: 'unit file /run/systemd/transient/opsdeck-rec-exec.service', from: 'systemctl show opsdeck-rec-exec.service -p FragmentPath,DropInPaths' });
    expect(failed.note).toBe('its last lines: journalctl -u opsdeck-rec-exec.service -n 50; once fixed: systemctl reset-failed opsdeck-rec-exec.service (or start it)');
  });

  it('says so when the properties tell no cause', () => {
    const unit = toUnitStatus({ Id: 'x.service', ActiveState: 'failed', SubState: 'failed', Result: 'success' });
    expect(causeOf(unit)).toBe('no cause recorded (see its journal)');
  });

  it('a crash-looping unit caught running between two crashes: its journal says how it last ended', () => {
    const units = parseShowBlocks(recordedShow).map(toUnitStatus);
    const looping = units.find((u) => u.name === 'mcp-coordination.service')!;
    // As systemctl show answers in the moment the new process runs: no result, exit status 0.
    Object.assign(looping, { activeState: 'active', subState: 'running', result: 'success', execMainStatus: 0, execMainCode: 'exited' });
    expect(hostFindings(units, 'lab')[0]!.title).toMatch(/: no cause recorded \(see its journal\)$/);
    const now = Date.parse('2026-11-29T12:00:30Z');
    const line = (s: number, origin: 'unit' | 'systemd', priority: number, message: string) => ({ timeUs: (now - 30_000 + s * 1000) * 1000, priority, origin, message });
    const journal = {
      unit: looping.name,
      from: 'journalctl -u mcp-coordination.service -p notice -n 50',
      entries: [
        line(0, 'unit', 3, 'FATAL: cannot write state to /srv/data/state.json: EROFS: read-only file system'),
        line(1, 'systemd', 5, 'mcp-coordination.service: Main process exited, code=exited, status=3/NOTIMPLEMENTED'),
        line(4, 'unit', 3, 'FATAL: cannot write state to /srv/data/state.json: EROFS: read-only file system'),
        line(5, 'systemd', 5, 'mcp-coordination.service: Main process exited, code=exited, status=3/NOTIMPLEMENTED'),
      ],
    };
    const found = hostFindings(units, 'lab', new Map([[looping.name, journal]]), now)[0]!;
    expect(found.title).toMatch(/^mcp-coordination\.service is crash-looping \(\d+ restarts\): exit status 3\/NOTIMPLEMENTED$/);
    const said = found.evidence.map((e) => [e.text, ...(e.quote ?? [])].join(' | ')).join('\n');
    expect(said).toContain('2 failures in the lines read');
    expect(said).toContain('mcp-coordination.service\'s last error | FATAL: cannot write state to /srv/data/state.json: EROFS');
  });
});
