// Archives made, verified and extracted by the host's own tar (this machine's, through a
// LocalHost: real programs, no lab): the round trip gives the data back byte for byte, a
// damaged archive fails verify, and an unreadable file is a clear error with nothing left behind.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, openSync, writeSync, closeSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalHost } from '../../src/core/host/host.js';
import { BackupError, writeArchive } from '../../src/core/backups/create.js';
import { verifyArchive } from '../../src/core/backups/verify.js';
import { extractArgv, runTar } from '../../src/core/backups/tar.js';
import { readCatalog } from '../../src/core/backups/catalog.js';
import { summarizeArchive } from '../../src/core/backups/archive-read.js';
import { snapshot, writeAwkwardTree } from '../support/tree.js';

/** Every command run as nobody: root reads every file, so an unreadable one needs another user. */
class NobodyHost extends LocalHost {
  override wrap(argv: readonly string[]): string[] {
    return ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--', ...argv];
  }
}

let root: string;
const host = new LocalHost();
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'opsdeck-archive-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const spec = (source: string, dir: string, name = 'data-20261129_180000.tar.gz', compression: 'gzip' | 'zstd' = 'gzip') => ({ environment: 'test', source, dir, name, compression, createdBy: 'test' });

describe('backup archives on the host', () => {
  it.each(['gzip', 'zstd'] as const)('a %s round trip gives back contents, modes, mtimes, links, empty dirs and odd names', async (compression) => {
    const source = path.join(root, 'data');
    writeAwkwardTree(source);
    const dir = path.join(root, 'backups');
    const progress: number[] = [];
    const manifest = await writeArchive(host, spec(source, dir, `data-20261129_180000.tar.${compression === 'gzip' ? 'gz' : 'zst'}`, compression), { onProgress: (p) => progress.push(p.files) });
    const files = [...snapshot(source).values()].filter((e) => e.type === 'file');
    // A hard link is a file of its own name; its content counts once.
    expect(manifest).toMatchObject({ files: 7, dirs: 2, links: 2, bytes: files.reduce((n, f) => n + f.size, 0) - statSync(path.join(source, 'big.bin')).size });
    expect(progress.at(-1)).toBe(7);
    expect(readdirSync(dir).sort()).toEqual([manifest.archive, `${manifest.archive}.manifest.json`, `${manifest.archive}.sha256`].sort());
    expect(readFileSync(path.join(dir, `${manifest.archive}.sha256`), 'utf8')).toBe(`${manifest.sha256}  ${manifest.archive}\n`);

    // Read in process (node-tar, as source sanity reads the old job's archives), it counts the same.
    const read = await summarizeArchive(host, path.join(dir, manifest.archive));
    expect({ files: read.files, dirs: read.dirs, links: read.links, bytes: read.bytes }).toEqual({ files: manifest.files, dirs: manifest.dirs, links: manifest.links, bytes: manifest.bytes });

    const catalog = await readCatalog(host, { dir, prefix: 'data-' });
    const report = await verifyArchive(host, catalog.entries[0]!);
    expect(report.checks.map((c) => [c.name, c.ok])).toEqual([['checksum', true], ['extraction', true], ['manifest', true]]);
    expect((await readCatalog(host, { dir, prefix: 'data-' })).entries[0]!.verified?.ok).toBe(true);

    const into = path.join(root, 'restored');
    await host.run(['mkdir', '-m', '700', into]);
    const run = await runTar(host, extractArgv(path.join(dir, manifest.archive), into, compression));
    expect(run.exitCode).toBe(0);
    expect(snapshot(into)).toEqual(snapshot(source));
  });

  it('a damaged archive fails verify at its checksum, and the stream check names the damage', async () => {
    const source = path.join(root, 'data');
    writeAwkwardTree(source);
    const dir = path.join(root, 'backups');
    const manifest = await writeArchive(host, spec(source, dir));
    const file = path.join(dir, manifest.archive);
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.from('garbage!'), 0, 8, Math.floor(statSync(file).size / 2));
    closeSync(fd);
    const entry = (await readCatalog(host, { dir, prefix: 'data-' })).entries[0]!;
    const report = await verifyArchive(host, entry);
    expect(report.ok).toBe(false);
    expect(report.checks[0]).toMatchObject({ name: 'checksum', ok: false });
    // Without its manifest and checksum (as the old job's archives are), the damage is found by the extraction.
    rmSync(`${file}.manifest.json`);
    rmSync(`${file}.sha256`);
    const foreign = (await readCatalog(host, { dir, prefix: 'data-' })).entries[0]!;
    const again = await verifyArchive(host, foreign);
    expect(again.ok).toBe(false);
    expect(again.checks.find((c) => c.name === 'extraction')).toMatchObject({ ok: false, detail: expect.stringMatching(/damaged/) });
    expect(readdirSync(dir).filter((n) => n.startsWith('.opsdeck-verify'))).toEqual([]);
  });

  it('an unreadable source file is a clear error, and no partial archive is left', async () => {
    const source = path.join(root, 'data');
    writeAwkwardTree(source);
    writeFileSync(path.join(source, 'locked.db'), 'private');
    chmodSync(path.join(source, 'locked.db'), 0o000);
    chmodSync(root, 0o777);
    for (const d of [source, path.join(source, 'messages'), path.join(source, 'empty dir')]) chmodSync(d, 0o755);
    chmodSync(path.join(source, 'secret.key'), 0o644);
    const dir = path.join(root, 'backups');
    await host.run(['mkdir', '-m', '777', dir]);
    const error = await writeArchive(new NobodyHost(), spec(source, dir)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackupError);
    expect((error as Error).message).toMatch(new RegExp(`cannot read ${source}/locked\\.db \\(Permission denied\\)`));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a missing source is refused before anything is written', async () => {
    const error = await writeArchive(host, spec(path.join(root, 'nope'), path.join(root, 'backups'))).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/backup source .*nope does not exist/);
  });
});
