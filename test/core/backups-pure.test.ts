// The pure parts of backups: names and times, tar's own lines, the catalog's alarms, retention,
// the manifest check, and the scheduled job's unit files. Recorded real tar output; no host.
import { describe, expect, it } from 'vitest';
import { buildCatalog, shrinkAlarm, type CatalogEntry } from '../../src/core/backups/catalog.js';
import { parseManifest, type Manifest } from '../../src/core/backups/manifest.js';
import { parseFindListing } from '../../src/core/backups/listing.js';
import { scheduleFiles, systemdWord } from '../../src/core/backups/plans.js';
import { archiveName, compressionOf, resolvePolicy, timeFromName } from '../../src/core/backups/policy.js';
import { decideRetention, isoWeek } from '../../src/core/backups/retention.js';
import { MemberTally, parseMemberLine, parseTarStderr } from '../../src/core/backups/tar-output.js';
import { compareWithManifest } from '../../src/core/backups/verify.js';
import { environmentSchema } from '../../src/config/schema.js';

const policyOf = (backups: Record<string, unknown>, extra: Record<string, unknown> = {}) => resolvePolicy('prod', environmentSchema.parse({ dataDir: '/srv/app/data', backups, ...extra }), 'opsdeck.yaml');

function entry(name: string, over: Partial<CatalogEntry> = {}): CatalogEntry {
  const madeAt = timeFromName(name, 'data-')?.toISOString() ?? '2026-01-01T00:00:00.000Z';
  return { name, path: `/b/${name}`, sizeBytes: 1000, modifiedAt: madeAt, madeAt, compression: 'gzip', manifest: null, verified: null, managed: timeFromName(name, 'data-') !== null, safety: false, alarm: null, ...over };
}

describe('policy and names', () => {
  it('defaults the source to the data dir, names archives as the seeds did, and reads the time back', () => {
    const policy = policyOf({ dir: '/srv/app/backups' });
    expect(policy).toMatchObject({ source: '/srv/app/data', prefix: 'data-', compression: 'gzip', keepLast: 30, schedule: '*-*-* 00/6:00:00' });
    const name = archiveName(policy, new Date('2025-10-02T00:13:00Z'));
    expect(name).toBe('data-20251002_001300.tar.gz');
    expect(timeFromName(name, 'data-')?.toISOString()).toBe('2025-10-02T00:13:00.000Z');
    expect(timeFromName('other-20251002_001300.tar.gz', 'data-')).toBeNull();
    expect(compressionOf('x.tar.zst')).toBe('zstd');
    expect(compressionOf('x.tgz')).toBe('gzip');
    expect(compressionOf('x.zip')).toBeNull();
  });

  it('refuses archives kept inside the data they archive, and a policy with no source', () => {
    expect(() => policyOf({ dir: '/srv/app/data/backups' })).toThrow(/inside the source/);
    expect(() => resolvePolicy('prod', environmentSchema.parse({ backups: { dir: '/b' } }), null)).toThrow(/no source/);
  });
});

describe("tar's lines", () => {
  // Recorded from GNU tar 1.34: tar -cvv --full-time --numeric-owner --quoting-style=escape (TZ=UTC0).
  const lines = [
    'drwxr-xr-x 0/0               0 2026-11-29 18:37:54.127954453 ./',
    'prw-r--r-- 0/0               0 2026-11-29 18:37:54.127954453 ./fifo',
    '-rw-r--r-- 0/0               5 2026-11-29 18:37:54.103954453 ./a file',
    'drwxr-xr-x 0/0               0 2026-11-29 18:37:54.099954453 ./empty/',
    'lrwxrwxrwx 0/0               0 2026-11-29 18:37:54.115954453 ./link -> a file',
    '-rw-r--r-- 0/0               2 2026-11-29 18:37:59.107954453 ./new\\nline',
    'hrw-r--r-- 0/0               0 2026-11-29 18:37:54.103954453 ./hard link to ./a file',
    '-rw-r--r-- 0/0               1 2026-11-29 18:37:54.107954453 ./bad\\377',
    'crw-r--r-- 0/0             1,3 2026-11-29 18:37:54.107954453 ./null',
  ];

  it('reads every kind of member, an escaped name staying one line', () => {
    const members = lines.map(parseMemberLine);
    expect(members.map((m) => m?.type)).toEqual(['directory', 'other', 'file', 'directory', 'link', 'file', 'hardlink', 'file', 'other']);
    expect(members[4]).toMatchObject({ name: './link' });
    expect(members[6]).toMatchObject({ name: './hard', linkTo: './a file' });
    expect(members[5]).toMatchObject({ name: './new\\nline', size: 2, mtime: Date.parse('2026-11-29T18:37:59Z') / 1000 + 0.107954453 });
    expect(parseMemberLine('')).toBeNull();
    expect(parseMemberLine('tar: ./x: file changed as we read it')).toBeNull();
  });

  it('tallies as find counts the tree: the top is no directory of its own, a hard link a file without bytes', () => {
    const tally = new MemberTally();
    for (const line of lines) tally.add(parseMemberLine(line)!);
    expect({ files: tally.files, dirs: tally.dirs, links: tally.links, others: tally.others, bytes: tally.bytes }).toEqual({ files: 4, dirs: 1, links: 1, others: 2, bytes: 8 });
    expect(tally.newestPath).toBe('new\\nline');
  });

  it('sorts what tar says on stderr: changed files, unreadable ones, a full disk, damage', () => {
    const said = parseTarStderr(
      [
        'tar: ./state.json: file changed as we read it',
        'tar: ./locked.db: Cannot open: Permission denied',
        'gzip: stdout: No space left on device',
        'gzip: stdin: invalid compressed data--crc error',
        'tar: Exiting with failure status due to previous errors',
        'tar: something else \x1b[31m',
      ].join('\n'),
    );
    expect(said.changed).toEqual(['./state.json']);
    expect(said.unreadable).toEqual(['./locked.db (Permission denied)']);
    expect(said.noSpace).toBe(true);
    expect(said.corrupt).toHaveLength(1);
    expect(said.other).toHaveLength(1);
    expect(said.other[0]).not.toContain('\x1b');
  });
});

describe('the catalog', () => {
  it('sees partials and sidecars in a listing, never as archives', () => {
    const listing = parseFindListing('/b', ['100\t1700000000\tdata-20261129_000000.tar.gz', '50\t1700000001\tdata-20261129_060000.tar.gz.partial', '64\t1700000000\tdata-20261129_000000.tar.gz.sha256', '9\t1700000000\tnotes.txt', ''].join('\0'));
    expect(listing.archives.map((a) => a.name)).toEqual(['data-20261129_000000.tar.gz']);
    expect(listing.partials.map((a) => a.name)).toEqual(['data-20261129_060000.tar.gz.partial']);
    expect([...listing.sidecars.keys()]).toEqual(['data-20261129_000000.tar.gz.sha256']);
  });

  it('raises an alarm when an archive is much smaller, or holds far fewer files, than the one before', () => {
    const before = entry('data-20261128_000000.tar.gz', { sizeBytes: 10_000, manifest: { files: 100 } as Manifest });
    expect(shrinkAlarm(entry('data-20261129_000000.tar.gz', { sizeBytes: 3000 }), before)).toBe('70% smaller than data-20261128_000000.tar.gz');
    expect(shrinkAlarm(entry('data-20261129_000000.tar.gz', { sizeBytes: 9000, manifest: { files: 10 } as Manifest }), before)).toBe('10 files, 100 in data-20261128_000000.tar.gz');
    expect(shrinkAlarm(entry('data-20261129_000000.tar.gz', { sizeBytes: 9000, manifest: { files: 95 } as Manifest }), before)).toBeNull();
  });

  it('orders by the time in the name, keeps only a verify of this very file, and never lets a safety archive be pruned', () => {
    const listing = parseFindListing('/b', ['100\t1800000000\tdata-20261128_000000.tar.gz', '100\t1700000000\tdata-20261129_000000-before-restore.tar.gz', ''].join('\0'));
    const catalog = buildCatalog(listing, { prefix: 'data-' }, (a, kind) => (kind === 'verified' && a.name.startsWith('data-20261128') ? { version: 1, archive: a.name, ok: true, verifiedAt: 'x', sha256: null, checks: [], archiveBytes: 999, archiveMtime: 1800000000, files: 1, bytes: 1 } : null));
    expect(catalog.entries.map((e) => e.name)).toEqual(['data-20261129_000000-before-restore.tar.gz', 'data-20261128_000000.tar.gz']);
    expect(catalog.entries[0]).toMatchObject({ safety: true, managed: false });
    // Its size differs from the verified file's: the record is of another file.
    expect(catalog.entries[1]!.verified).toBeNull();
  });
});

describe('retention', () => {
  const days = ['20261101', '20261102', '20261103', '20261110', '20261120', '20261129'];
  const entries = days.flatMap((d) => [entry(`data-${d}_180000.tar.gz`), entry(`data-${d}_060000.tar.gz`)]).sort((a, b) => b.madeAt.localeCompare(a.madeAt));

  it('keeps the newest N, and says why each stays', () => {
    const decision = decideRetention(entries, { keepLast: 3, keepDaily: 0, keepWeekly: 0 });
    expect(decision.keep.map((k) => k.entry.name)).toEqual(['data-20261129_180000.tar.gz', 'data-20261129_060000.tar.gz', 'data-20261120_180000.tar.gz']);
    expect(decision.keep[0]!.reasons).toEqual(['one of the newest 3 (#1)']);
    expect(decision.remove).toHaveLength(9);
  });

  it('keeps the newest of each of the last N days and weeks that have one', () => {
    const decision = decideRetention(entries, { keepLast: 1, keepDaily: 3, keepWeekly: 2 });
    const kept = decision.keep.map((k) => k.entry.name);
    expect(kept).toEqual(['data-20261129_180000.tar.gz', 'data-20261120_180000.tar.gz', 'data-20261110_180000.tar.gz']);
    expect(decision.keep[1]!.reasons).toEqual(['newest of day 2026-11-20', 'newest of week 2026-W47']);
  });

  it('never removes the newest verified archive, nor what the policy did not name', () => {
    const verified = { version: 1 as const, archive: '', ok: true, verifiedAt: '', sha256: null, checks: [], archiveBytes: 0, archiveMtime: 0, files: null, bytes: null };
    const list = [...entries.slice(0, 3), { ...entries[5]!, verified }, ...entries.slice(6), entry('manual-copy.tar.gz')];
    const decision = decideRetention(list, { keepLast: 1, keepDaily: 0, keepWeekly: 0 });
    expect(decision.keep.map((k) => [k.entry.name, k.reasons])).toEqual([
      ['data-20261129_180000.tar.gz', ['one of the newest 1 (#1)']],
      [entries[5]!.name, ['the newest verified archive']],
    ]);
    expect(decision.untouched.map((e) => e.name)).toEqual(['manual-copy.tar.gz']);
  });

  it('numbers ISO weeks as ISO 8601 does, across a year end', () => {
    expect(isoWeek('2026-11-29T12:00:00Z')).toBe('2026-W48');
    expect(isoWeek('2027-01-01T00:00:00Z')).toBe('2026-W53');
    expect(isoWeek('2025-12-29T00:00:00Z')).toBe('2026-W01');
  });
});

describe('manifests', () => {
  const good = { version: 1, archive: 'a', environment: 'p', host: 'h', source: '/s', compression: 'gzip', compressor: 'pigz', sha256: 'a'.repeat(64), archiveBytes: 1, files: 2, dirs: 0, links: 0, others: 0, bytes: 3, newestMtime: 5, newestPath: 'x', changedWhileReading: [], unitState: null, startedAt: '', finishedAt: '', operation: null, createdBy: 'me' };

  it('reads one opsdeck wrote, and refuses what is not one (the file is on a host opsdeck does not control)', () => {
    expect(parseManifest(JSON.stringify(good))?.files).toBe(2);
    expect(parseManifest('not json')).toBeNull();
    expect(parseManifest('[]')).toBeNull();
    expect(parseManifest(JSON.stringify({ ...good, sha256: 'short' }))).toBeNull();
    expect(parseManifest(JSON.stringify({ ...good, files: -1 }))).toBeNull();
    expect(parseManifest(JSON.stringify({ ...good, source: '/s\x1b[2J' }))?.source).not.toContain('\x1b');
  });

  it('compares what came out of a test extraction with what went in', () => {
    const manifest = parseManifest(JSON.stringify(good))!;
    expect(compareWithManifest({ files: 2, dirs: 0, links: 0, bytes: 3, newestMtime: 5.5 }, manifest)).toEqual([]);
    expect(compareWithManifest({ files: 1, dirs: 0, links: 0, bytes: 3, newestMtime: 5 }, manifest)).toEqual(['files: 1, the manifest says 2']);
    expect(compareWithManifest({ files: 2, dirs: 0, links: 0, bytes: 3, newestMtime: 99 }, manifest)).toEqual(['the newest file inside is not the one the manifest names']);
  });
});

describe('the scheduled job', () => {
  it('quotes every word of ExecStart= for systemd (spaces, quotes, % and $ are never expanded)', () => {
    expect(systemdWord('/usr/bin/node')).toBe('/usr/bin/node');
    expect(systemdWord('/opt/my app/opsdeck')).toBe('"/opt/my app/opsdeck"');
    expect(systemdWord('50%')).toBe('"50%%"');
    expect(systemdWord('$HOME')).toBe('"$$HOME"');
    expect(systemdWord('a"b\\c')).toBe('"a\\"b\\\\c"');
  });

  it('runs create, then prune, with the policy\'s calendar and Persistent=true', () => {
    const files = scheduleFiles('production', policyOf({ dir: '/srv/app/backups', schedule: 'daily' }), ['/usr/bin/node', '/opt/opsdeck/bin/opsdeck.js'], '/etc/opsdeck/opsdeck.yaml');
    expect(files.service).toContain('ExecStart=/usr/bin/node /opt/opsdeck/bin/opsdeck.js backup create production --yes --config /etc/opsdeck/opsdeck.yaml\nExecStart=/usr/bin/node /opt/opsdeck/bin/opsdeck.js backup prune production --yes --config /etc/opsdeck/opsdeck.yaml');
    expect(files.service).toContain('Type=oneshot');
    expect(files.timer).toContain('OnCalendar=daily\nPersistent=true');
  });
});
