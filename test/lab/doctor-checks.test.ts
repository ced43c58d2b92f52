// The doctor's closer looks, each triggered on a lab of this file's own (real systemd, real
// units): a unit whose bind fails because another unit holds its port (port-conflict), a typo in
// a drop-in (systemd-analyze verify), a health probe answering another version, backups
// configured on the stale directory or on none, and a backups disk nearly full whose newest
// archive is older than two runs of opsdeck's schedule and much smaller than the one before.
// Each scenario puts the lab back as it found it.
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveName } from '../../src/core/backups/policy.js';
import type { Finding } from '../../src/core/doctor/finding.js';
import type { Host } from '../../src/core/host/host.js';
import { backupPaths, cliFor, deriveConfig, inLab, type Lab } from '../support/backup-lab.js';
import { describeLab, labContext, privateLab } from '../support/lab.js';
import { PORT_OFFSETS, privatePortBase } from '../support/lab-constants.js';
import { until } from '../support/until.js';

const OFFSET = PORT_OFFSETS.doctorChecks;
const DEV_PORT = privatePortBase(OFFSET) + 2;
const DEV_UNIT = 'mcp-coordination-dev.service';
const HOLDER = 'opsdeck-test-port-holder.service';

let lab: Lab | undefined;
let ctx: ReturnType<typeof labContext> | undefined;
let host: Host;
let work = '';
const p = () => backupPaths(lab!);

async function doctor(config = lab!.config): Promise<{ code: number; findings: Finding[] }> {
  const { code, stdout, stderr } = await cliFor(config, path.join(work, 'audit.jsonl'))(['doctor', 'development', '--json']);
  expect(stdout, stderr).not.toBe('');
  return { code, findings: (JSON.parse(stdout) as { findings: Finding[] }).findings };
}
const codes = (findings: Finding[]) => findings.filter((f) => f.severity !== 'info').map((f) => f.code);
const find = (findings: Finding[], code: string) => findings.find((f) => f.code === code);

/** Development as the lab booted it: its unit active and serving, and the doctor says nothing of it. */
async function developmentHealthy(): Promise<void> {
  await until('development to serve again, the doctor clean', async () => codes((await doctor()).findings).length === 0, { timeoutMs: 60_000, everyMs: 500 });
}

describeLab('the doctor\'s closer looks, each on the lab', () => {
  beforeAll(async () => {
    lab = await privateLab('doctor-checks', OFFSET);
    ctx = labContext(lab.config);
    host = ctx.hosts.get('lab');
    work = path.join('/var/tmp', `opsdeck-doctor-checks-${process.pid}`);
    mkdirSync(work, { recursive: true });
    await developmentHealthy();
  }, 120_000);

  afterAll(async () => {
    await ctx?.hosts.closeAll();
    await lab?.down();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  describe('scenarios', () => {
    it('port conflict: the unit\'s bind fails (EADDRINUSE) while another unit holds its port, which the finding names', async () => {
      await host.run(['systemctl', 'stop', DEV_UNIT]);
      const server = `require('http').createServer((q, s) => s.end('holder')).listen(${DEV_PORT}, '127.0.0.1')`;
      await host.run(['systemd-run', `--unit=${HOLDER}`, '--quiet', '/usr/bin/node', '-e', server]);
      try {
        await until('the holder to listen', async () => (await host.run(['ss', '-Htln', `sport = :${DEV_PORT}`])).stdout.trim() !== '', { timeoutMs: 20_000, everyMs: 100 });
        await host.run(['systemctl', 'start', DEV_UNIT]);
        let findings: Finding[] = [];
        await until('the doctor to see the conflict', async () => {
          findings = (await doctor()).findings;
          return find(findings, 'port-conflict') !== undefined;
        }, { timeoutMs: 60_000, everyMs: 500 });
        const conflict = find(findings, 'port-conflict')!;
        expect(conflict.severity).toBe('critical');
        expect(conflict.title).toMatch(new RegExp(`^${DEV_UNIT.replace(/\./g, '\\.')} cannot listen: port ${DEV_PORT} is already in use by ${HOLDER.replace(/\./g, '\\.')} \\(PID \\d+, /usr/bin/node -e .*\\)$`));
        expect(conflict.evidence[0]!.quote![0]).toContain(`cannot listen on 127.0.0.1:${DEV_PORT}: address already in use (EADDRINUSE)`);
        expect(conflict.note).toContain(`stop ${HOLDER}`);
        expect(codes(findings)).toContain('port-other-unit');
      } finally {
        await host.run(['systemctl', 'stop', HOLDER], { okExitCodes: [0, 5] });
        await host.run(['systemctl', 'restart', DEV_UNIT]);
      }
      await developmentHealthy();
    }, 150_000);

    it('a typo in a drop-in: systemd-analyze verify\'s complaint, quoted from the drop-in', async () => {
      const fragment = (await host.run(['systemctl', 'show', '-p', 'FragmentPath', '--value', DEV_UNIT])).stdout.trim();
      const dropIn = `${fragment}.d/opsdeck-test-typo.conf`;
      await host.run(['mkdir', '-p', '--', path.posix.dirname(dropIn)]);
      await host.run(['tee', '--', dropIn], { input: Buffer.from('[Service]\nRestrat=always\n') });
      await host.run(['systemctl', 'daemon-reload']);
      try {
        const { code, findings } = await doctor();
        expect(code).toBe(1);
        expect(codes(findings)).toEqual(['unit-verify']);
        const verify = find(findings, 'unit-verify')!;
        expect(verify.title).toBe(`systemd-analyze verify finds 1 problem in ${DEV_UNIT}: ${dropIn}:2: Unknown key 'Restrat' in section [Service], ignoring.`);
        expect(verify.evidence[0]!.from).toBe(`env SYSTEMD_UNIT_PATH=${path.posix.dirname(fragment)}: systemd-analyze verify --man=no -- ${DEV_UNIT}`);
      } finally {
        await host.run(['rm', '-f', '--', dropIn]);
        await host.run(['systemctl', 'daemon-reload']);
      }
      await developmentHealthy();
    }, 120_000);

    it('a health probe answering another version than the environment expects: a warning of its own', async () => {
      const config = deriveConfig(lab!, 'doctor-version', (doc) => {
        (doc.environments.development as unknown as { health: { expect?: Record<string, unknown> } }).health.expect = { version: '^9\\.' };
      });
      const { code, findings } = await doctor(config);
      expect(code).toBe(1);
      expect(codes(findings)).toEqual(['health-version']);
      expect(find(findings, 'health-version')!.title).toMatch(/^development answers with version \S+, not the expected \/\^9\\\.\/$/);
    });

    it('backups configured to archive the stale directory: the doctor names the live one, and its fix backs that up', async () => {
      const config = deriveConfig(lab!, 'doctor-stale-source', (doc) => {
        doc.environments.production!.backups.source = path.join(p().srv, 'production-data');
      });
      const { stdout } = await cliFor(config, path.join(work, 'audit.jsonl'))(['doctor', 'production', '--json']);
      const stale = find((JSON.parse(stdout) as { findings: Finding[] }).findings, 'backup-source-stale')!;
      expect(stale.severity).toBe('critical');
      expect(stale.title).toMatch(/^backups would archive the wrong directory: /);
      expect(stale.fix?.plan).toEqual({ kind: 'backup-create', environment: 'production', source: path.join(p().srv, 'production', 'data') });
      expect(stale.note).toContain(`set backups.source (or dataDir) of production to ${path.join(p().srv, 'production', 'data')}`);
    });

    it('backups of an environment with no service yet, whose source is not made: source sanity cannot tell, an info finding, nothing above it', async () => {
      const config = deriveConfig(lab!, 'doctor-unknown-source', (doc) => {
        doc.environments.scratch = { host: 'lab', backups: { dir: p().devBackups, source: path.join(p().srv, 'scratch') } } as unknown as (typeof doc.environments)[string];
      });
      const { code, stdout } = await cliFor(config, path.join(work, 'audit.jsonl'))(['doctor', 'scratch', '--json']);
      const findings = (JSON.parse(stdout) as { findings: Finding[] }).findings;
      expect(codes(findings), findings.map((f) => f.title).join('\n')).toEqual([]);
      expect(code).toBe(0);
      expect(find(findings, 'backup-sanity-unknown')).toMatchObject({ severity: 'info', environment: 'scratch' });
    });

    it('the backups disk nearly full, the newest archive older than two runs of the schedule, and much smaller than the one before', async () => {
      const disk = path.join(p().srv, 'doctor-small-backups');
      mkdirSync(disk, { recursive: true });
      await host.run(['mount', '-t', 'tmpfs', '-o', 'size=1m,mode=755', 'opsdeck-test-small', disk]);
      // opsdeck's backup timer (as `opsdeck backup schedule` names it), loaded, never started:
      // only backups that run on opsdeck's timer are judged by its schedule.
      const fragment = (await host.run(['systemctl', 'show', '-p', 'FragmentPath', '--value', DEV_UNIT])).stdout.trim();
      const timer = path.posix.join(path.posix.dirname(fragment), 'opsdeck-backup-development.timer');
      await host.run(['tee', '--', timer], { input: Buffer.from('[Unit]\nDescription=opsdeck test: a backup timer, never started\n[Timer]\nOnCalendar=hourly\nUnit=opsdeck-test-none.service\n') });
      await host.run(['systemctl', 'daemon-reload']);
      try {
        // Made here, written into the lab's tmpfs through its mount namespace: an archive of
        // incompressible bytes five hours ago, then one of almost nothing four hours ago.
        const make = (content: Buffer, hoursAgo: number) => {
          const when = new Date(Date.now() - hoursAgo * 3600_000);
          const src = path.join(work, `src-${hoursAgo}`);
          mkdirSync(src, { recursive: true });
          writeFileSync(path.join(src, 'payload'), content);
          const file = path.join(inLab(lab!, disk), archiveName({ prefix: 'data-', compression: 'gzip' }, when));
          execFileSync('tar', ['-czf', file, '-C', src, '.']);
          utimesSync(file, when, when);
        };
        make(randomBytes(960 * 1024), 5);
        make(Buffer.from('nothing here\n'), 4);
        const config = deriveConfig(lab!, 'doctor-small-disk', (doc) => {
          doc.environments.development!.backups.dir = disk;
          doc.environments.development!.backups.schedule = 'hourly';
        });
        const { findings } = await doctor(config);
        const low = find(findings, 'disk-low')!;
        expect(low.title).toMatch(new RegExp(`^low disk space on host lab for backups ${disk}: \\S+ free of \\S+ \\(\\d\\.\\d %\\)$`));
        expect(low.evidence[0]!.from).toMatch(new RegExp(`^stat -f .* ${disk}$`));
        const stale = find(findings, 'backup-stale')!;
        expect(stale.title).toMatch(/ is 4h0\dm old, the schedule runs every 1h00m$/);
        expect(stale.evidence.map((e) => e.from)).toContain('env TZ=UTC0 systemd-analyze calendar --iterations=8 -- hourly');
        expect(find(findings, 'backup-shrunk')!.title).toMatch(/^the newest backup data-\d{8}_\d{6}\.tar\.gz is 9\d% smaller than data-\d{8}_\d{6}\.tar\.gz$/);
        expect(find(findings, 'backup-stale')!.evidence.map((e) => e.text).join('\n')).toContain('two runs of the schedule hourly, every 1h00m');
        // Status asks the same per-host looks: its problems are these findings.
        const status = JSON.parse((await cliFor(config, path.join(work, 'audit.jsonl'))(['status', 'development', '--json'])).stdout) as { environments: Array<{ problems: Array<{ code: string }> }> };
        expect(status.environments[0]!.problems.map((x) => x.code).sort()).toEqual(findings.filter((f) => f.severity !== 'info').map((f) => f.code).sort());
      } finally {
        await host.run(['umount', '--', disk], { okExitCodes: [0, 32] });
        rmSync(disk, { recursive: true, force: true });
        await host.run(['rm', '-f', '--', timer]);
        await host.run(['systemctl', 'daemon-reload']);
      }
    });
  });
});
