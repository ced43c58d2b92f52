// The doctor's rules, driven by facts recorded from the lab's incident (a refresh plus the
// journal lines and process facts the doctor gathers), and by variants of them: no lab.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { doctorAlarms, doctorReport } from '../../src/core/doctor/doctor.js';
import type { Finding } from '../../src/core/doctor/finding.js';
import { environmentFindings, problemsOf, type EnvironmentFacts, type JournalFacts } from '../../src/core/doctor/rules.js';
import { diagnose } from '../../src/core/status/collect.js';
import type { StatusReport } from '../../src/core/status/report.js';

const recorded = JSON.parse(readFileSync(new URL('../fixtures/doctor-incident-facts.json', import.meta.url), 'utf8')) as { environments: EnvironmentFacts[] };
const LAB = '/var/lib/opsdeck-lab/srv';
const LIVE = `${LAB}/production/data`;
const STALE = `${LAB}/production-data`;

/** A fresh copy of a recorded environment's facts, to change for a variant. */
const facts = (name: string): EnvironmentFacts => structuredClone(recorded.environments.find((e) => e.environment === name)!);
const byCode = (findings: Finding[], code: string) => findings.find((f) => f.code === code);
const evidenceText = (f: Finding | undefined) => (f?.evidence ?? []).map((e) => [e.text, e.from, ...(e.quote ?? [])].join(' | ')).join('\n');

describe('the doctor on the recorded incident', () => {
  const production = environmentFindings(facts('production'));

  it('finds the crash loop, its sandbox-path cause, the unmanaged listener and the stale backups, all critical', () => {
    expect(production.map((f) => f.id)).toEqual(['production/crash-loop', 'production/sandbox-path', 'production/port-unmanaged:3444', 'production/backup-archives-stale']);
    expect(production.every((f) => f.severity === 'critical' && f.environment === 'production' && f.host === 'lab')).toBe(true);
  });

  it('says how fast the unit crash-loops, since when, and how it exits', () => {
    const loop = byCode(production, 'crash-loop')!;
    expect(loop.title).toMatch(/^mcp-coordination\.service is crash-looping: \d+ restarts, last result exit-code \(exit status 3\)$/);
    const text = evidenceText(loop);
    expect(text).toMatch(/\d+ failures in the lines read, from \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC .*: about one every \d+s/);
    expect(text).toMatch(/crash-looping since (about )?\d{4}-\d\d-\d\d/);
    expect(text).toContain('Main process exited, code=exited, status=3/NOTIMPLEMENTED');
    expect(text).toMatch(/last error .*EROFS: read-only file system/);
    expect(loop.fix).toBeNull();
    // Its cause has the fix: the note points there.
    expect(loop.note).toBe('caused by production/sandbox-path (its fix ends this)');
  });

  it('explains the crash by the sandbox, quoting the EROFS line, and offers the override that grants the live data dir', () => {
    const sandbox = byCode(production, 'sandbox-path')!;
    expect(sandbox.title).toBe(`mcp-coordination.service cannot write ${LIVE}/state.json: ProtectSystem=strict makes it read-only and ReadWritePaths= does not grant ${LIVE}`);
    const quoted = sandbox.evidence.find((e) => e.quote?.some((q) => /EROFS: read-only file system/.test(q)))!;
    expect(quoted.from).toBe('journalctl -u mcp-coordination.service -p notice -n 50');
    expect(quoted.quote![0]).toContain(`cannot write state to ${LIVE}/state.json`);
    expect(evidenceText(sandbox)).toContain(`ReadWritePaths=${STALE}: ${LIVE}/state.json is not inside it`);
    expect(evidenceText(sandbox)).toContain(`Environment= DATA_DIR=${LIVE}`);
    // The hand-started process holds the port: the unit cannot pass a gate until the adoption hands it over, so no restart here.
    expect(sandbox.fix?.plan).toEqual({ kind: 'unit-override', environment: 'production', unit: 'mcp-coordination.service', settings: [`ReadWritePaths=${STALE} ${LIVE}`], restart: false });
  });

  it('names the hand-started port holder: PID, command line, cwd, age; offers to adopt it', () => {
    const holder = byCode(production, 'port-unmanaged')!;
    const text = evidenceText(holder);
    expect(text).toMatch(/PID \d+ listens on 127\.0\.0\.1:3444/);
    expect(text).toContain(`command line: /usr/bin/node ${LAB}/production/server.mjs`);
    expect(text).toContain('working directory: / | /proc/');
    expect(text).toMatch(new RegExp(`environment: DATA_DIR=${LIVE} \\| /proc/\\d+/environ`));
    expect(text).toMatch(/running for \d+[smh]/);
    expect(text).toMatch(/is what serves port 3444, and it answers the health check/);
    // It answers the health probe on the port it holds, and production has a unit: adopt it.
    expect(holder.fix?.plan).toEqual({ kind: 'adopt', environment: 'production', unit: 'mcp-coordination.service', pid: expect.any(Number), port: 3444 });
    expect(holder.note).toBeNull();
  });

  it('says the backups hold the stale copy, not the live data, and offers a backup of the live data', () => {
    const backups = byCode(production, 'backup-archives-stale')!;
    expect(backups.title).toContain(`the existing backups archive ${STALE}`);
    expect(evidenceText(backups)).toMatch(new RegExp(`2 of 2 files in data-\\S+ match ${STALE} \\(mcp-coordination\\.service's ReadWritePaths=\\)`));
    expect(backups.fix?.plan).toEqual({ kind: 'backup-create', environment: 'production', source: LIVE });
  });

  it('finds nothing above info on development', () => {
    expect(environmentFindings(facts('development')).filter((f) => f.severity !== 'info')).toEqual([]);
    const report = doctorReport({ status: {} as StatusReport, environments: [facts('development')], errors: [] });
    expect(doctorAlarms(report)).toBe(false);
    expect(doctorAlarms(doctorReport({ status: {} as StatusReport, environments: [facts('production'), facts('development')], errors: [] }))).toBe(true);
  });
});

describe('one set of rules for status and the doctor', () => {
  it('gives status the same problems, word for word (status reads the failing unit\'s journal too, so it names the sandbox cause)', () => {
    const f = facts('production');
    expect(f.status.journal?.unit).toBe('mcp-coordination.service');
    const problems = diagnose(f.env, f.status, null);
    expect(problems.map((p) => p.code)).toEqual(['crash-loop', 'sandbox-path', 'port-unmanaged', 'backup-archives-stale']);
    expect(problems).toEqual(problemsOf(environmentFindings(f)));
    const dev = facts('development');
    expect(diagnose(dev.env, dev.status, null)).toEqual([]);
  });

  it('keeps info findings out of status problems', () => {
    const f = facts('development');
    f.status.backupSanity = { ...f.status.backupSanity!, verdict: 'unknown', summary: 'development: cannot tell whether the backups hold the live data' };
    expect(environmentFindings(f).map((x) => [x.code, x.severity])).toEqual([['backup-sanity-unknown', 'info']]);
    expect(diagnose(f.env, f.status, null)).toEqual([]);
  });
});

describe('the sandbox rule', () => {
  // Recorded from a unit in the lab with ProtectSystem=strict and ReadWritePaths= naming a missing directory.
  const namespaceJournal = (unit: string, missing: string): JournalFacts => ({
    unit,
    from: `journalctl -u ${unit} -p notice -n 50`,
    entries: [
      { timeUs: 1795978990000000, priority: 3, origin: 'unit', message: `${unit}: Failed to set up mount namespacing: /run/systemd/unit-root${missing}: No such file or directory` },
      { timeUs: 1795978990000100, priority: 3, origin: 'unit', message: `${unit}: Failed at step NAMESPACE spawning /usr/bin/node: No such file or directory` },
      { timeUs: 1795978990000200, priority: 5, origin: 'systemd', message: `${unit}: Main process exited, code=exited, status=226/NAMESPACE` },
      { timeUs: 1795978990000300, priority: 4, origin: 'systemd', message: `${unit}: Failed with result 'exit-code'.` },
    ],
  });

  it('names a missing ReadWritePaths= directory (226/NAMESPACE) and grants the data dir instead', () => {
    const f = facts('production');
    const missing = `${LAB}/production-data-gone`;
    Object.assign(f.status.unit!, { readWritePaths: [missing], execMainStatus: 226, activeState: 'failed', subState: 'failed', crashLooping: false, result: 'exit-code' });
    f.journal = namespaceJournal('mcp-coordination.service', missing);
    const sandbox = byCode(environmentFindings(f), 'sandbox-path')!;
    expect(sandbox.title).toBe(`mcp-coordination.service cannot start: its sandbox names ${missing}, which does not exist (226/NAMESPACE)`);
    expect(sandbox.evidence.flatMap((e) => e.quote ?? [])).toEqual([expect.stringContaining('Failed to set up mount namespacing'), expect.stringContaining('status=226/NAMESPACE')]);
    expect(sandbox.fix?.plan).toMatchObject({ kind: 'unit-override', settings: [`ReadWritePaths=${LIVE}`] });
  });

  it('says 226/NAMESPACE from the unit alone, without a journal (status sees it too)', () => {
    const f = facts('production');
    Object.assign(f.status.unit!, { execMainStatus: 226, activeState: 'failed', crashLooping: false });
    f.journal = null;
    const problems = diagnose(f.env, f.status, null);
    expect(problems.map((p) => p.code)).toContain('sandbox-path');
    expect(byCode(environmentFindings(f), 'sandbox-path')!.fix).toBeNull();
  });

  it('stays quiet once the override grants the path, even while old EROFS lines remain in the journal', () => {
    const f = facts('production');
    f.status.unit!.readWritePaths = [STALE, LIVE];
    expect(byCode(environmentFindings(f), 'sandbox-path')).toBeUndefined();
  });

  it('blames the sandbox only for paths it makes read-only', () => {
    const f = facts('production');
    f.status.unit!.protectSystem = 'full'; // /usr, /boot, /etc only: the data dir under /var/lib is writable
    expect(byCode(environmentFindings(f), 'sandbox-path')).toBeUndefined();
    f.status.unit!.readOnlyPaths = [`-${LAB}/production`];
    const sandbox = byCode(environmentFindings(f), 'sandbox-path')!;
    expect(sandbox.title).toContain(`ReadOnlyPaths=-${LAB}/production makes it read-only`);
  });

  it('needs a failing unit: a healthy one with an EROFS line in its past is fine', () => {
    const f = facts('production');
    Object.assign(f.status.unit!, { activeState: 'active', subState: 'running', crashLooping: false, nRestarts: 0 });
    expect(byCode(environmentFindings(f), 'sandbox-path')).toBeUndefined();
  });

  it('quotes what the service logged made safe to print', () => {
    const f = facts('production');
    const line = f.journal!.entries.findLast((e) => /EROFS/.test(e.message))!;
    line.message = `\x1b[31m${line.message}\x1b]0;pwned\x07`;
    const quotes = environmentFindings(f).flatMap((x) => x.evidence.flatMap((e) => e.quote ?? []));
    expect(quotes.some((q) => q.includes('EROFS'))).toBe(true);
    expect(quotes.join('')).not.toMatch(/[\x00-\x1f\x7f]/);
  });
});

describe('the other rules', () => {
  it('a stale backup source: critical, a backup of the live dir first, the config change in the note', () => {
    const f = facts('production');
    f.status.backupSanity = { ...f.status.backupSanity!, verdict: 'stale-source', source: STALE, liveDirs: [LIVE], summary: `production: the backup source ${STALE} is not where the service writes: ${LIVE} is` };
    const stale = byCode(environmentFindings(f), 'backup-source-stale')!;
    expect(stale.severity).toBe('critical');
    expect(stale.fix?.plan).toEqual({ kind: 'backup-create', environment: 'production', source: LIVE });
    expect(stale.note).toContain(`set backups.source (or dataDir) of production to ${LIVE}`);
  });

  it('a unit that failed once and stays failed is said to have failed, not to crash-loop', () => {
    const f = facts('production');
    f.status.unit = { ...f.status.unit!, activeState: 'failed', subState: 'failed', crashLooping: false, nRestarts: 0 };
    const exits = f.journal!.entries.filter((e) => e.origin === 'systemd' && /Main process exited/.test(e.message));
    f.journal!.entries = f.journal!.entries.filter((e) => e.origin !== 'systemd' || e === exits.at(-1));
    const failed = byCode(environmentFindings(f), 'unit-failed')!;
    const text = evidenceText(failed);
    expect(text).toMatch(/it failed at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(.* ago\)/);
    expect(text).not.toMatch(/crash-looping|failures in the lines read/);
    expect(text).toMatch(/last error .*EROFS/);
  });

  it('the hand-started process\'s open files for writing are evidence too', () => {
    const f = facts('production');
    f.processes![0]!.writing = [`${LIVE}/state.json`, `${LIVE}/messages/inbox.jsonl`];
    expect(evidenceText(byCode(environmentFindings(f), 'port-unmanaged'))).toMatch(new RegExp(`writes ${LIVE}/state\\.json, ${LIVE}/messages/inbox\\.jsonl \\| /proc/\\d+/fd, /proc/\\d+/fdinfo`));
  });

  it('InaccessiblePaths= hiding the data dir (EACCES, or EROFS for a root service): the same override grants it', () => {
    for (const [errno, words] of [['EACCES', 'permission denied'], ['EROFS', 'read-only file system']] as const) {
      const f = facts('production');
      Object.assign(f.status.unit!, { protectSystem: 'no', readWritePaths: [], inaccessiblePaths: [`-${LAB}/production`] });
      f.journal!.entries.push({ timeUs: f.journal!.entries.at(-1)!.timeUs + 1, priority: 3, origin: 'unit', message: `FATAL: cannot write state to ${LIVE}/state.json: ${errno}: ${words}, open '${LIVE}/state.json.tmp'` });
      const sandbox = byCode(environmentFindings(f), 'sandbox-path')!;
      expect(sandbox.title).toBe(`mcp-coordination.service cannot write ${LIVE}/state.json: InaccessiblePaths=-${LAB}/production makes it inaccessible and ReadWritePaths= does not grant ${LIVE}`);
      expect(sandbox.evidence[0]!.from).toBe('systemctl show mcp-coordination.service -p InaccessiblePaths');
      expect(sandbox.fix?.plan).toMatchObject({ kind: 'unit-override', settings: [`ReadWritePaths=${LIVE}`] });
    }
  });

  it('InaccessiblePaths= or ReadOnlyPaths= naming the data dir itself overrules ReadWritePaths= granting it: the fix takes it out', () => {
    for (const [key, mode, other] of [['inaccessiblePaths', 'inaccessible', '/srv/secrets'], ['readOnlyPaths', 'read-only', '-/srv/config']] as const) {
      const f = facts('production');
      const setting = key === 'inaccessiblePaths' ? 'InaccessiblePaths' : 'ReadOnlyPaths';
      Object.assign(f.status.unit!, { protectSystem: 'strict', readWritePaths: [LIVE], [key]: [other, LIVE] });
      f.journal!.entries.push({ timeUs: f.journal!.entries.at(-1)!.timeUs + 1, priority: 3, origin: 'unit', message: `FATAL: cannot write state to ${LIVE}/state.json: EROFS: read-only file system, open '${LIVE}/state.json.tmp'` });
      const sandbox = byCode(environmentFindings(f), 'sandbox-path')!;
      expect(sandbox.title).toBe(`mcp-coordination.service cannot write ${LIVE}/state.json: ${setting}=${LIVE} makes it ${mode}, over ReadWritePaths=${LIVE}`);
      expect(sandbox.evidence[1]!.text).toBe(`ReadWritePaths=${LIVE} grants ${LIVE}/state.json, but ${setting}=${LIVE} names the same path and wins`);
      expect(sandbox.fix?.title).toMatch(new RegExp(`^take ${LIVE} out of mcp-coordination\\.service's ${setting}= and grant it: unit override ${setting}=${other} ReadWritePaths=${LIVE} \\(`));
      expect(sandbox.fix?.plan).toMatchObject({ kind: 'unit-override', settings: [`${setting}=${other}`, `ReadWritePaths=${LIVE}`] });
    }
    const denied = (f: ReturnType<typeof facts>, file: string) => f.journal!.entries.push({ timeUs: f.journal!.entries.at(-1)!.timeUs + 1, priority: 3, origin: 'unit', message: `FATAL: cannot write ${file}: EROFS: read-only file system` });
    // Read-only by the entry and by ProtectSystem=strict, nothing granted: taking the entry out is not enough, the grant comes too.
    const strict = facts('production');
    Object.assign(strict.status.unit!, { protectSystem: 'strict', readWritePaths: [], readOnlyPaths: [LIVE] });
    denied(strict, `${LIVE}/state.json`);
    expect(byCode(environmentFindings(strict), 'sandbox-path')!.fix).toMatchObject({ title: expect.stringMatching(new RegExp(`^take ${LIVE} out of mcp-coordination\\.service's ReadOnlyPaths= and grant it: `)), plan: { settings: ['ReadOnlyPaths=', `ReadWritePaths=${LIVE}`] } });
    // The data dir both hidden and read-only (one with systemd's "-"): both lists lose it.
    const both = facts('production');
    Object.assign(both.status.unit!, { protectSystem: 'strict', readWritePaths: [LIVE], inaccessiblePaths: [LIVE], readOnlyPaths: [`-${LIVE}`, '/srv/config'] });
    denied(both, `${LIVE}/state.json`);
    expect(byCode(environmentFindings(both), 'sandbox-path')!.fix!.plan).toMatchObject({ settings: ['InaccessiblePaths=', 'ReadOnlyPaths=/srv/config', `ReadWritePaths=${LIVE}`] });
    // Read-only above the data dir too, under a broader grant: the data dir's own grant is more specific than both, so it wins.
    const nested = facts('production');
    Object.assign(nested.status.unit!, { protectSystem: 'strict', readWritePaths: ['-/var/lib'], readOnlyPaths: [`${LAB}/production`, LIVE] });
    denied(nested, `${LIVE}/state.json`);
    expect(byCode(environmentFindings(nested), 'sandbox-path')!.fix!.plan).toMatchObject({ settings: [`ReadOnlyPaths=${LAB}/production`, `ReadWritePaths=-/var/lib ${LIVE}`] });
    // A file outside any data dir the config or the unit names, read-only by an entry naming it: perhaps deliberate, and no grant overrules it: no fix, a note.
    const conf = facts('production');
    Object.assign(conf.status.unit!, { protectSystem: 'no', readWritePaths: [], readOnlyPaths: ['/etc/app/conf.json'] });
    denied(conf, '/etc/app/conf.json');
    expect(byCode(environmentFindings(conf), 'sandbox-path')).toMatchObject({ fix: null, note: expect.stringContaining('ReadOnlyPaths=/etc/app/conf.json names /etc/app/conf.json itself') });
    // Read-only by an entry above it: the grant of its directory wins.
    Object.assign(conf.status.unit!, { readOnlyPaths: ['/etc'] });
    expect(byCode(environmentFindings(conf), 'sandbox-path')!.fix!.plan).toMatchObject({ settings: ['ReadWritePaths=/etc/app'] });
    // A read-only path inside the data dir's granted parent is not the cause of EACCES.
    const f = facts('production');
    Object.assign(f.status.unit!, { protectSystem: 'no', readWritePaths: [], readOnlyPaths: [LIVE] });
    f.journal!.entries.push({ timeUs: f.journal!.entries.at(-1)!.timeUs + 1, priority: 3, origin: 'unit', message: `FATAL: cannot write state to ${LIVE}/state.json: EACCES: permission denied` });
    expect(byCode(environmentFindings(f), 'sandbox-path')).toBeUndefined();
  });

  it('quotes journal lines and command lines with what looks secret redacted', () => {
    const f = facts('production');
    f.journal!.entries.push({ timeUs: f.journal!.entries.at(-1)!.timeUs + 1, priority: 3, origin: 'unit', message: 'FATAL: cannot connect to postgres://app:hunter2@db/app with API_TOKEN=ghp_0123456789abcdefABCDEF0123' });
    const printed = JSON.stringify(environmentFindings(f));
    expect(printed).toContain('post…');
    expect(printed).toContain('API_TOKEN=ghp_…');
    expect(printed).not.toContain('hunter2');
    expect(printed).not.toContain('0123456789abcdef');
  });

  it('a failing health check, with what the probe saw', () => {
    const f = facts('development');
    f.status.health = { ...f.status.health!, ok: false, failures: ['HTTP 503, expected 200'], httpStatus: 503 };
    const health = environmentFindings(f);
    expect(health.map((x) => x.id)).toEqual(['development/health-failing']);
    expect(health[0]!.title).toBe('health check http://127.0.0.1:3446/health fails: HTTP 503, expected 200');
    expect(health[0]!.evidence[0]).toEqual({ text: 'HTTP 503, expected 200', from: 'curl http://127.0.0.1:3446/health' });
  });

  it('no backups at all: a warning whose fix makes the first', () => {
    const f = facts('development');
    f.status.backups = { ...f.status.backups!, archives: [], newest: null, newestAgeSec: null };
    f.status.backupSanity = null;
    const none = byCode(environmentFindings(f), 'backup-none')!;
    expect(none.severity).toBe('warning');
    expect(none.fix?.plan).toEqual({ kind: 'backup-create', environment: 'development', source: `${LAB}/development/data` });
  });

  it('a host that cannot be reached says only that', () => {
    const f = facts('production');
    f.hostError = 'host lab is unreachable: the lab is not running';
    f.status.errors = [f.hostError];
    f.status.unit = null;
    f.status.listeners = [];
    f.status.health = null;
    f.status.backups = null;
    f.status.backupSanity = null;
    f.journal = null;
    expect(environmentFindings(f).map((x) => [x.id, x.title])).toEqual([['production/host-unreachable', 'host lab is unreachable: the lab is not running']]);
  });

  it('gives every finding an id of its own', () => {
    const f = facts('production');
    f.status.listeners = [...f.status.listeners, { ...f.status.listeners[0]!, pid: 4242, address: '::' }];
    const ids = environmentFindings(f).map((x) => x.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(['production/port-unmanaged:3444-4242']));
  });
});
