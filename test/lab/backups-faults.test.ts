// Backups that go wrong, on a lab of this file's own, each ending consistent: the CLI killed
// (-9) in the middle of a create, a destination that fills up, a corrupted archive, a restore
// that runs out of space half-way, and a source file opsdeck may not read. Development's data
// is made big (200 MB of random bytes in 1 MB files) so that a create takes a few seconds.
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { Host } from '../../src/core/host/host.js';
import { UNITS } from '../../src/lab/scenario.js';
import { archivesIn, backupPaths, cliFor, deriveConfig, inLab, lockHolder, processesUsing, sha256Of, untilFreshSecond, type Lab } from '../support/backup-lab.js';
import { describeLab, labContext, opsdeckBin, privateLab } from '../support/lab.js';
import { snapshot, writeAwkwardTree } from '../support/tree.js';
import { until } from '../support/until.js';
import { PORT_OFFSETS } from '../support/lab-constants.js';

let lab: Lab | undefined;
let ctx: ReturnType<typeof labContext> | undefined;
let host: Host;
let work = '';
let audit = '';
let cli: ReturnType<typeof cliFor>;
/** The first archive of the big data, made whole: the "older archive" a failure must not touch. */
let baseline = '';
const p = () => backupPaths(lab!);

/** Flip `count` bytes in the middle of a file. */
function corrupt(file: string, count = 16): void {
  const fd = openSync(file, 'r+');
  try {
    const at = Math.floor(statSync(file).size / 2);
    const bytes = Buffer.alloc(count);
    readSync(fd, bytes, 0, count, at);
    writeSync(fd, bytes.map((b) => b ^ 0xff), 0, count, at);
  } finally {
    closeSync(fd);
  }
}

/** A tmpfs of `size` over a fresh directory, mounted in the lab's mount namespace only. */
async function smallDisk(dir: string, size: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await host.run(['mount', '-t', 'tmpfs', '-o', `size=${size},mode=755`, 'opsdeck-test-small', dir]);
}

const unmount = (dir: string) => host.run(['umount', '--', dir], { okExitCodes: [0, 32] });

describeLab('backups: faults (lab)', () => {
  beforeAll(async () => {
    work = mkdtempSync('/var/tmp/opsdeck-backup-faults-test-');
    audit = path.join(work, 'audit.jsonl');
    lab = await privateLab('backup-faults', PORT_OFFSETS.backupFaults);
    ctx = labContext(lab.config);
    host = ctx.hosts.get('lab');
    cli = cliFor(lab.config, audit);
    const big = path.join(p().devData, 'big');
    mkdirSync(big);
    for (let i = 0; i < 200; i++) writeFileSync(path.join(big, `chunk-${String(i).padStart(3, '0')}.bin`), randomBytes(1 << 20));
    writeAwkwardTree(path.join(p().devData, 'awkward'));
    // The lab's development comes with an archive of its own (not made by opsdeck).
    const seeded = archivesIn(p().devBackups);
    const made = await cli(['backup', 'create', 'development', '--yes']);
    expect(made.code, made.stdout).toBe(0);
    baseline = archivesIn(p().devBackups).find((n) => !seeded.includes(n))!;
  }, 120_000);

  // A test that failed half-way must not leave the next ones locked out.
  afterEach(async () => {
    if (lab && lockHolder(lab, 'development')) await cli(['lock', 'development', '--break', '--yes']);
  });

  afterAll(async () => {
    await ctx?.hosts.closeAll();
    await lab?.down();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('kill -9 in the middle of a create: the partial is never listed as an archive, tar stops, older archives are untouched; rollback cleans up', async () => {
    const archives = archivesIn(p().devBackups);
    const checksums = () => archivesIn(p().devBackups).map((n) => [n, sha256Of(path.join(p().devBackups, n))]);
    const older = checksums();
    await untilFreshSecond(p().devBackups);
    const child = execa(process.execPath, [opsdeckBin, 'backup', 'create', 'development', '--yes', '--config', lab!.config], { reject: false, env: { NO_COLOR: '1', OPSDECK_AUDIT_LOG: audit } });
    const partialNow = () => readdirSync(p().devBackups).find((n) => n.endsWith('.partial'));
    let size = -1;
    await until('the partial archive to exist and grow', () => {
      const name = partialNow();
      if (!name) return false;
      const now = statSync(path.join(p().devBackups, name)).size;
      const grew = size >= 0 && now > size;
      size = now;
      return grew;
    }, { timeoutMs: 30_000, everyMs: 50 });
    const op = lockHolder(lab!, 'development');
    expect(op).not.toBeNull();
    process.kill(child.pid!, 'SIGKILL');
    expect((await child).signal).toBe('SIGKILL');

    // tar notices within 40 MiB that nobody reads it and stops, its compressor with it: cut
    // short, not written to the end (a compressing tar ignores the broken pipe by itself).
    const partial = path.join(p().devBackups, partialNow()!);
    await until('no process to write the partial', () => processesUsing(partial).length === 0, { timeoutMs: 30_000, everyMs: 100 });
    const cutAt = statSync(partial).size;
    expect(cutAt).toBeGreaterThan(0);
    expect(cutAt).toBeLessThan(statSync(path.join(p().devBackups, baseline)).size / 2);

    const listed = JSON.parse((await cli(['backup', 'list', 'development', '--json'])).stdout);
    expect(listed.catalog.partials.map((a: { name: string }) => a.name)).toEqual([path.basename(partial)]);
    expect(listed.catalog.entries.map((e: { name: string }) => e.name).sort()).toEqual(archives);
    expect(checksums()).toEqual(older);
    expect(listed.catalog.entries.find((e: { name: string }) => e.name === baseline).manifest.sha256).toBe(sha256Of(path.join(p().devBackups, baseline)));
    expect(statSync(partial).size).toBe(cutAt);

    const ops = JSON.parse((await cli(['ops', 'development', '--json'])).stdout) as Array<{ id: string; status: string }>;
    expect(ops.find((o) => o.id === op)).toMatchObject({ status: 'interrupted' });
    const back = await cli(['ops', 'rollback', op!, '--yes']);
    expect(back.stdout).toMatch(/rolled back/);
    expect(back.code).toBe(0);
    expect(existsSync(partial)).toBe(false);
    expect(checksums()).toEqual(older);
    expect(lockHolder(lab!, 'development')).toBeNull();
    expect(JSON.parse((await cli(['backup', 'list', 'development', '--json'])).stdout).catalog.partials).toEqual([]);
  }, 60_000);

  it('a destination that fills up: the create fails saying so, exit code 1, no partial left', async () => {
    const full = path.join(p().srv, 'full-backups');
    const config = deriveConfig(lab!, 'full-destination', (doc) => {
      doc.environments.development!.backups.dir = full;
    });
    await smallDisk(full, '1m');
    try {
      const r = await cliFor(config, audit)(['backup', 'create', 'development', '--yes']);
      expect(r.stdout).toMatch(new RegExp(`the backup destination ${full} on host lab is full \\((?!0B)\\S+ free without the partial archive\\)`));
      expect(r.stdout).toMatch(/the partial archive was removed/);
      expect(r.stdout).toMatch(/rolled back/);
      expect(r.code).toBe(1);
      expect(readdirSync(inLab(lab!, full))).toEqual([]);
    } finally {
      await unmount(full);
    }
  }, 60_000);

  it('a corrupted archive fails verify (its checksum named) and restore refuses it, the data untouched', async () => {
    // A copy of the baseline (sidecars and all) under an older name, damaged in the middle.
    const name = 'data-20250101_000000.tar.gz';
    const file = path.join(p().devBackups, name);
    for (const suffix of ['', '.sha256', '.manifest.json']) copyFileSync(path.join(p().devBackups, baseline) + suffix, file + suffix);
    corrupt(file);

    const verified = await cli(['backup', 'verify', 'development', name, '--json']);
    const report = JSON.parse(verified.stdout);
    expect(report).toMatchObject({ ok: false, madeByOpsdeck: true });
    expect(report.checks[0]).toMatchObject({ name: 'checksum', ok: false, detail: expect.stringMatching(/was recorded when it was made: the file changed or is damaged/) });
    expect(verified.code).toBe(1);

    const data = snapshot(path.join(p().devData, 'awkward'));
    const invocation = (await host.run(['systemctl', 'show', '--property=InvocationID', '--value', '--', UNITS.development])).stdout;
    const archives = archivesIn(p().devBackups);
    const refused = await cli(['backup', 'restore', 'development', name, '--stop', '--yes']);
    expect(refused.stdout).toMatch(/✗ checksum: sha256 is [0-9a-f]{64}, [0-9a-f]{64} was recorded/);
    expect(refused.stderr).toContain(`refusing to restore ${name}: it failed verify`);
    expect(refused.code).toBe(1);
    expect(snapshot(path.join(p().devData, 'awkward'))).toEqual(data);
    expect((await host.run(['systemctl', 'show', '--property=InvocationID', '--value', '--', UNITS.development])).stdout).toBe(invocation);
    expect(readdirSync(p().development).filter((n) => n.includes('restore'))).toEqual([]);
    expect(archivesIn(p().devBackups)).toEqual(archives);

    // The old job's archives have no checksum: the damage is found by the test extraction.
    const old = archivesIn(p().backups).at(-1)!;
    corrupt(path.join(p().backups, old), 8);
    const oldReport = await cli(['backup', 'verify', 'production', old, '--json']);
    expect(JSON.parse(oldReport.stdout).checks.map((c: { name: string; ok: boolean }) => [c.name, c.ok])).toEqual([['checksum', true], ['extraction', false]]);
    expect(JSON.parse(oldReport.stdout).checks[1].detail).toMatch(/^the archive is damaged: /);
    expect(oldReport.code).toBe(1);
    expect(readdirSync(p().backups).filter((n) => n.startsWith('.opsdeck-verify'))).toEqual([]);
    for (const suffix of ['', '.sha256', '.manifest.json', '.verified.json']) rmSync(file + suffix, { force: true });
  }, 60_000);

  it('a restore that runs out of space half-way is rolled back: the target as it was, no temporary directory left', async () => {
    const disk = path.join(p().srv, 'small-restore');
    await smallDisk(disk, '4m');
    try {
      const target = path.join(disk, 'target');
      writeAwkwardTree(inLab(lab!, target));
      const before = snapshot(inLab(lab!, target));
      const archives = archivesIn(p().devBackups);
      const r = await cli(['backup', 'restore', 'development', baseline, '--to', target, '--yes']);
      expect(r.stdout).toMatch(new RegExp(`no space left in ${disk} on host lab .*while extracting`));
      expect(r.stdout).toMatch(/↶ undone 1\/3 safety archive/);
      expect(r.stdout).toMatch(/failed at step 2, rolled back/);
      expect(r.code).toBe(1);
      expect(snapshot(inLab(lab!, target))).toEqual(before);
      expect(readdirSync(inLab(lab!, disk))).toEqual(['target']);
      // The safety archive of the target went with the rollback.
      expect(archivesIn(p().devBackups)).toEqual(archives);
    } finally {
      await unmount(disk);
    }
  }, 60_000);

  it('a source file opsdeck may not read: the create fails naming it, nothing kept', async () => {
    // Root reads everything; root without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (for it and
    // every command it runs in the lab) is held to the file modes like any user.
    const asUser = (args: string[]) =>
      execa('setpriv', ['--bounding-set', '-dac_override,-dac_read_search', '--inh-caps', '-dac_override,-dac_read_search', '--', process.execPath, opsdeckBin, ...args, '--config', lab!.config], { reject: false, env: { NO_COLOR: '1', OPSDECK_AUDIT_LOG: audit } });
    const locked = path.join(p().devData, 'locked.key');
    writeFileSync(locked, 'secret\n');
    chmodSync(locked, 0o000);
    const sealed = path.join(p().devData, 'sealed');
    try {
      const archives = archivesIn(p().devBackups);
      await untilFreshSecond(p().devBackups);
      const file = await asUser(['backup', 'create', 'development', '--yes']);
      expect(file.stdout, file.stderr).toContain(`cannot read ${locked} (Permission denied) on host lab: the archive would be incomplete, so it was not kept`);
      expect(file.exitCode).toBe(1);
      expect(readdirSync(p().devBackups).filter((n) => n.endsWith('.partial'))).toEqual([]);
      expect(archivesIn(p().devBackups)).toEqual(archives);

      // A directory it may not enter is found by the pre-scan, before any archive is begun.
      rmSync(locked);
      mkdirSync(sealed);
      writeFileSync(path.join(sealed, 'inside.txt'), 'x\n');
      chmodSync(sealed, 0o000);
      const dir = await asUser(['backup', 'create', 'development', '--yes']);
      expect(dir.stdout, dir.stderr).toContain(`cannot read ${sealed} (Permission denied) in the backup source on host lab`);
      expect(dir.exitCode).toBe(1);
      expect(archivesIn(p().devBackups)).toEqual(archives);
    } finally {
      rmSync(locked, { force: true });
      if (existsSync(sealed)) chmodSync(sealed, 0o755);
      rmSync(sealed, { recursive: true, force: true });
    }
  }, 60_000);
});
