// Backups on real components (a lab of this file's own: real systemd, the host's tar, real
// ssh): the incident seen for what it is (the old job archives the stale copy), then the live
// data archived, verified and restored byte for byte, awkward names and all, through the lab
// transport and over ssh; a restore in place with the unit stopped around the swap and the
// health gate after; the scheduled job installed, run by systemd inside the lab, removed; and
// prune by a small retention policy. The faults are in backups-faults.test.ts.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Host } from '../../src/core/host/host.js';
import { UNITS } from '../../src/lab/scenario.js';
import { archivesIn, backupPaths, cliFor, deriveConfig, jsonLines, resultOf, sha256Of, untilFreshSecond, type Lab } from '../support/backup-lab.js';
import { describeLab, labContext, privateLab } from '../support/lab.js';
import { snapshot, writeAwkwardTree } from '../support/tree.js';
import { until } from '../support/until.js';
import { PORT_OFFSETS } from '../support/lab-constants.js';

let lab: Lab | undefined;
let ctx: ReturnType<typeof labContext> | undefined;
let host: Host;
let work = '';
let cli: ReturnType<typeof cliFor>;
/** What the lab's systemd writes for a scheduled job (the timer's enable link, its Persistent= stamp): in the lab's own mounts, never the machine's. */
const MACHINE_FILES = ['/etc/systemd/system/timers.target.wants/opsdeck-backup-development.timer', '/var/lib/systemd/timers/stamp-opsdeck-backup-development.timer'];
const p = () => backupPaths(lab!);
/** Development's archives as the tests below make them: restored (and so verified), the restore's safety archive, the scheduled job's. */
const dev = { restored: '', safety: '', scheduled: '' };
const SCHEDULE = { service: 'opsdeck-backup-development.service', timer: 'opsdeck-backup-development.timer' };

/** `systemctl show` of one unit in the lab, as a record. */
async function show(unit: string, props: string[]): Promise<Record<string, string>> {
  const { stdout } = await host.run(['systemctl', 'show', '--no-pager', `--property=${props.join(',')}`, '--', unit], { timeoutMs: 10_000 });
  return Object.fromEntries(stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/** The one archive that appeared in `dir` since `before`. */
function newArchive(dir: string, before: string[]): string {
  const added = archivesIn(dir).filter((n) => !before.includes(n));
  expect(added).toHaveLength(1);
  return added[0]!;
}

const manifestOf = (archive: string) => JSON.parse(readFileSync(`${archive}.manifest.json`, 'utf8')) as Record<string, any>;

describeLab('backups (lab)', () => {
  beforeAll(async () => {
    work = mkdtempSync('/var/tmp/opsdeck-backups-test-');
    lab = await privateLab('backups', PORT_OFFSETS.backups);
    ctx = labContext(lab.config);
    host = ctx.hosts.get('lab');
    cli = cliFor(lab.config, path.join(work, 'audit.jsonl'));
    // The old job runs once 5 s after boot: let it, so that the archives below are the newest.
    await until('the old backup job\'s first run to finish', async () => {
      const s = await show(UNITS.backup, ['ActiveState', 'ExecMainExitTimestampMonotonic']);
      return s.ActiveState === 'inactive' && Number(s.ExecMainExitTimestampMonotonic) > 0;
    }, { timeoutMs: 30_000, everyMs: 200 });
  }, 120_000);

  afterAll(async () => {
    await ctx?.hosts.closeAll();
    await lab?.down();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the incident: the list shows the old job archives the stale copy; the live data (awkward names and all) is archived, verified and restored byte for byte', async () => {
    const listed = await cli(['backup', 'list', 'production', '--json']);
    expect(listed.code).toBe(1);
    const before = JSON.parse(listed.stdout);
    expect(before.sanity.verdict).toBe('archives-stale');
    expect(before.sanity.newestArchive.matches).toBe(p().staleData);
    expect(before.sanity.summary).toContain(`the existing backups archive ${p().staleData} (mcp-coordination.service's ReadWritePaths=), not the live data in ${p().liveData}`);
    expect(before.sanity.evidence.map((e: { text: string }) => e.text)).toContain(`mcp-coordination.service: ReadWritePaths=${p().staleData}`);

    // Data the app never touches, with every awkwardness a name or a file can have.
    const awkward = path.join(p().liveData, 'awkward');
    writeAwkwardTree(awkward);
    const archives = archivesIn(p().backups);
    const made = await cli(['backup', 'create', 'production', '--yes', '--json']);
    expect(resultOf(made.stdout)).toMatchObject({ ok: true, status: 'finished' });
    expect(made.code).toBe(0);
    const name = newArchive(p().backups, archives);
    const file = path.join(p().backups, name);
    const manifest = manifestOf(file);
    expect(manifest).toMatchObject({ archive: name, environment: 'production', host: 'lab', source: p().liveData, sha256: sha256Of(file), archiveBytes: statSync(file).size, createdBy: 'opsdeck' });
    expect(manifest.files).toBeGreaterThanOrEqual(6);
    expect(readFileSync(`${file}.sha256`, 'utf8')).toBe(`${manifest.sha256}  ${name}\n`);

    // The newest archive now holds the live data: source sanity has nothing to say.
    const after = await cli(['backup', 'list', 'production', '--json']);
    const overview = JSON.parse(after.stdout);
    expect(overview.catalog.entries[0]).toMatchObject({ name, manifest: { sha256: manifest.sha256 } });
    expect(overview.sanity.verdict).toBe('ok');
    expect(after.code).toBe(0);

    const verified = await cli(['backup', 'verify', 'production', name, '--json']);
    const report = JSON.parse(verified.stdout);
    expect(report.checks.map((c: { name: string; ok: boolean }) => [c.name, c.ok])).toEqual([['checksum', true], ['extraction', true], ['manifest', true]]);
    expect(verified.code).toBe(0);
    // The test extraction left nothing behind.
    expect(readdirSync(p().backups).filter((n) => n.startsWith('.opsdeck-verify'))).toEqual([]);

    const into = path.join(p().srv, 'restored-production');
    const restored = await cli(['backup', 'restore', 'production', name, '--to', into, '--yes']);
    expect(restored.stdout).toMatch(/✓ restore .* done/);
    expect(restored.code).toBe(0);
    expect(snapshot(path.join(into, 'awkward'))).toEqual(snapshot(awkward));
    expect(readdirSync(p().srv).filter((n) => n.includes('opsdeck-restore'))).toEqual([]);
  }, 60_000);

  it('over ssh (--host lab-ssh): the same create, verify and restore round trip', async () => {
    if (!ctx!.config.hosts['lab-ssh']) throw new Error('the lab has no ssh host: install openssh-server');
    await untilFreshSecond(p().backups);
    const archives = archivesIn(p().backups);
    const made = await cli(['backup', 'create', 'production', '--host', 'lab-ssh', '--yes']);
    expect(made.stdout).toMatch(/locked production on host lab-ssh/);
    expect(made.code).toBe(0);
    const name = newArchive(p().backups, archives);
    expect(manifestOf(path.join(p().backups, name))).toMatchObject({ host: 'lab-ssh', source: p().liveData });

    const verified = await cli(['backup', 'verify', 'production', name, '--host', 'lab-ssh', '--json']);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, host: 'lab-ssh', madeByOpsdeck: true });
    expect(verified.code).toBe(0);

    const into = path.join(p().srv, 'restored-over-ssh');
    const restored = await cli(['backup', 'restore', 'production', name, '--to', into, '--host', 'lab-ssh', '--yes']);
    expect(restored.code).toBe(0);
    expect(snapshot(path.join(into, 'awkward'))).toEqual(snapshot(path.join(p().liveData, 'awkward')));
  }, 60_000);

  it('a restore into development\'s data dir with --stop: safety archive first, unit stopped, swapped, started, health gate; the old data kept beside it', async () => {
    writeAwkwardTree(path.join(p().devData, 'awkward'));
    const archives = archivesIn(p().devBackups);
    const made = await cli(['backup', 'create', 'development', '--yes']);
    expect(made.code).toBe(0);
    const name = newArchive(p().devBackups, archives);
    dev.restored = name;
    // Written after the backup: the restore takes it away, the kept copy has it.
    writeFileSync(path.join(p().devData, 'written-after-backup.txt'), 'after\n');
    const invocation = (await show(UNITS.development, ['InvocationID'])).InvocationID;
    await untilFreshSecond(p().devBackups);

    const restored = await cli(['backup', 'restore', 'development', name, '--stop', '--yes', '--json']);
    const events = jsonLines(restored.stdout);
    expect(events.filter((e) => e.type === 'step-started').map((e) => e.step.kind)).toEqual(['backup-create', 'systemctl', 'extract', 'swap-dir', 'systemctl', 'health-gate']);
    expect(events.filter((e) => e.type === 'step-started' && e.step.kind === 'systemctl').map((e) => e.step.verb)).toEqual(['stop', 'start']);
    expect(resultOf(restored.stdout)).toMatchObject({ ok: true, status: 'finished' });
    expect(restored.code).toBe(0);
    const op = events[0]!.operation as string;

    expect(await show(UNITS.development, ['ActiveState', 'SubState'])).toEqual({ ActiveState: 'active', SubState: 'running' });
    expect((await show(UNITS.development, ['InvocationID'])).InvocationID).not.toBe(invocation);
    const health = await fetch(`http://127.0.0.1:${lab!.state.ports.development}/health`);
    expect(health.status).toBe(200);

    const kept = readdirSync(p().development).filter((n) => n.startsWith('data.before-restore-'));
    expect(kept).toEqual([`data.before-restore-${op.slice(0, 15)}`]);
    const keptDir = path.join(p().development, kept[0]!);
    expect(existsSync(path.join(keptDir, 'written-after-backup.txt'))).toBe(true);
    expect(existsSync(path.join(p().devData, 'written-after-backup.txt'))).toBe(false);
    expect(snapshot(path.join(p().devData, 'awkward'))).toEqual(snapshot(path.join(keptDir, 'awkward')));
    expect(readdirSync(p().development).filter((n) => n.includes('opsdeck-restore'))).toEqual([]);

    // The data as it was just before: archived first, by this operation.
    const safety = archivesIn(p().devBackups).filter((n) => n.endsWith('-before-restore.tar.gz'));
    expect(safety).toHaveLength(1);
    dev.safety = safety[0]!;
    expect(manifestOf(path.join(p().devBackups, dev.safety))).toMatchObject({ source: p().devData, operation: op });
  }, 60_000);

  it('schedule: installs the service and timer in the lab; systemd runs opsdeck inside the lab, which makes an archive', async () => {
    const scheduled = await cli(['backup', 'schedule', 'development', '--yes']);
    expect(scheduled.code).toBe(0);
    const service = readFileSync(path.join(p().units, SCHEDULE.service), 'utf8');
    expect(service).toContain(`backup create development --yes --config ${p().onHostConfig}`);
    expect(existsSync(path.join(p().units, SCHEDULE.timer))).toBe(true);
    const timer = await show(SCHEDULE.timer, ['LoadState', 'ActiveState', 'NextElapseUSecRealtime']);
    expect(timer).toMatchObject({ LoadState: 'loaded', ActiveState: 'active' });
    expect(timer.NextElapseUSecRealtime).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);

    await untilFreshSecond(p().devBackups);
    const archives = archivesIn(p().devBackups);
    // Type=oneshot: `systemctl start` returns once the job (create, then prune) is done.
    await host.run(['systemctl', 'start', '--', SCHEDULE.service], { timeoutMs: 120_000 });
    expect(await show(SCHEDULE.service, ['Result', 'ExecMainStatus'])).toEqual({ Result: 'success', ExecMainStatus: '0' });
    const name = newArchive(p().devBackups, archives);
    dev.scheduled = name;
    const manifest = manifestOf(path.join(p().devBackups, name));
    // opsdeck ran on the host itself: its host is "local" there.
    expect(manifest).toMatchObject({ environment: 'development', host: 'local', source: p().devData, sha256: sha256Of(path.join(p().devBackups, name)) });

    const listed = JSON.parse((await cli(['backup', 'list', 'development', '--json'])).stdout);
    expect(listed.catalog.entries[0]).toMatchObject({ name, manifest: { sha256: manifest.sha256 } });
    expect(listed.schedule).toMatchObject({ timer: SCHEDULE.timer, installed: true, active: true });
    // Enabled and stamped inside the lab only: the machine's own systemd directories are untouched.
    for (const file of MACHINE_FILES) expect(existsSync(file)).toBe(false);
  }, 60_000);

  // The run above was started by hand: the service's own last invocation is the last run.
  it('schedule: the list shows the last run and its result, and the next run', async () => {
    const listed = JSON.parse((await cli(['backup', 'list', 'development', '--json'])).stdout);
    expect(listed.schedule.nextRun).toEqual(expect.any(String));
    expect(listed.schedule.lastRun).toEqual(expect.any(String));
    expect(listed.schedule.lastResult).toBe('success');
  }, 30_000);

  it('unschedule removes both units', async () => {
    const removed = await cli(['backup', 'unschedule', 'development', '--yes']);
    expect(removed.code).toBe(0);
    expect(existsSync(path.join(p().units, SCHEDULE.service))).toBe(false);
    expect(existsSync(path.join(p().units, SCHEDULE.timer))).toBe(false);
    expect((await show(SCHEDULE.timer, ['LoadState'])).LoadState).toBe('not-found');
    expect((await show(SCHEDULE.service, ['LoadState'])).LoadState).toBe('not-found');
    expect(JSON.parse((await cli(['backup', 'list', 'development', '--json'])).stdout).schedule).toMatchObject({ installed: false });
  }, 60_000);

  it('prune with keepLast 1: --dry-run lists what would go and removes nothing; --yes removes those and their sidecars, never the newest verified', async () => {
    const config = deriveConfig(lab!, 'keep-last-1', (doc) => {
      doc.environments.development!.backups.keepLast = 1;
    });
    const prune = cliFor(config, path.join(work, 'audit.jsonl'));
    // The newest is the scheduled job's; the newest verified, the one restored; the lab's hour-old
    // one goes. The restore's safety archive stays whatever the numbers say: it is the way back.
    const { restored: verified, safety, scheduled: newest } = dev;
    expect(safety).toMatch(/-before-restore\.tar\.gz$/);
    const gone = archivesIn(p().devBackups).filter((n) => n !== verified && n !== newest && n !== safety);
    expect(gone).toHaveLength(1);
    const files = readdirSync(p().devBackups).sort();

    const dry = await prune(['backup', 'prune', 'development', '--dry-run']);
    expect(dry.code).toBe(0);
    for (const name of gone) expect(dry.stdout).toContain(`remove ${name}`);
    expect(dry.stdout).toContain(`keep ${newest}: one of the newest 1 (#1)`);
    expect(dry.stdout).toContain(`keep ${verified}: the newest verified archive`);
    expect(dry.stdout).toContain(`leave ${safety} (a safety archive taken before a restore`);
    expect(dry.stdout).toMatch(/dry run: nothing was done/);
    expect(readdirSync(p().devBackups).sort()).toEqual(files);

    const done = await prune(['backup', 'prune', 'development', '--yes']);
    expect(done.code).toBe(0);
    expect(readdirSync(p().devBackups).sort()).toEqual(files.filter((f) => !gone.some((g) => f.startsWith(g))));
    expect(archivesIn(p().devBackups).sort()).toEqual([verified, newest, safety].sort());
    expect(existsSync(`${path.join(p().devBackups, safety)}.manifest.json`)).toBe(true);
    expect(existsSync(path.join(p().devBackups, `${verified}.verified.json`))).toBe(true);
  }, 60_000);
});
