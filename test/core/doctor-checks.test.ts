// The doctor's rules that read facts beyond a refresh (disk space, systemd-analyze verify, the
// backup schedule's interval) or look closer at what a refresh has (a bind that failed, the
// version the health probe got, an archive much smaller than the one before). Facts recorded
// from the lab, varied; the parsers fed real output of systemd 252 (Debian 12). No lab.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/core/doctor/finding.js';
import { environmentFindings, type EnvironmentFacts } from '../../src/core/doctor/rules.js';
import { parseCalendarInterval, parseCalendarIntervals, verifyArgv, verifyComplaints } from '../../src/core/systemd/analyze.js';

const recorded = JSON.parse(readFileSync(new URL('../fixtures/doctor-incident-facts.json', import.meta.url), 'utf8')) as { environments: EnvironmentFacts[] };
const facts = (name: string): EnvironmentFacts => structuredClone(recorded.environments.find((e) => e.environment === name)!);
const byCode = (findings: Finding[], code: string) => findings.find((f) => f.code === code);
const alarms = (findings: Finding[]) => findings.filter((f) => f.severity !== 'info').map((f) => f.code);
const LAB = '/var/lib/opsdeck-lab/srv';

describe('systemd-analyze, read', () => {
  it('a calendar expression\'s interval: the longest gap between its next runs', () => {
    const every6h = ['Normalized form: *-*-* 00/6:00:00', '    Next elapse: Mon 2026-11-30 00:00:00 UTC', '       From now: 2h 30min left', '       Iter. #2: Mon 2026-11-30 06:00:00 UTC', '       From now: 8h left', '       Iter. #3: Mon 2026-11-30 12:00:00 UTC', '       From now: 14h left'].join('\n');
    expect(parseCalendarInterval(every6h)).toBe(6 * 3600);
    const weekdays = ['  Original form: Mon..Fri 02:00', 'Normalized form: Mon..Fri *-*-* 02:00:00', '    Next elapse: Fri 2026-12-04 02:00:00 UTC', '       Iter. #2: Mon 2026-12-07 02:00:00 UTC', '       Iter. #3: Tue 2026-12-08 02:00:00 UTC'].join('\n');
    expect(parseCalendarInterval(weekdays)).toBe(3 * 24 * 3600);
    expect(parseCalendarInterval('')).toBeNull(); // what it prints for an expression it cannot parse (its error goes to stderr)
  });

  it('several expressions in one answer, one it cannot parse among them', () => {
    const answer = [
      '  Original form: hourly', 'Normalized form: *-*-* *:00:00', '    Next elapse: Sun 2026-11-29 22:00:00 UTC', '       From now: 19min left', '       Iter. #2: Sun 2026-11-29 23:00:00 UTC', '       From now: 1h 19min left', '', '',
      '  Original form: daily', 'Normalized form: *-*-* 00:00:00', '    Next elapse: Mon 2026-11-30 00:00:00 UTC', '       From now: 2h 19min left', '       Iter. #2: Tue 2026-12-01 00:00:00 UTC', '       From now: 1 day 2h left', '',
    ].join('\n');
    expect(parseCalendarIntervals(answer, ['hourly', 'nonsense', 'daily'])).toEqual(new Map([['hourly', 3600], ['nonsense', null], ['daily', 86400]]));
    const hourly = answer.split('\n\n\n')[0]!;
    expect(parseCalendarIntervals(`\n${hourly}\n`, ['nonsense', 'hourly'])).toEqual(new Map([['nonsense', null], ['hourly', 3600]]));
  });

  it('verify: the unit\'s own complaints, its drop-ins\' too; not those of units it pulls in', () => {
    const stderr = [
      '/var/tmp/vu/broken-demo.service:8: Unknown key \'Restrat\' in section [Service], ignoring.',
      '/var/tmp/vu/broken-demo.service:9: Invalid memory limit \'lots\', ignoring: Invalid argument',
      '/var/tmp/vu/broken-demo.service.d/override.conf:2: Unknown key \'Environmnet\' in section [Service], ignoring.',
      '/var/tmp/vu/other-broken.service:5: Unknown key \'FooBar\' in section [Service], ignoring.',
      'broken-demo.service: Command /usr/bin/nonexistent-program is not executable: No such file or directory',
      'Unit broken-demo.service has a bad unit file setting.',
    ].join('\n');
    expect(verifyComplaints(stderr, 'broken-demo.service', ['/var/tmp/vu/broken-demo.service', '/var/tmp/vu/broken-demo.service.d/override.conf'])).toEqual([
      '/var/tmp/vu/broken-demo.service:8: Unknown key \'Restrat\' in section [Service], ignoring.',
      '/var/tmp/vu/broken-demo.service:9: Invalid memory limit \'lots\', ignoring: Invalid argument',
      '/var/tmp/vu/broken-demo.service.d/override.conf:2: Unknown key \'Environmnet\' in section [Service], ignoring.',
      'broken-demo.service: Command /usr/bin/nonexistent-program is not executable: No such file or directory',
    ]);
    expect(verifyComplaints('\x1b]0;owned\x07x.service: bad\n', 'x.service', [])).toEqual(['x.service: bad']);
    // Recorded from systemd-analyze verify of an Environment= line with a stray quote: it quotes the line, secret and all.
    expect(verifyComplaints('/var/tmp/vt/vt.service:3: Invalid syntax, ignoring: API_TOKEN=sk-live-abcdef1234567890 "BROKEN\n', 'vt.service', ['/var/tmp/vt/vt.service'])).toEqual([
      '/var/tmp/vt/vt.service:3: Invalid syntax, ignoring: API_TOKEN=sk-l… "BROKEN',
    ]);
    expect(verifyComplaints('x.service:3: Invalid environment assignment, ignoring: "URL=postgres://app:hunter2@db/app" ghp_0123456789abcdefABCDEF\n', 'x.service', [])).toEqual([
      'x.service:3: Invalid environment assignment, ignoring: "URL=post…" ghp_…',
    ]);
    expect(verifyArgv([{ name: 'x.service', fragmentPath: '/var/lib/lab/units/x.service' }, { name: 'y.service', fragmentPath: '/lib/systemd/system/y.service' }])).toEqual(['env', 'SYSTEMD_UNIT_PATH=/var/lib/lab/units:/lib/systemd/system:', 'systemd-analyze', 'verify', '--man=no', '--', 'x.service', 'y.service']);
  });
});

describe('the rules of the closer look', () => {
  it('nothing on the healthy development environment with every extra fact present', () => {
    const f = facts('development');
    f.disks = [{ dirs: [{ dir: `${LAB}/development`, role: 'code' }, { dir: `${LAB}/development/data`, role: 'data' }], sizeBytes: 270e9, freeBytes: 80e9, inodes: 16e6, freeInodes: 15e6, from: 'stat -f' }];
    f.unitVerify = { unit: 'mcp-coordination-dev.service', lines: [], from: 'systemd-analyze verify' };
    f.backupSchedule = { schedule: '*-*-* 00/6:00:00', seconds: 6 * 3600, from: 'systemd-analyze calendar' };
    expect(alarms(environmentFindings(f))).toEqual([]);
  });

  it('a bind that fails (EADDRINUSE) names who holds the port', () => {
    const f = facts('production');
    f.journal!.entries.push({ timeUs: f.journal!.entries.at(-1)!.timeUs + 1, priority: 3, origin: 'unit', message: 'Error: listen EADDRINUSE: address already in use 127.0.0.1:3444' });
    const conflict = byCode(environmentFindings(f), 'port-conflict')!;
    expect(conflict.severity).toBe('critical');
    expect(conflict.title).toMatch(/^mcp-coordination\.service cannot listen: port 3444 is already in use by PID \d+ \(\/usr\/bin\/node .*server\.mjs\), in no unit$/);
    expect(conflict.evidence[0]!.quote).toEqual(['Error: listen EADDRINUSE: address already in use 127.0.0.1:3444']);
    expect(conflict.note).toMatch(/port-unmanaged/);
  });

  it('a health probe that answers with another version is its own finding, a warning', () => {
    const f = facts('development');
    f.status.health = { ...f.status.health!, ok: false, version: '1.4.2', versionExpected: '^2\\.', failures: ['version 1.4.2 does not match /^2\\./'] };
    const found = environmentFindings(f);
    expect(alarms(found)).toEqual(['health-version']);
    expect(byCode(found, 'health-version')!.title).toBe('development answers with version 1.4.2, not the expected /^2\\./');
    // With another failure too, the probe simply fails.
    f.status.health.failures.push('HTTP 503, expected 200');
    expect(alarms(environmentFindings(f))).toEqual(['health-failing']);
  });

  it('the newest backup older than two runs of the schedule (and an hour)', () => {
    const f = facts('development');
    f.backupSchedule = { schedule: '*-*-* 00/6:00:00', seconds: 6 * 3600, from: 'env TZ=UTC0 systemd-analyze calendar --iterations=8 -- *-*-* 00/6:00:00' };
    f.status.backups!.newestAgeSec = 13 * 3600 + 60;
    const stale = byCode(environmentFindings(f), 'backup-stale')!;
    expect(stale.title).toMatch(/is 13h01m old, the schedule runs every 6h00m$/);
    expect(stale.evidence.map((e) => e.text).join('\n')).toContain('allowed: 13h00m: two runs of the schedule *-*-* 00/6:00:00, every 6h00m, and an hour');
    f.status.backups!.newestAgeSec = 12 * 3600;
    expect(byCode(environmentFindings(f), 'backup-stale')).toBeUndefined();
    // Without the schedule (status's refresh): a day and two hours.
    delete f.backupSchedule;
    f.status.backups!.newestAgeSec = 25 * 3600;
    expect(byCode(environmentFindings(f), 'backup-stale')).toBeUndefined();
  });

  it('a newest archive much smaller than the one before', () => {
    const f = facts('development');
    const newest = f.status.backups!.newest!;
    const before = { ...newest, name: 'data-20261101_000000.tar.gz', path: newest.path.replace(newest.name, 'data-20261101_000000.tar.gz'), sizeBytes: newest.sizeBytes * 20 };
    f.status.backups!.archives.push(before);
    const shrunk = byCode(environmentFindings(f), 'backup-shrunk')!;
    expect(shrunk.severity).toBe('warning');
    expect(shrunk.title).toBe(`the newest backup ${newest!.name} is 95% smaller than ${before!.name}`);
    // Written seconds ago by another job (no manifest, no partial name): perhaps still being written, not judged yet.
    expect(byCode(environmentFindings({ ...f, now: Date.parse(newest.modifiedAt) + 10_000 }), 'backup-shrunk')).toBeUndefined();
  });

  it('little space or few inodes where the code, data or backups live: one finding per file system, low in share and in amount', () => {
    const f = facts('development');
    const disk = (size: number, free: number, freeInodes = 15e6) => ({ dirs: [{ dir: `${LAB}/development/data`, role: 'data' as const }, { dir: `${LAB}/development-backups`, role: 'backups' as const }], sizeBytes: size, freeBytes: free, inodes: 16e6, freeInodes, from: 'stat -f …' });
    f.disks = [disk(40e9, 3e9)];
    const low = byCode(environmentFindings(f), 'disk-low')!;
    expect(low.severity).toBe('warning');
    expect(low.id).toBe(`development/disk-low:${LAB}/development/data`);
    expect(low.title).toBe(`low disk space on host lab for data ${LAB}/development/data, backups ${LAB}/development-backups: 2.8G free of 37G (7.5 %)`);
    expect(low.note).toMatch(/opsdeck backup prune/);
    f.disks = [disk(40e9, 0.8e9)];
    expect(byCode(environmentFindings(f), 'disk-low')!.severity).toBe('critical');
    f.disks = [disk(40e9, 20e9, 1000)];
    expect(byCode(environmentFindings(f), 'disk-low')!.title).toMatch(/: 1000 inodes free of 16000000 \(0\.0 %\)$/);
    // A 4 TB backups volume kept 91 % full by retention: 360 GB free is no alarm.
    f.disks = [disk(4e12, 3.6e11)];
    expect(byCode(environmentFindings(f), 'disk-low')).toBeUndefined();
  });

  it('systemd-analyze verify\'s complaints about the unit, quoted', () => {
    const f = facts('development');
    f.unitVerify = { unit: 'mcp-coordination-dev.service', lines: [`/var/lib/opsdeck-lab/units/mcp-coordination-dev.service:9: Unknown key 'Restrat' in section [Service], ignoring.`], from: 'env SYSTEMD_UNIT_PATH=/var/lib/opsdeck-lab/units: systemd-analyze verify -- mcp-coordination-dev.service' };
    const verify = byCode(environmentFindings(f), 'unit-verify')!;
    expect(verify.id).toBe('development/unit-verify');
    expect(verify.title).toBe(`systemd-analyze verify finds 1 problem in mcp-coordination-dev.service: /var/lib/opsdeck-lab/units/mcp-coordination-dev.service:9: Unknown key 'Restrat' in section [Service], ignoring.`);
    expect(verify.evidence[0]!.quote).toHaveLength(1);
  });
});
