// Source sanity without a lab: the judgement driven by facts recorded from the real lab, the
// parsers of what the host says, and archive reading on small archives made here with the
// real tar (a LocalHost: real programs, no lab).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryKey, matchTree, readArchiveArgv, summarizeArchive } from '../../src/core/backups/archive-read.js';
import { judgeSanity } from '../../src/core/backups/sanity.js';
import { dataEnvOf, parseProcClues, parseUnitFacts, procCluesArgv, type SanityFacts } from '../../src/core/backups/sanity-facts.js';
import { scanTree } from '../../src/core/backups/scan.js';
import { LocalHost } from '../../src/core/host/host.js';
import { CommandError } from '../../src/core/text/errors.js';
import { ScriptedHost } from '../support/scripted-host.js';

const LAB = '/var/lib/opsdeck-lab/srv';
const LIVE = `${LAB}/production/data`;
const STALE = `${LAB}/production-data`;
const NOW = 1795977869.516;

// Gathered on the lab a few seconds after it booted (its backup timer had just archived the stale copy).
const incident: SanityFacts = {
  environment: 'production',
  host: 'lab',
  source: LIVE,
  now: NOW,
  unit: {
    name: 'mcp-coordination.service',
    loadState: 'loaded',
    activeState: 'activating',
    mainPid: null,
    workingDirectory: `${LAB}/production`,
    readWritePaths: [STALE],
    dataEnv: [{ name: 'DATA_DIR', dir: LIVE }],
  },
  processes: [{ pid: 71, role: 'holds port 3444 and is in no unit (started by hand)', roleFrom: '/proc/net/tcp, /proc/71/cgroup', seen: true, cwd: '/', dataEnv: [{ name: 'DATA_DIR', dir: LIVE }], writing: [] }],
  dirs: [
    { dir: LIVE, exists: true, files: 3, bytes: 485, newestMtime: 1795977867.2919545, newestPath: 'state.json' },
    { dir: STALE, exists: true, files: 2, bytes: 380, newestMtime: 1795718660.841, newestPath: 'messages/inbox.jsonl' },
  ],
  archive: {
    name: 'data-20261129_184428.tar.gz',
    madeAt: 1795977868.707,
    files: 2,
    newestMtime: 1795718660,
    newestPath: 'messages/inbox.jsonl',
    from: `cat -- ${LAB}/production-data-backups/data-20261129_184428.tar.gz, listed in opsdeck`,
    manifestSource: null,
    matches: [
      { dir: LIVE, total: 2, matched: 0 },
      { dir: STALE, total: 2, matched: 2 },
    ],
    error: null,
  },
  problems: [],
};

const DEV = `${LAB}/development/data`;
const development: SanityFacts = {
  environment: 'development',
  host: 'lab',
  source: DEV,
  now: NOW,
  unit: { name: 'mcp-coordination-dev.service', loadState: 'loaded', activeState: 'active', mainPid: 54, workingDirectory: `${LAB}/development`, readWritePaths: [DEV], dataEnv: [{ name: 'DATA_DIR', dir: DEV }] },
  processes: [{ pid: 54, role: 'is the main PID of mcp-coordination-dev.service; holds port 3446 and is in mcp-coordination-dev.service', roleFrom: 'systemctl show mcp-coordination-dev.service -p MainPID', seen: true, cwd: `${LAB}/development`, dataEnv: [{ name: 'DATA_DIR', dir: DEV }], writing: [] }],
  dirs: [{ dir: DEV, exists: true, files: 3, bytes: 500, newestMtime: 1795977867.0599544, newestPath: 'state.json' }],
  archive: null,
  problems: [],
};

const texts = (facts: SanityFacts) => judgeSanity(facts).evidence.map((e) => `${e.text} <- ${e.from}`);

describe('source sanity: the judgement (facts recorded from the lab)', () => {
  it('the incident: the backups archive the stale copy named by ReadWritePaths=, not the live data', () => {
    const result = judgeSanity(incident);
    expect(result.verdict).toBe('archives-stale');
    expect(result.newestArchive).toEqual({ name: 'data-20261129_184428.tar.gz', newestMtime: 1795718660, matches: STALE });
    expect(result.liveDirs).toEqual([LIVE]);
    expect(result.summary).toContain(`the existing backups archive ${STALE} (mcp-coordination.service's ReadWritePaths=), not the live data in ${LIVE}`);
    expect(texts(incident)).toEqual(
      expect.arrayContaining([
        `2 of 2 files in data-20261129_184428.tar.gz match ${STALE} (mcp-coordination.service's ReadWritePaths=) by size and mtime <- ${incident.archive!.from}; find ${STALE}`,
        `mcp-coordination.service: ReadWritePaths=${STALE} <- systemctl show mcp-coordination.service -p ReadWritePaths`,
        'PID 71 holds port 3444 and is in no unit (started by hand) <- /proc/net/tcp, /proc/71/cgroup',
        `PID 71 has DATA_DIR=${LIVE} <- /proc/71/environ`,
      ]),
    );
    expect(result.evidence[0]!.text).toMatch(/^the newest archive's newest file is 3d0h older than the source's/);
  });

  it('stale data alone is enough: an archive of the stale copy, with no directory to match, still lags the live source', () => {
    const result = judgeSanity({ ...incident, archive: { ...incident.archive!, matches: [] } });
    expect(result.verdict).toBe('archives-stale');
    expect(result.summary).toContain(`the existing backups do not hold the live data in ${LIVE}`);
  });

  it('a source pointing at the stale copy: a backup now would archive stale data', () => {
    const facts: SanityFacts = { ...incident, source: STALE, archive: { ...incident.archive!, matches: [{ dir: STALE, total: 2, matched: 2 }, { dir: LIVE, total: 2, matched: 0 }] } };
    const result = judgeSanity(facts);
    expect(result.verdict).toBe('stale-source');
    expect(result.liveDirs).toEqual([LIVE]);
    expect(result.summary).toContain(`the backup source ${STALE} is not where the service writes: ${LIVE} (PID 71's DATA_DIR, mcp-coordination.service's Environment= DATA_DIR) is`);
    expect(result.evidence[0]).toEqual({ text: `the service writes to ${LIVE} (PID 71's DATA_DIR, mcp-coordination.service's Environment= DATA_DIR); its newest file is 2s ago, the source's 3d0h ago`, from: '/proc/71/environ' });
  });

  it('a service that also writes much newer data elsewhere: a backup of the source alone would miss it', () => {
    const facts: SanityFacts = {
      ...incident,
      processes: [{ ...incident.processes[0]!, writing: ['/srv/x/db/app.sqlite'] }],
      dirs: [{ ...incident.dirs[0]!, newestMtime: NOW - 3 * 3600 }, { dir: '/srv/x/db', exists: true, files: 1, bytes: 4096, newestMtime: NOW - 1, newestPath: 'app.sqlite' }],
      archive: null,
    };
    const result = judgeSanity(facts);
    expect(result.verdict).toBe('stale-source');
    expect(result.liveDirs).toEqual([LIVE, '/srv/x/db']);
    expect(result.summary).toBe(`production: the service writes newer data to /srv/x/db (PID 71 writes app.sqlite) than to the backup source ${LIVE}; a backup now would miss it`);
    expect(result.evidence[0]!.from).toBe('/proc/71/fd');
  });

  it('healthy: development (no archive yet) and a backup of the live data made a minute ago are ok', () => {
    expect(judgeSanity(development)).toMatchObject({ verdict: 'ok', liveDirs: [DEV], newestArchive: null });
    const fresh = { ...incident.archive!, name: 'data-now.tar.gz', madeAt: NOW - 60, files: 3, newestMtime: Math.floor(NOW - 62), newestPath: 'state.json', matches: [{ dir: LIVE, total: 3, matched: 2 }, { dir: STALE, total: 3, matched: 0 }] };
    const result = judgeSanity({ ...incident, archive: fresh });
    expect(result.verdict).toBe('ok');
    expect(result.newestArchive!.matches).toBe(LIVE);
    expect(result.summary).toMatch(/is where the service writes .*; the newest archive \(made 1m ago\) holds files up to 1m ago$/);
  });

  it('a quiet source is ok with an old archive: the archive lags it by nothing', () => {
    const quiet = { ...incident, dirs: [{ ...incident.dirs[0]!, newestMtime: NOW - 5 * 86400 }], archive: { ...incident.archive!, madeAt: NOW - 86400, newestMtime: Math.floor(NOW - 5 * 86400), matches: [] } };
    expect(judgeSanity(quiet).verdict).toBe('ok');
  });

  it('an archive whose manifest names another source is archives-stale without reading it', () => {
    const archive = { ...incident.archive!, matches: [], newestMtime: Math.floor(NOW - 100), manifestSource: STALE, from: 'data-x.tar.gz.manifest.json' };
    const result = judgeSanity({ ...incident, archive });
    expect(result.verdict).toBe('archives-stale');
    expect(result.newestArchive!.matches).toBe(STALE);
    expect(result.evidence).toContainEqual({ text: `data-20261129_184428.tar.gz was made from ${STALE}, its manifest says`, from: 'data-x.tar.gz.manifest.json' });
  });

  it('nothing known: no unit, no process, no archive is unknown, with the reason', () => {
    const result = judgeSanity({ ...development, unit: null, processes: [] });
    expect(result.verdict).toBe('unknown');
    expect(result.summary).toContain('nothing says where the service writes');
    const missing = judgeSanity({ ...development, unit: null, processes: [], dirs: [{ ...development.dirs[0]!, exists: false, files: 0, newestMtime: null, newestPath: null }] });
    expect(missing.summary).toContain(`the source ${DEV} does not exist on host lab`);
  });

  it('a working directory is only a guess: fresh logs around the source raise no alarm', () => {
    const app = '/srv/app';
    const facts: SanityFacts = {
      ...development,
      source: `${app}/data`,
      unit: null,
      processes: [{ ...development.processes[0]!, dataEnv: [], cwd: app }],
      dirs: [{ dir: `${app}/data`, exists: true, files: 1, bytes: 1, newestMtime: NOW - 7200, newestPath: 'db' }, { dir: app, exists: true, files: 9, bytes: 9, newestMtime: NOW, newestPath: 'logs/app.log' }],
    };
    expect(judgeSanity(facts).verdict).toBe('ok');
  });

  it('paths from the host cannot drive the terminal', () => {
    const evil = `${LAB}/x\x1b]0;owned\x07\n\u202e`;
    const facts: SanityFacts = { ...incident, unit: { ...incident.unit!, readWritePaths: [evil] }, archive: { ...incident.archive!, matches: [{ dir: evil, total: 2, matched: 2 }] } };
    const result = judgeSanity(facts);
    for (const text of [result.summary, ...result.evidence.flatMap((e) => [e.text, e.from]), result.newestArchive!.matches!]) expect(text).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202a-\u202e]/);
  });
});

describe('source sanity: what the host says', () => {
  it('reads the unit (systemctl show, recorded from the lab)', () => {
    const shown = `MainPID=811\nEnvironment=APP_ENV=production PORT=3444 DATA_DIR=${LIVE} LOG_RATE=0.5\nWorkingDirectory=${LAB}/production\nReadWritePaths=-${STALE} "${LAB}/with space"\nLoadState=loaded\nActiveState=active\n`;
    expect(parseUnitFacts('mcp-coordination.service', shown)).toEqual({
      name: 'mcp-coordination.service',
      loadState: 'loaded',
      activeState: 'active',
      mainPid: 811,
      workingDirectory: `${LAB}/production`,
      readWritePaths: [STALE, `${LAB}/with space`],
      dataEnv: [{ name: 'DATA_DIR', dir: LIVE }],
    });
  });

  it('only data-like variables with absolute paths are clues (a file names its directory)', () => {
    expect(dataEnvOf(['DATA_DIR=/srv/a/data', 'HOME=/root', 'PATH=/usr/bin:/bin', 'XDG_DATA_DIRS=/usr/share', 'DB_PATH=/srv/a/db/app.sqlite', 'STATE_DIRECTORY=/var/lib/a:/var/lib/b', 'DATABASE_URL=postgres://x', 'METADATA=/srv/m', 'DATA_DIR=/tmp/x', 'APP_DATA=/'])).toEqual([
      { name: 'DATA_DIR', dir: '/srv/a/data' },
      { name: 'DB_PATH', dir: '/srv/a/db' },
      { name: 'STATE_DIRECTORY', dir: '/var/lib/a' },
      { name: 'STATE_DIRECTORY', dir: '/var/lib/b' },
    ]);
  });

  it('reads cwd, environ and the files a process writes from one NUL-framed find (recorded from the lab, plus a data file)', () => {
    expect(procCluesArgv([71])).toEqual(['find', '/proc/71/cwd', '/proc/71/fd', '/proc/71/fdinfo', '/proc/71/environ', '-maxdepth', '1', '(', '-type', 'l', '-printf', '%p\\t%l\\0', ')', '-o', '(', '-type', 'f', '(', '-name', 'environ', '-o', '-path', '/proc/*/fdinfo/*', ')', '-exec', 'grep', '-H', '-a', '-s', '-z', '', '--', '{}', '+', ')']);
    const records = [
      '/proc/71/cwd\t/',
      '/proc/71/fd/0\t/dev/null',
      `/proc/71/fd/1\t${LAB}/production/logs/manual-start.log`,
      '/proc/71/fd/18\tsocket:[1585731]',
      '/proc/71/fd/20\t/srv/x/db/app.sqlite',
      '/proc/71/fd/21\t/srv/x/readonly.bin',
      '/proc/71/fd/22\t/srv/x/old (deleted)',
      `/proc/71/fdinfo/1:pos:\t1376\nflags:\t02102001\nmnt_id:\t26\n`,
      `/proc/71/fdinfo/20:pos:\t0\nflags:\t02100002\nmnt_id:\t26\n`,
      `/proc/71/fdinfo/21:pos:\t0\nflags:\t02100000\nmnt_id:\t26\n`,
      `/proc/71/fdinfo/22:pos:\t0\nflags:\t02100002\nmnt_id:\t26\n`,
      '/proc/71/environ:PORT=3444',
      `/proc/71/environ:DATA_DIR=${LIVE}`,
      // A value holding what looks like another record stays one variable.
      '/proc/71/environ:NOTE=x\n/proc/71/cwd\t/evil',
    ];
    const [found, gone] = parseProcClues(Buffer.from(records.join('\0') + '\0'), [{ pid: 71, role: 'r', roleFrom: 'f' }, { pid: 99, role: 'gone', roleFrom: 'f' }]);
    expect(found).toMatchObject({ pid: 71, seen: true, cwd: '/', dataEnv: [{ name: 'DATA_DIR', dir: LIVE }], writing: ['/srv/x/db/app.sqlite'] });
    expect(gone).toMatchObject({ pid: 99, seen: false, cwd: null, dataEnv: [], writing: [] });
  });
});

describe('reading an archive in process (real tar, LocalHost)', () => {
  const host = new LocalHost();
  let dir: string;
  let tree: string;
  const WHEN = new Date('2026-11-26T18:44:20Z');
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'opsdeck-archive-read-'));
    tree = path.join(dir, 'tree');
    mkdirSync(path.join(tree, 'messages'), { recursive: true });
    writeFileSync(path.join(tree, 'instances.json'), '{"label":"stale"}\n');
    writeFileSync(path.join(tree, 'messages', 'inbox.jsonl'), 'x'.repeat(1000));
    // Untrusted names: a newline and an escape sequence, and bytes that are not UTF-8.
    writeFileSync(path.join(tree, 'evil\n\x1b[31mred'), 'e');
    writeFileSync(Buffer.concat([Buffer.from(`${tree}/latin1-`), Buffer.from([0xe9, 0xff]), Buffer.from('.txt')]), 'l');
    utimesSync(path.join(tree, 'instances.json'), WHEN, WHEN);
    execFileSync('tar', ['-czf', path.join(dir, 'data.tar.gz'), '-C', tree, '.']);
    execFileSync('tar', ['-cf', path.join(dir, 'data.tar'), '-C', tree, '.']);
    execFileSync('tar', ['--zstd', '-cf', path.join(dir, 'data.tar.zst'), '-C', tree, '.']);
    const whole = execFileSync('cat', [path.join(dir, 'data.tar.gz')]);
    writeFileSync(path.join(dir, 'truncated.tar.gz'), whole.subarray(0, Math.floor(whole.length / 2)));
    writeFileSync(path.join(dir, 'garbage.tar.gz'), 'this is not gzip at all');
    writeFileSync(path.join(dir, 'garbage.tar'), Buffer.alloc(2048, 0x41));
    writeFileSync(path.join(dir, 'garbage.tar.zst'), 'not zstd either');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['data.tar.gz', 'data.tar', 'data.tar.zst'])('counts what %s holds, its newest file, and its entries as a tree scan keys them', async (name) => {
    const summary = await summarizeArchive(host, path.join(dir, name), { keepEntries: true });
    expect(summary).toMatchObject({ files: 4, dirs: 1, links: 0, others: 0, bytes: 18 + 1000 + 2, entriesTruncated: false });
    expect(summary.entries!.get('instances.json')).toEqual({ type: 'file', size: 18, mtime: WHEN.getTime() / 1000 });
    expect([...summary.entries!.keys()].sort()).toEqual(['evil\n\x1b[31mred', 'instances.json', 'latin1-\ufffd\ufffd.txt', 'messages', 'messages/inbox.jsonl']);
    expect(summary.newestPath).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
    expect(summary.newestMtime).toBeGreaterThan(WHEN.getTime() / 1000);
    // The same tree scanned by find: every file matches by path, size and mtime, the odd names too.
    expect(matchTree(summary, await scanTree(host, tree, { keepEntries: true }))).toEqual({ total: 4, matched: 4 });
  });

  it('reads .tar.zst through zstd on the host, the others with cat', () => {
    expect(readArchiveArgv('/b/a.tar.zst')).toEqual(['zstd', '-q', '-d', '-c', '--', '/b/a.tar.zst']);
    expect(readArchiveArgv('/b/-a.tgz')).toEqual(['cat', '--', '/b/-a.tgz']);
    expect(() => readArchiveArgv('/b/a.zip')).toThrow(/not a .tar, .tar.gz, .tgz or .tar.zst archive/);
    expect(entryKey('./a//b/')).toBe('a/b');
    expect(entryKey('./')).toBe('');
  });

  it('caps the entries it keeps, never the counts', async () => {
    const summary = await summarizeArchive(host, path.join(dir, 'data.tar.gz'), { keepEntries: true, maxEntries: 2 });
    expect(summary.entries!.size).toBe(2);
    expect(summary).toMatchObject({ files: 4, entriesTruncated: true });
  });

  it.each([
    ['truncated.tar.gz', /archive .*truncated\.tar\.gz on host local is damaged: its gzip data is corrupt or truncated \(unexpected end of file\)/],
    ['garbage.tar.gz', /archive .*garbage\.tar\.gz on host local is damaged: its gzip data is corrupt or truncated \(incorrect header check\)/],
    ['garbage.tar', /archive .*garbage\.tar on host local is damaged: it is not a valid tar archive, or it is truncated/],
    ['garbage.tar.zst', /cannot read .*garbage\.tar\.zst on host local: `zstd -q -d -c` exited 1/],
    ['missing.tar.gz', /cannot read .*missing\.tar\.gz on host local: `cat` exited 1: cat: .*No such file or directory/],
  ])('%s: a clear error naming the archive and the host', async (name, message) => {
    const error = await summarizeArchive(host, path.join(dir, name)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect((error as CommandError).message).toMatch(message);
  });

  it('stops a stream that does not end in time, and says so', async () => {
    const scripted = new ScriptedHost();
    const pending = summarizeArchive(scripted, '/b/slow.tar', { timeoutMs: 100 }).catch((e: unknown) => e);
    scripted.runs[0]!.stdout.write(Buffer.alloc(512 * 3)); // a first header's worth, then nothing
    const error = (await pending) as CommandError;
    expect(error.kind).toBe('timeout');
    expect(error.message).toBe('reading /b/slow.tar on host scripted did not finish within 0.1 s');
    expect(scripted.runs[0]!.stopped).toBe(true);
  });
});
