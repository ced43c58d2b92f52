// Live logs against the lab's real journald: following, merging units, filters, resuming
// after journalctl is killed (no duplicate, no gap), hostile and binary text, a 1 MB line,
// empty messages, silent units, journald's suppression notices, and no journalctl left behind.
// Log lines come from transient units started inside the lab with systemd-run; their names
// carry a random tag, since other test files use the same lab at the same time. The lab's
// systemd logs to the journal too, so a unit's journal also holds systemd's lines about it
// ("Deactivated successfully."): tests look at the unit's own lines (origin 'unit') where
// they count lines, and check that systemd's are marked as such.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Host } from '../../src/core/host/host.js';
import { readJournal } from '../../src/core/journal/read.js';
import type { LogEntry } from '../../src/core/journal/parse.js';
import { JournalFollower, type FollowEvent } from '../../src/core/journal/follow.js';
import { countPriorities } from '../../src/core/journal/counts.js';
import { describeLab, labContext, opsdeck, opsdeckBin, sharedLabConfig } from '../support/lab.js';
import { cmdline, descendants } from '../support/proc.js';

const TAG = `opsdeck-test-logs-${randomBytes(3).toString('hex')}`;
const NODE = process.execPath;
const started: string[] = [];
let host: Host;
let config: string;

const unitName = (what: string) => `${TAG}-${what}.service`;

/** Start a transient unit inside the lab. No `$` in argv: systemd would expand it. */
async function runUnit(what: string, argv: string[], properties: string[] = []): Promise<string> {
  const unit = unitName(what);
  started.push(unit);
  await host.run(['systemd-run', `--unit=${unit}`, '--quiet', '--collect', ...properties.map((p) => `--property=${p}`), '--', ...argv]);
  return unit;
}

const nodeUnit = (what: string, script: string, properties: string[] = []) => runUnit(what, [NODE, '-e', script], properties);

async function waitFor(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Every process on the machine (the lab's included: its PID namespace is nested in ours) whose command line names `text`. */
function processesNaming(text: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => pid !== process.pid && cmdline(pid).includes(text));
}


function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** The journalctl (or ssh) this test spawned for `unit`: found among our descendants, never by name alone. */
function spawnedFor(unit: string, command: string): number {
  const found = descendants(process.pid).filter((pid) => comm(pid) === command && cmdline(pid).includes(unit));
  if (found.length !== 1) throw new Error(`expected one ${command} for ${unit} among our children, found ${found.length}`);
  return found[0]!;
}

async function expectNoProcessLeft(unit: string): Promise<void> {
  await waitFor(`no process naming ${unit}`, () => processesNaming(unit).length === 0, 5000).catch(() => undefined);
  expect(processesNaming(unit).map((pid) => `${pid} ${cmdline(pid)}`)).toEqual([]);
}

function follow(units: string[], options: Partial<ConstructorParameters<typeof JournalFollower>[1]> = {}, on: Host = host) {
  const follower = new JournalFollower(on, { units, lines: 'all', ...options });
  const entries: LogEntry[] = [];
  const batches: number[] = [];
  const events: FollowEvent[] = [];
  follower.onBatch((batch) => {
    batches.push(batch.length);
    entries.push(...batch);
  });
  follower.onEvent((event) => events.push(event));
  follower.start();
  const own = () => entries.filter((e) => e.origin === 'unit');
  return { follower, entries, batches, events, own, messages: () => own().map((e) => e.message) };
}

const cli = (args: string[], timeout?: number) => opsdeck([...args, '--config', config], timeout ? { timeout } : {});

describeLab('opsdeck logs against the lab journal', () => {
  beforeAll(() => {
    config = sharedLabConfig();
    host = labContext(config).hosts.get('lab');
  });

  afterAll(async () => {
    for (const unit of started) {
      await host.run(['systemctl', 'stop', '--no-ask-password', '--', unit], { okExitCodes: [0, 1, 5] }).catch(() => undefined);
      await host.run(['systemctl', 'reset-failed', '--', unit], { okExitCodes: [0, 1, 5] }).catch(() => undefined);
    }
  });

  it('follows a unit live, in batches, and leaves no journalctl behind when stopped', async () => {
    const unit = unitName('follow');
    const f = follow([unit]);
    await waitFor('connected', () => f.events.some((e) => e.type === 'connected'));
    await nodeUnit('follow', 'let i = 0; const t = setInterval(function () { console.log("line " + (++i)); if (i === 40) clearInterval(t); }, 10);');
    await waitFor('40 lines', () => f.own().length >= 40);
    expect(f.messages()).toEqual(Array.from({ length: 40 }, (_, i) => `line ${i + 1}`));
    expect(f.own().every((e) => e.unit === unit && e.priority === 6)).toBe(true);
    // systemd's own line about the unit, marked as systemd's and filed under the unit.
    await waitFor('systemd: Deactivated', () => f.entries.some((e) => e.origin === 'systemd' && e.message.endsWith('Deactivated successfully.')));
    expect(f.entries.filter((e) => e.origin === 'systemd').every((e) => e.unit === unit)).toBe(true);
    // ~0.4 s of lines at most every 100 ms: a handful of batches, not one per line.
    expect(f.batches.length).toBeLessThan(10);
    expect(processesNaming(unit).length).toBeGreaterThan(0);
    await f.follower.stop();
    expect(f.events.at(-1)).toMatchObject({ type: 'ended', reason: 'stopped' });
    await expectNoProcessLeft(unit);
  });

  it('merges two units in time order, each line marked with its unit', async () => {
    const [a, b] = [unitName('merge-a'), unitName('merge-b')];
    const f = follow([a, b]);
    // Both write from the same moment on (the units may take a while to start on a busy machine:
    // one starting after the other had finished once made the order one unit, then the other).
    const startAt = Date.now() + 3000;
    const script = (name: string) => `setTimeout(function () { let i = 0; const t = setInterval(function () { console.log("${name} " + (++i)); if (i === 30) clearInterval(t); }, 20); }, Math.max(0, ${startAt} - Date.now()));`;
    await Promise.all([nodeUnit('merge-a', script('a')), nodeUnit('merge-b', script('b'))]);
    await waitFor('60 lines', () => f.own().length >= 60);
    await f.follower.stop();
    const times = f.entries.map((e) => e.timeUs);
    expect(times).toEqual([...times].sort((x, y) => x - y));
    for (const [unit, name] of [[a, 'a'], [b, 'b']] as const) {
      const own = f.own().filter((e) => e.unit === unit).map((e) => e.message);
      expect(own).toEqual(Array.from({ length: 30 }, (_, i) => `${name} ${i + 1}`));
    }
    // Really interleaved, not one unit after the other.
    const order = f.own().map((e) => (e.unit === a ? 'a' : 'b')).join('');
    expect(order).not.toMatch(/^a{30}b{30}$|^b{30}a{30}$/);
  });

  it('filters by priority and by regular expression, include and exclude, on the CLI', async () => {
    const unit = await runUnit('filters', ['/usr/bin/printf', '<3>ERROR disk full\\n<4>slow request\\n<6>request 1 done\\n<7>debug noise\\n<6>request 2 failed\\n<2>CRIT on fire\\n']);
    const json = async (...args: string[]) => {
      const r = await cli(['logs', unit, '--host', 'lab', '--json', ...args]);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      const entries = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { message: string; priority: number; priorityName: string; unit: string; origin?: string });
      return { code: r.code, entries: entries.filter((e) => e.origin === undefined) };
    };
    let all = await json();
    for (let i = 0; i < 40 && all.entries.length < 6; i++) all = await json();
    expect(all.code).toBe(0);
    expect(all.entries.map((e) => e.priorityName)).toEqual(['err', 'warning', 'info', 'debug', 'info', 'crit']);
    expect((await json('--priority', 'warning')).entries.map((e) => e.message)).toEqual(['ERROR disk full', 'slow request', 'CRIT on fire']);
    expect((await json('-p', 'err..warning')).entries.map((e) => e.message)).toEqual(['ERROR disk full', 'slow request']);
    expect((await json('--grep', 'request \\d', '--exclude', 'failed')).entries.map((e) => e.message)).toEqual(['request 1 done']);
    expect((await json('--grep', 'error')).entries.map((e) => e.message)).toEqual(['ERROR disk full']);
    expect((await json('--grep', 'Error')).entries).toEqual([]);
    // -n with a filter: the newest N that match, not the matches among the newest N.
    expect((await json('-n', '1', '--grep', '^request')).entries.map((e) => e.message)).toEqual(['request 2 failed']);
    expect((await json('-n', '2', '-p', 'warning')).entries.map((e) => e.message)).toEqual(['slow request', 'CRIT on fire']);

    const plain = await cli(['logs', unit, '--host', 'lab', '-p', 'err']);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d \S+-filters\.service ✗ err +ERROR disk full$/m);
    expect(plain.stdout).toMatch(/ ✗ crit +CRIT on fire$/m);
    expect(plain.stdout).not.toMatch(/\x1b/);

    const since = await json('--since', '1 hour ago', '--until', 'now', '-p', '3');
    expect(since.entries.map((e) => e.message)).toEqual(['ERROR disk full', 'CRIT on fire']);
    expect((await json('--since', 'tomorrow')).entries).toEqual([]);
  });

  it('refuses bad input with exit code 2 and a clear message, before running anything', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['logs', 'x', '--host', 'lab', '--grep', 'error('], /invalid regular expression for --grep: missing closing \) at `error\(`/],
      [['logs', 'x', '--host', 'lab', '--exclude', '[a-'], /invalid regular expression for --exclude/],
      [['logs', 'x', '--host', 'lab', '-p', 'loud'], /invalid priority "loud"/],
      [['logs', 'x', '--host', 'lab', '--since', 'soonish'], /invalid time "soonish" for --since/],
      [['logs', 'x', '--host', 'lab', '--since', '2026-02-30'], /invalid time "2026-02-30" for --since: 2026-02 has 28 days/],
      [['logs', 'x', '--host', 'lab', '--until', '1960-01-01'], /invalid time "1960-01-01" for --until: times must fall between 1970-01-01 and 9999-12-31/],
      [['logs', 'x', '--host', 'lab', '-n', 'many'], /invalid --lines "many"/],
      // Echoed as typed (not 1e+20), with the range.
      [['logs', 'x', '--host', 'lab', '-n', '99999999999999999999'], /invalid --lines "99999999999999999999"\n.*whole number from 0 to 1,000,000, or "all"/],
      [['logs', 'x', '--host', 'lab', '-n', '1e3'], /invalid --lines "1e3"\n.*whole number from 0 to 1,000,000/],
      [['logs', 'x', '--host', 'lab', '-n', '1000001'], /invalid --lines "1000001"/],
      [['logs', 'x', '--host', 'lab', '-f', '--until', 'now'], /--until cannot be used with --follow/],
      [['logs', 'x;rm -rf /', '--host', 'lab'], /"x;rm -rf \/" is neither an environment .* nor a valid unit name/],
      [['logs', '--now', '--host', 'lab'], /unknown option|neither an environment/],
      [['logs', 'x', '--host', 'nowhere'], /unknown host "nowhere"/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    }
  });

  it('resumes after journalctl is killed from outside: no duplicate, no missing line, and says so', async () => {
    const unit = unitName('resume');
    const f = follow([unit], { backoffMs: [200] });
    await waitFor('connected', () => f.events.some((e) => e.type === 'connected'));
    await nodeUnit('resume', 'let i = 0; const t = setInterval(function () { for (let k = 0; k < 5; k++) console.log("seq " + (++i)); if (i >= 1500) clearInterval(t); }, 10);');
    await waitFor('300 lines', () => f.own().length >= 300);
    const victim = spawnedFor(unit, 'journalctl');
    process.kill(victim, 'SIGKILL');
    await waitFor('all 1500 lines', () => f.own().at(-1)?.message === 'seq 1500', 30_000);
    await f.follower.stop();
    expect(f.messages()).toEqual(Array.from({ length: 1500 }, (_, i) => `seq ${i + 1}`));
    const types = f.events.map((e) => e.type);
    // "resumed" only once journalctl answered again (the read after the cursor ended well).
    expect(types).toEqual(['waiting', 'connected', 'reconnecting', 'waiting', 'resumed', 'ended']);
    const resumed = f.events.find((e) => e.type === 'resumed') as Extract<FollowEvent, { type: 'resumed' }>;
    expect(resumed.afterMs).toBeGreaterThanOrEqual(150);
    expect(f.follower.stats.reconnects).toBe(1);
    await expectNoProcessLeft(unit);
  }, 60_000);

  it('resumes when the ssh connection drops, and leaves no journalctl on the remote side', async () => {
    const { config: parsed, hosts } = labContext(config);
    if (!parsed.hosts['lab-ssh']) throw new Error('the lab has no ssh host: install openssh-server');
    const ssh = hosts.get('lab-ssh');
    const unit = unitName('ssh');
    const f = follow([unit], { backoffMs: [200] }, ssh);
    await waitFor('connected', () => f.events.some((e) => e.type === 'connected'));
    await nodeUnit('ssh', 'let i = 0; const t = setInterval(function () { for (let k = 0; k < 5; k++) console.log("seq " + (++i)); if (i >= 1000) clearInterval(t); }, 10);');
    await waitFor('200 lines', () => f.own().length >= 200);
    process.kill(spawnedFor(unit, 'ssh'), 'SIGKILL');
    await waitFor('all 1000 lines', () => f.own().at(-1)?.message === 'seq 1000', 30_000);
    await f.follower.stop();
    await ssh.close();
    expect(f.messages()).toEqual(Array.from({ length: 1000 }, (_, i) => `seq ${i + 1}`));
    // Other test files share the ssh master connection and may close it (`ssh -O exit`) while we
    // follow: more drops may come, each one resumed.
    const types = f.events.map((e) => e.type).join(' ');
    expect(types).toMatch(/^waiting connected( reconnecting( waiting)?( reconnecting( waiting)?)* resumed)+ ended$/);
    await expectNoProcessLeft(unit);
  }, 60_000);

  it('never lets hostile text reach the terminal: titles, clipboard, screen clear, hyperlinks, C1, bidi; bytes shown as \\xNN', async () => {
    const unit = await runUnit('hostile', [
      '/usr/bin/printf',
      [
        'before\\033]0;pwned title\\007title gone',
        'clip \\033]52;c;cm0gLXJmIH4=\\007board gone',
        '\\033[2J\\033[3J\\033[Hscreen clear gone',
        'see \\033]8;;https://evil.example/\\033\\\\click here\\033]8;;\\033\\\\ link',
        '\\302\\2332Jc1 csi and \\342\\200\\256bidi override',
        'bad \\377\\376 utf8 \\303 cut',
        '',
      ].join('\\n'),
    ]);
    let r = await cli(['logs', unit, '--host', 'lab']);
    for (let i = 0; i < 40 && !r.stdout.includes(' bad '); i++) r = await cli(['logs', unit, '--host', 'lab']);
    expect(r.code).toBe(0);
    // Everything, systemd's lines too (they echo the hostile command line), is free of controls.
    expect(r.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069]/);
    const ownLines = r.stdout.split('\n').filter((l) => l && !/ (systemd|journald): /.test(l)).join('\n');
    expect(ownLines).not.toMatch(/pwned|cm0gLXJmIH4=|evil\.example/);
    for (const text of ['beforetitle gone', 'clip board gone', 'screen clear gone', 'see click here link', 'c1 csi and bidi override', 'bad \\xff\\xfe utf8 \\xc3 cut [binary]']) {
      expect(r.stdout).toContain(text);
    }
    const json = await cli(['logs', unit, '--host', 'lab', '--json']);
    const entries = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { message: string; binary?: boolean });
    expect(json.stdout).not.toMatch(/\\u001b|\\u0007|\\u009b/);
    expect(entries.find((e) => e.message.startsWith('bad '))).toMatchObject({ message: 'bad \\xff\\xfe utf8 \\xc3 cut', binary: true });
  });

  it('reads a 1 MB line (journald splits it at LineMax) whole and in order', async () => {
    const unit = await nodeUnit('big', 'process.stdout.write("M".repeat(1048576) + "\\nafter-big\\n");');
    let entries: LogEntry[] = [];
    for (let i = 0; i < 40 && entries.at(-1)?.message !== 'after-big'; i++) {
      entries = [];
      await readJournal(host, { units: [unit] }, (batch) => void entries.push(...batch.filter((e) => e.origin === 'unit')));
      if (entries.at(-1)?.message !== 'after-big') await new Promise((r) => setTimeout(r, 100));
    }
    expect(entries.at(-1)!.message).toBe('after-big');
    const pieces = entries.slice(0, -1);
    expect(pieces.every((e) => /^M+$/.test(e.message) && e.truncated === 0)).toBe(true);
    expect(pieces.reduce((n, e) => n + e.message.length, 0)).toBe(1_048_576);

    const json = await cli(['logs', unit, '--host', 'lab', '--json']);
    expect(json.code).toBe(0);
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { message: string; origin?: string }).filter((e) => !e.origin);
    expect(lines).toHaveLength(entries.length);
    expect(lines.map((e) => e.message).join('')).toBe('M'.repeat(1_048_576) + 'after-big');
  });

  it('shows empty messages and entries without MESSAGE or PRIORITY', async () => {
    // Native journal entries from a process that stays alive: journald reads the sender's unit
    // from its cgroup, which a sender that exits at once (logger) may already have left.
    const unit = await runUnit('empty', [
      '/usr/bin/perl', '-MSocket', '-e',
      'socket(S, AF_UNIX, SOCK_DGRAM, 0) or die "socket"; sub to { pack_sockaddr_un("/run/systemd/journal/socket") } ' +
        'send(S, "MESSAGE=\\nPRIORITY=3\\n", 0, to()) or die "send"; select(undef, undef, undef, 0.2); send(S, "FOO=bar\\n", 0, to()) or die "send"; ' +
        'select(undef, undef, undef, 0.5); print "after-empty\\n";',
    ]);
    let r = await cli(['logs', unit, '--host', 'lab', '--json']);
    for (let i = 0; i < 40 && !r.stdout.includes('"message":"after-empty"'); i++) r = await cli(['logs', unit, '--host', 'lab', '--json']);
    const entries = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { message: string; priority: number | null; unit: string; origin?: string }).filter((e) => !e.origin);
    expect(entries.map((e) => [e.message, e.priority, e.unit])).toEqual([
      ['', 3, unit],
      ['', null, unit],
      ['after-empty', 6, unit],
    ]);
    const plain = await cli(['logs', unit, '--host', 'lab']);
    expect(plain.stdout.split('\n').filter((l) => l && !/ systemd: /.test(l))).toHaveLength(3);
    expect(plain.stdout).toMatch(/ \? - +$/m);
  });

  it('a unit with no entries: nothing on stdout, a note on stderr, exit 0; following it is quiet', async () => {
    const unit = unitName('silent');
    const r = await cli(['logs', unit, '--host', 'lab']);
    expect(r).toMatchObject({ code: 0, stdout: '' });
    expect(r.stderr).toMatch(/no entries for .*-silent\.service on host lab/);
    expect((await cli(['logs', unit, '--host', 'lab', '--json'])).stdout).toBe('');
    expect((await cli(['logs', unit, '--host', 'lab', '--counts', '--json'])).stdout).toMatch(/"total":0/);

    const f = follow([unit]);
    await waitFor('connected', () => f.events.some((e) => e.type === 'connected'));
    // journalctl answered (its read of the history ended well, with nothing): now it follows.
    await waitFor('the follow', () => processesNaming(unit).some((pid) => cmdline(pid).includes('--follow')));
    await f.follower.stop();
    expect(f.entries).toEqual([]);
    expect(f.events.map((e) => e.type)).toEqual(['waiting', 'connected', 'ended']);
    await expectNoProcessLeft(unit);
  });

  it('over ssh, a host that accepts the connection but never answers is never "following"', { timeout: 60_000 }, async () => {
    const { config: parsed, hosts } = labContext(config);
    if (!parsed.hosts['lab-ssh']) throw new Error('the lab has no ssh host: install openssh-server');
    const ssh = hosts.get('lab-ssh');
    const unit = unitName('silent-ssh');
    // The real transport (ssh to the lab's sshd, a remote shell), but every command it runs
    // holds the connection open and never writes nor ends: here journalctl made to follow a
    // unit that logs nothing (it still exits once the connection is gone).
    const silent: Host = {
      name: ssh.name,
      transport: ssh.transport,
      stats: ssh.stats,
      run: (argv, options) => ssh.run(argv, options),
      stream: (argv, options) => ssh.stream([...argv, '--follow', '--lines=0'], options),
      wrap: (argv) => ssh.wrap(argv),
      failure: (argv, exitCode, stderr) => ssh.failure(argv, exitCode, stderr),
      close: () => ssh.close(),
      closeSync: () => ssh.closeSync(),
    };
    const startedAt = Date.now();
    const f = follow([unit], {}, silent);
    const remote = () => processesNaming(unit).filter((pid) => comm(pid) === 'journalctl');
    await waitFor('the remote command running', () => remote().length > 0);
    // Well past the second after which it used to claim "connected" without any answer.
    await waitFor('three seconds of silence', () => Date.now() - startedAt > 3000);
    expect(f.follower.state).toBe('connecting');
    expect(f.events.map((e) => e.type)).toEqual(['waiting']);
    await f.follower.stop();
    await waitFor('the remote command gone', () => remote().length === 0);

    // The same unit through the same transport, with journalctl answering: following.
    const real = follow([unit], {}, ssh);
    await waitFor('connected over ssh', () => real.events.some((e) => e.type === 'connected'));
    expect(real.follower.state).toBe('live');
    await real.follower.stop();
    await ssh.close();
    expect(real.events.map((e) => e.type)).toEqual(['waiting', 'connected', 'ended']);
    await expectNoProcessLeft(unit);
  });

  it('surfaces journald\'s "Suppressed N messages" as an event and a CLI warning', async () => {
    const unit = unitName('burst');
    const f = follow([unit]);
    await nodeUnit('burst', 'for (let i = 1; i <= 200; i++) console.log("burst " + i); setTimeout(function () { console.log("after pause"); }, 1500);', ['LogRateLimitIntervalSec=1s', 'LogRateLimitBurst=3']);
    await waitFor('after pause', () => f.messages().includes('after pause'), 20_000);
    await f.follower.stop();
    const suppressed = f.events.filter((e) => e.type === 'suppressed') as Array<Extract<FollowEvent, { type: 'suppressed' }>>;
    const kept = f.messages().filter((m) => m.startsWith('burst ')).length;
    // journalctl --follow does not always deliver journald's notice (it is matched through
    // OBJECT_SYSTEMD_UNIT; seen here with and without stdbuf); when it does, it is an event.
    expect(suppressed.length).toBeLessThanOrEqual(1);
    if (suppressed.length === 1) {
      expect(suppressed[0]!.unit).toBe(unit);
      expect(suppressed[0]!.dropped).toBe(200 - kept);
      expect(f.entries.find((e) => e.suppressed > 0)!.message).toBe(`Suppressed ${200 - kept} messages from ${unit}`);
    }

    // What journalctl itself shows for the unit is the truth opsdeck must match (journald does
    // not always file its notice under the unit, e.g. once a transient unit is collected).
    const truth = (await host.run(['journalctl', '--no-pager', '--output=cat', `--unit=${unit}`])).stdout;
    const r = await cli(['logs', unit, '--host', 'lab']);
    if (truth.includes('Suppressed')) {
      expect(r.stderr).toContain(`journald suppressed ${200 - kept} messages of ${unit} (rate limit)`);
      expect(r.stdout).toContain(` journald: Suppressed ${200 - kept} messages from ${unit}`);
    } else {
      expect(r.stderr).not.toContain('journald suppressed');
    }
  });

  it('an environment means its unit and related units; counts errors and warnings since today', async () => {
    const dev = await cli(['logs', 'development', '-n', '3', '--json']);
    expect(dev.code).toBe(0);
    const lines = dev.stdout.trim().split('\n').map((l) => JSON.parse(l) as { unit: string });
    expect(lines).toHaveLength(3);
    expect(lines.every((l) => l.unit === 'mcp-coordination-dev.service')).toBe(true);

    const prod = await cli(['logs', 'production', '-n', '200', '--json']);
    const units = new Set(prod.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { unit: string }).unit));
    expect([...units].every((u) => ['mcp-coordination.service', 'mcp-backup.service', 'mcp-backup.timer'].includes(u))).toBe(true);

    // Production crash-loops, logging a FATAL error (priority 3) on every start.
    const counts = await cli(['logs', 'production', '--counts', '--json']);
    expect(counts.code).toBe(0);
    const c = JSON.parse(counts.stdout) as { errors: number; warnings: number; buckets: Array<{ errors: number }>; units: string[]; bucketMs: number };
    expect(c.units).toEqual(['mcp-coordination.service', 'mcp-backup.service', 'mcp-backup.timer']);
    expect(c.errors).toBeGreaterThan(0);
    expect(c.buckets.reduce((n, b) => n + b.errors, 0)).toBe(c.errors);
    const human = await cli(['logs', 'production', '--counts', '--since', '1 hour ago']);
    expect(human.stdout).toMatch(/production \(mcp-coordination\.service, mcp-backup\.service, mcp-backup\.timer\) on host lab/);
    expect(human.stdout).toMatch(/✗ \d+ errors/);

    const { config: parsed, hosts } = labContext(config);
    const direct = await countPriorities(hosts.get('lab'), [parsed.environments.production!.unit!], { since: '1 hour ago', buckets: 12 });
    expect(direct.buckets).toHaveLength(12);
    expect(direct.byPriority.err).toBe(direct.errors);
  });

  it('follows on the CLI until the reader goes away (| head), then exits 0 leaving nothing behind', async () => {
    const unit = await nodeUnit('cli-follow', 'let i = 0; setInterval(function () { console.log("tick " + (++i)); }, 20);');
    const child = execa(NODE, [opsdeckBin, 'logs', unit, '--host', 'lab', '-f', '-n', 'all', '--config', config], { reject: false, env: { NO_COLOR: '1' }, stdin: 'ignore', buffer: false });
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => (seen += chunk.toString()));
    const ticks = () => seen.split('\n').filter((l) => / tick \d+$/.test(l));
    // (systemd's "Started …" line comes first: wait for the ticks themselves)
    await waitFor('5 ticks from the CLI', () => ticks().length >= 5);
    expect(ticks().slice(0, 5).map((l) => l.replace(/^.* /, ''))).toEqual(['1', '2', '3', '4', '5']);
    child.stdout!.destroy();
    const result = await Promise.race([child, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
    expect(result).not.toBeNull();
    expect(result!.exitCode).toBe(0);
    await host.run(['systemctl', 'stop', '--', unit]);
    await expectNoProcessLeft(unit);
  });

  it('follows on the CLI with --grep through long lines: every match, in order, none twice; SIGTERM still ends it', async () => {
    const unit = await nodeUnit('cli-grep', 'const pad = "a".repeat(40000); let i = 0; const t = setInterval(function () { for (let k = 0; k < 5; k++) { i++; console.log((i % 2 ? "keep " : "drop ") + i + " " + pad); } if (i >= 400) clearInterval(t); }, 5);');
    const child = execa(NODE, [opsdeckBin, 'logs', unit, '--host', 'lab', '-f', '-n', 'all', '--grep', '^keep \\d+ (a+)+$', '--json', '--config', config], { reject: false, env: { NO_COLOR: '1' }, stdin: 'ignore', buffer: false });
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => (seen += chunk.toString()));
    // (whole lines only: the last may still be arriving)
    const kept = () => seen.split('\n').slice(0, -1).map((l) => (JSON.parse(l) as { message: string }).message.split(' ').slice(0, 2).join(' '));
    await waitFor('200 matching lines', () => kept().length >= 200, 30_000);
    expect(kept()).toEqual(Array.from({ length: 200 }, (_, i) => `keep ${2 * i + 1}`));
    child.kill('SIGTERM');
    const result = await child;
    expect(result.exitCode).toBe(143);
    await host.run(['systemctl', 'stop', '--', unit], { okExitCodes: [0, 5] });
    await expectNoProcessLeft(unit);
  });

  it('follows on the CLI and dies cleanly on SIGTERM', async () => {
    const unit = await nodeUnit('cli-term', 'let i = 0; setInterval(function () { console.log("tock " + (++i)); }, 20);');
    const child = execa(NODE, [opsdeckBin, 'logs', unit, '--host', 'lab', '-f', '-n', '0', '--json', '--config', config], { reject: false, env: { NO_COLOR: '1' }, stdin: 'ignore', buffer: false });
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => (seen += chunk.toString()));
    await waitFor('3 lines from the CLI', () => seen.split('\n').length > 3);
    expect(JSON.parse(seen.split('\n')[0]!)).toMatchObject({ unit, priority: 6, priorityName: 'info' });
    child.kill('SIGTERM');
    const result = await child;
    expect(result.exitCode).toBe(143);
    await host.run(['systemctl', 'stop', '--', unit]);
    await expectNoProcessLeft(unit);
  });
});
