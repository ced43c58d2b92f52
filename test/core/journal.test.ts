// The journal parser on output recorded from the lab's journald (journalctl 252, -a -o json,
// recorded with a few more --output-fields than opsdeck asks for now: extra fields are ignored),
// the byte-stream splitter, the argv builder, and the follower's batching, reconnect and
// stdbuf fallback against a scripted host.
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../src/core/text/errors.js';
import { countPriorities } from '../../src/core/journal/counts.js';
import { journalArgv, readJournal } from '../../src/core/journal/read.js';
import { JournalStreamParser, decodeBytes, parseJournalLine, type LogEntry } from '../../src/core/journal/parse.js';
import { JournalFollower, type FollowEvent } from '../../src/core/journal/follow.js';
import { ScriptedHost } from '../support/scripted-host.js';
import { until } from '../support/until.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));
const parseAll = (buf: Buffer) => {
  const out: LogEntry[] = [];
  const parser = new JournalStreamParser();
  parser.push(buf, out);
  parser.end(out);
  return out;
};
const UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/;

describe('journalctl argv', () => {
  it('passes validated units as --unit=NAME and every value glued to its option', () => {
    expect(journalArgv({ units: ['app', 'mcp-backup.timer', 'app.service'], follow: true, lines: 10, priority: { min: 0, max: 4 }, since: '@1732441800.000' })).toEqual([
      'journalctl', '--no-pager', '--quiet', '--all', '--output=json',
      '--output-fields=MESSAGE,PRIORITY,_SYSTEMD_UNIT,UNIT',
      '--follow', '--lines=10', '--since=@1732441800.000', '--priority=4', '--unit=app.service', '--unit=mcp-backup.timer',
    ]);
  });

  it('resumes after a cursor instead of counting lines, and takes a priority range', () => {
    const argv = journalArgv({ units: ['a'], follow: true, lines: 10, afterCursor: 's=86b8;i=1bb;b=182f;m=3531f2ef;t=6610273e77a02;x=5bd1', priority: { min: 3, max: 4 } });
    expect(argv).toContain('--after-cursor=s=86b8;i=1bb;b=182f;m=3531f2ef;t=6610273e77a02;x=5bd1');
    expect(argv).toContain('--priority=3..4');
    expect(argv.some((a) => a.startsWith('--lines'))).toBe(false);
  });

  it.each([[['x;rm -rf /']], [['--now']], [['a b']], [[]]])('refuses units %j before anything runs', (units) => {
    expect(() => journalArgv({ units })).toThrow(UsageError);
  });

  it('refuses a cursor or time that could smuggle anything else', () => {
    expect(() => journalArgv({ units: ['a'], afterCursor: "x' --file=/etc/shadow" })).toThrow(UsageError);
    expect(() => journalArgv({ units: ['a'], since: 'x\n--merge' })).toThrow(UsageError);
    expect(() => journalArgv({ units: ['a'], lines: -1 })).toThrow(UsageError);
  });
});

describe('entries recorded from the lab (hostile text, bytes, empty messages)', () => {
  const entries = parseAll(fixture('journal-hostile.jsonl'));
  const messages = entries.map((e) => e.message);

  it('reads every entry, with unit, priority and microsecond time', () => {
    expect(entries).toHaveLength(15);
    expect(entries[0]).toMatchObject({ unit: 'fixture-app.service', priority: 3, message: 'ERROR upstream timeout after 5000 ms', binary: false, truncated: 0, suppressed: 0, origin: 'unit' });
    expect(entries[0]!.timeUs).toBe(1795513418627356);
    expect(entries[0]!.cursor).toMatch(/^s=[0-9a-f]+;i=[0-9a-f]+;/);
    expect(entries.slice(0, 4).map((e) => e.priority)).toEqual([3, 4, 6, 7]);
  });

  it('lets no escape or control sequence through: title, clipboard, clear screen, hyperlink, C1, bidi', () => {
    for (const m of messages) expect(m).not.toMatch(UNSAFE);
    expect(messages).toContain('title gone');
    expect(messages).toContain('clipboard  gone');
    expect(messages).toContain('screen clear gone');
    // Recorded with a stray backslash after each ST (ESC \): the sequences go, the text stays.
    expect(messages).toContain('see \\click here\\ link');
    expect(messages).toContain('c1 csi and bidi override');
    expect(messages.join('\n')).not.toMatch(/pwned|cm0gLXJmIH4=|evil\.example/);
  });

  it('decodes byte-array messages: valid UTF-8 kept, invalid bytes shown as \\xNN, flagged binary', () => {
    const bad = entries.find((e) => e.message.startsWith('bad '))!;
    expect(bad.message).toBe('bad \\xff\\xfe utf8 \\xc3 cut');
    expect(bad.binary).toBe(true);
    expect(entries.find((e) => e.message === 'nice ünïcode ✓ 日本')!.binary).toBe(false);
    expect(messages).toContain('plain tab    here');
  });

  it('keeps empty messages and entries without MESSAGE or PRIORITY', () => {
    const empty = entries.filter((e) => e.unit === 'fixture-empty.service');
    expect(empty).toEqual([
      expect.objectContaining({ message: '', priority: 3 }),
      expect.objectContaining({ message: '', priority: null }),
    ]);
  });

  it('reads a long line whole (journalctl needs --all, else the field is null)', () => {
    const long = entries.find((e) => e.unit === 'fixture-long.service')!;
    expect(long.message).toBe('L'.repeat(5000));
    const withoutAll = parseAll(fixture('journal-long-without-all.jsonl'));
    expect(withoutAll[0]!.message).toBe('');
  });
});

describe('journald notices and merged units (recorded)', () => {
  it('marks "Suppressed N messages" with N and the unit it is about', () => {
    const entries = parseAll(fixture('journal-suppressed.jsonl'));
    const notice = entries.find((e) => e.suppressed > 0)!;
    expect(notice).toMatchObject({ suppressed: 52, unit: 'fixture-burst.service', message: 'Suppressed 52 messages from fixture-burst.service', origin: 'journald' });
    expect(entries.filter((e) => e.suppressed > 0)).toHaveLength(1);
  });

  it('keeps two units interleaved in time order', () => {
    const entries = parseAll(fixture('journal-merged.jsonl'));
    expect(entries.map((e) => e.message)).toEqual(['a 1', 'a 2', 'b 1', 'a 3', 'b 2', 'a 4', 'b 3', 'b 4']);
    const times = entries.map((e) => e.timeUs);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(new Set(entries.map((e) => e.unit))).toEqual(new Set(['fixture-a.service', 'fixture-b.service']));
  });

  it('names the unit of systemd\'s own messages from UNIT=, and says they are systemd\'s', () => {
    const e = parseJournalLine('{"__CURSOR":"c","__REALTIME_TIMESTAMP":"1","_SYSTEMD_UNIT":"init.scope","UNIT":"app.service","PRIORITY":"6","MESSAGE":"Started app."}')!;
    expect(e).toMatchObject({ unit: 'app.service', origin: 'systemd' });
    // A unit cannot pass its lines off as journald's notices.
    const forged = parseJournalLine('{"__CURSOR":"c","_SYSTEMD_UNIT":"evil.service","MESSAGE":"Suppressed 9 messages from app.service"}')!;
    expect(forged).toMatchObject({ unit: 'evil.service', suppressed: 0, origin: 'unit' });
  });
});

describe('splitting the byte stream', () => {
  const recorded = Buffer.concat([fixture('journal-hostile.jsonl'), fixture('journal-merged.jsonl')]);
  const whole = parseAll(recorded);

  it('gives the same entries whatever the chunk boundaries (lines and UTF-8 sequences split)', () => {
    for (const size of [1, 2, 3, 7, 64, 1000]) {
      const out: LogEntry[] = [];
      const parser = new JournalStreamParser();
      for (let i = 0; i < recorded.length; i += size) parser.push(recorded.subarray(i, i + size), out);
      parser.end(out);
      expect(out).toEqual(whole);
    }
  });

  it('handles a 1 MB line arriving in pieces, cutting the message (flagged) to bound memory', () => {
    const message = 'é'.repeat(300_000) + 'x'.repeat(448_576); // 1 MB of UTF-8, split mid-sequence below
    const line = Buffer.from(JSON.stringify({ __CURSOR: 'big', __REALTIME_TIMESTAMP: '2', MESSAGE: message, PRIORITY: '4' }) + '\n{"__CURSOR":"next","MESSAGE":"after"}\n');
    const out: LogEntry[] = [];
    const parser = new JournalStreamParser();
    for (let i = 0; i < line.length; i += 65_537) parser.push(line.subarray(i, i + 65_537), out);
    expect(out.map((e) => e.cursor)).toEqual(['big', 'next']);
    expect(out[0]!.truncated).toBe(message.length);
    expect(out[0]!.message).toBe('é'.repeat(65_536) + '…');

    const full: LogEntry[] = [];
    new JournalStreamParser({ maxMessageChars: 2_000_000 }).push(line, full);
    expect(full[0]!.message).toBe(message);
    expect(full[0]!.truncated).toBe(0);
  });

  it('skips a line beyond maxLineBytes and carries on', () => {
    const parser = new JournalStreamParser({ maxLineBytes: 1000 });
    const out: LogEntry[] = [];
    const big = JSON.stringify({ __CURSOR: 'big', MESSAGE: 'x'.repeat(5000) });
    for (const piece of [big.slice(0, 600), big.slice(600, 1800), big.slice(1800) + '\n{"__CURSOR":"ok","MESSAGE":"fine"}\n']) parser.push(Buffer.from(piece), out);
    expect(out.map((e) => e.message)).toEqual(['fine']);
    expect(parser.stats.oversized).toBe(1);
  });

  it('drops a partial last line on discard (the process died mid-write), reads it at a natural end', () => {
    const parser = new JournalStreamParser();
    const out: LogEntry[] = [];
    parser.push(Buffer.from('{"__CURSOR":"a","MESSAGE":"one"}\n{"__CURSOR":"b","MESS'), out);
    parser.discard();
    expect(out.map((e) => e.cursor)).toEqual(['a']);
    parser.push(Buffer.from('{"__CURSOR":"c","MESSAGE":"three"}'), out);
    parser.end(out);
    expect(out.map((e) => e.cursor)).toEqual(['a', 'c']);
  });
});

describe('bytes to text', () => {
  it.each([
    [[104, 105], 'hi'],
    [[0xe2, 0x9c, 0x93], '✓'],
    [[0xff], '\\xff'],
    [[0x61, 0xc3], 'a\\xc3'],
    [[0xed, 0xa0, 0x80], '\\xed\\xa0\\x80'], // a UTF-16 surrogate encoded in UTF-8 is not valid
    [[0xf0, 0x9f, 0x98, 0x80, 0x80], '😀\\x80'],
  ])('%j -> %j', (bytes, text) => {
    expect(decodeBytes(bytes)).toBe(text);
  });
});

const line = (cursor: string, message: string) => `${JSON.stringify({ __CURSOR: cursor, __REALTIME_TIMESTAMP: '1000', PRIORITY: '6', _SYSTEMD_UNIT: 'app.service', MESSAGE: message })}\n`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function watch(follower: JournalFollower) {
  const events: FollowEvent[] = [];
  const got: string[] = [];
  const batches: LogEntry[][] = [];
  follower.onEvent((e) => events.push(e));
  follower.onBatch((b) => {
    batches.push(b);
    got.push(...b.map((e) => e.message));
  });
  return { events, got, batches, types: () => events.map((e) => e.type) };
}

describe('following (scripted journalctl)', () => {
  it('reads the history once, then follows right after its last entry: nothing lost or repeated', async () => {
    const host = new ScriptedHost();
    const follower = new JournalFollower(host, { units: ['app'], lines: 5, flushMs: 10 });
    const w = watch(follower);
    follower.start();
    const read = host.runs[0]!;
    expect(read.argv).toContain('--lines=5');
    expect(read.argv).not.toContain('--follow');
    read.stdout.write(line('c1', 'one') + line('c2', 'two'));
    read.exit(0);
    await until('the follow', () => host.runs.length === 2);
    const follow = host.runs[1]!;
    expect(follow.argv).toEqual(expect.arrayContaining(['--follow', '--after-cursor=c2']));
    expect(follow.argv.some((a) => a.startsWith('--lines') || a.startsWith('--since'))).toBe(false);
    follow.stdout.write(line('c3', 'three'));
    await until('three', () => w.got.length === 3);
    await follower.stop();
    expect(w.got).toEqual(['one', 'two', 'three']);
    expect(w.types()).toEqual(['waiting', 'connected', 'ended']);
  });

  it('delivers batches, not one update per line', async () => {
    const host = new ScriptedHost();
    const follower = new JournalFollower(host, { units: ['app'], lines: 'all', flushMs: 100 });
    const w = watch(follower);
    follower.start();
    host.runs[0]!.exit(0);
    await until('the follow', () => host.runs.length === 2);
    const run = host.runs[1]!;
    for (let i = 0; i < 1000; i++) run.stdout.write(line(`c${i}`, `m${i}`));
    await until('the first thousand', () => w.got.length === 1000);
    for (let i = 1000; i < 2000; i++) run.stdout.write(line(`c${i}`, `m${i}`));
    await until('all of them', () => w.got.length === 2000);
    await follower.stop();
    expect(w.got).toEqual(Array.from({ length: 2000 }, (_, i) => `m${i}`));
    expect(w.batches.length).toBeLessThanOrEqual(3);
    expect(run.stopped).toBe(true);
    expect(follower.state).toBe('ended');
  });

  it('says it is waiting, never following, while the host has not answered', async () => {
    vi.useFakeTimers();
    try {
      const host = new ScriptedHost();
      const follower = new JournalFollower(host, { units: ['app'], lines: 10 });
      const w = watch(follower);
      follower.start();
      // A host that accepted the connection and sends nothing, for a minute.
      await vi.advanceTimersByTimeAsync(60_000);
      expect(follower.state).toBe('connecting');
      expect(w.types()).toEqual(['waiting']);
      expect(host.runs).toHaveLength(1);
      // journalctl's answer (a read with no entry ends with exit code 0): now it follows.
      host.runs[0]!.exit(0);
      await vi.advanceTimersByTimeAsync(10);
      expect(follower.state).toBe('live');
      expect(w.types()).toEqual(['waiting', 'connected']);
      follower.stop();
      await vi.advanceTimersByTimeAsync(10);
    } finally {
      vi.useRealTimers();
    }
  });

  it('resumes after the last cursor when journalctl dies, dropping the half-written line, and says so only once answered', async () => {
    const host = new ScriptedHost();
    const follower = new JournalFollower(host, { units: ['app'], lines: 5, flushMs: 10, backoffMs: [20] });
    const w = watch(follower);
    follower.start();
    host.runs[0]!.stdout.write(line('c1', 'one'));
    host.runs[0]!.exit(0);
    await until('the follow', () => host.runs.length === 2);
    host.runs[1]!.stdout.write(line('c2', 'two') + line('c3', 'thr').slice(0, 20));
    await until('two', () => w.got.length === 2);
    host.runs[1]!.exit(undefined); // killed from outside
    await until('the read after the drop', () => host.runs.length === 3);
    const reread = host.runs[2]!;
    expect(reread.argv).toContain('--after-cursor=c2');
    expect(reread.argv).not.toContain('--follow');
    expect(reread.argv.some((a) => a.startsWith('--lines'))).toBe(false);
    // Until it answers, not "resumed".
    expect(w.types()).toEqual(['waiting', 'connected', 'reconnecting', 'waiting']);
    reread.stdout.write(line('c3', 'three'));
    reread.exit(0);
    await until('the follow after it', () => host.runs.length === 4);
    expect(host.runs[3]!.argv).toEqual(expect.arrayContaining(['--follow', '--after-cursor=c3']));
    await until('three', () => w.got.length === 3);
    await follower.stop();
    expect(w.got).toEqual(['one', 'two', 'three']);
    expect(w.types()).toEqual(['waiting', 'connected', 'reconnecting', 'waiting', 'resumed', 'ended']);
    const resumed = w.events.find((e) => e.type === 'resumed') as Extract<FollowEvent, { type: 'resumed' }>;
    expect(resumed.afterMs).toBeGreaterThanOrEqual(15);
    expect(resumed.cursor).toBe('c3');
  });

  it('follows a unit with no entries from the start of its window (nothing to repeat, no clock involved)', async () => {
    const host = new ScriptedHost();
    const follower = new JournalFollower(host, { units: ['app'], lines: 1000, backoffMs: [10] });
    const w = watch(follower);
    follower.start();
    host.runs[0]!.exit(0); // no entry at all
    await until('the follow', () => host.runs.length === 2);
    expect(follower.state).toBe('live');
    expect(host.runs[1]!.argv).toEqual(expect.arrayContaining(['--follow', '--no-tail']));
    expect(host.runs[1]!.argv.some((a) => a.startsWith('--since') || a.startsWith('--lines') || a.startsWith('--after'))).toBe(false);
    // Dropped before anything came: everything there is now is new.
    host.runs[1]!.exit(1, 'boom');
    await until('the read after the drop', () => host.runs.length === 3);
    expect(host.runs[2]!.argv.some((a) => a.startsWith('--since') || a.startsWith('--lines') || a.startsWith('--after'))).toBe(false);
    host.runs[2]!.stdout.write(line('c1', 'first'));
    host.runs[2]!.exit(0);
    await until('first', () => w.got.length === 1);
    await until('the follow after it', () => host.runs.length === 4);
    expect(host.runs[3]!.argv).toContain('--after-cursor=c1');
    await follower.stop();
  });

  it('with lines 0, reads the newest entry only to start after it, showing nothing old', async () => {
    const host = new ScriptedHost();
    const follower = new JournalFollower(host, { units: ['app'], lines: 0 });
    const w = watch(follower);
    follower.start();
    expect(host.runs[0]!.argv).toContain('--lines=1');
    host.runs[0]!.stdout.write(line('c9', 'old'));
    host.runs[0]!.exit(0);
    await until('the follow', () => host.runs.length === 2);
    expect(host.runs[1]!.argv).toContain('--after-cursor=c9');
    host.runs[1]!.stdout.write(line('c10', 'new'));
    await until('new', () => w.got.length === 1);
    await follower.stop();
    expect(w.got).toEqual(['new']);
  });

  it('fails for good, with journalctl\'s error, when the first run dies at once', async () => {
    const host = new ScriptedHost();
    const follower = new JournalFollower(host, { units: ['app'] });
    const w = watch(follower);
    follower.start();
    host.runs[0]!.exit(1, 'Failed to parse timestamp: x\n');
    await follower.ended;
    const ended = w.events.at(-1) as Extract<FollowEvent, { type: 'ended' }>;
    expect(ended).toMatchObject({ type: 'ended', reason: 'failed' });
    expect(ended.error!.message).toMatch(/journalctl.*exit code 1.*Failed to parse timestamp/);
    expect(host.runs).toHaveLength(1);
  });

  it('stops cleanly while paused by a slow consumer', async () => {
    const host = new ScriptedHost();
    const follower = new JournalFollower(host, { units: ['app'], lines: 10, flushMs: 10 });
    follower.start();
    host.runs[0]!.stdout.write(line('c1', 'one'));
    follower.pause();
    host.runs[0]!.stdout.write(line('c2', 'two'));
    await Promise.race([follower.stop(), sleep(1000).then(() => Promise.reject(new Error('stop() hung while paused')))]);
    expect(follower.state).toBe('ended');
  });

  it('reports journald\'s suppressed messages as an event', async () => {
    const host = new ScriptedHost();
    const follower = new JournalFollower(host, { units: ['app'], lines: 'all', flushMs: 10 });
    const w = watch(follower);
    follower.start();
    host.runs[0]!.stdout.write(fixture('journal-suppressed.jsonl'));
    host.runs[0]!.exit(0);
    await until('the follow', () => host.runs.length === 2);
    await follower.stop();
    expect(w.events.filter((e) => e.type === 'suppressed')).toEqual([expect.objectContaining({ unit: 'fixture-burst.service', dropped: 52 })]);
  });
});

describe('journalctl\'s output buffer', () => {
  it('runs journalctl under stdbuf, and bare on a host that lacks it (no reconnect noise)', async () => {
    const host = new ScriptedHost('ssh');
    const follower = new JournalFollower(host, { units: ['app'], lines: 10, flushMs: 10 });
    const w = watch(follower);
    follower.start();
    expect(host.runs[0]!.argv.slice(0, 3)).toEqual(['stdbuf', '--output=64K', 'journalctl']);
    host.runs[0]!.exit(127, "env: 'stdbuf': No such file or directory\n");
    await until('the bare read', () => host.runs.length === 2);
    expect(host.runs[1]!.argv[0]).toBe('journalctl');
    host.runs[1]!.stdout.write(line('c1', 'one'));
    host.runs[1]!.exit(0);
    await until('the bare follow', () => host.runs.length === 3);
    expect(host.runs[2]!.argv[0]).toBe('journalctl');
    await until('one', () => w.got.length === 1);
    await follower.stop();
    expect(w.got).toEqual(['one']);
    expect(w.types()).toEqual(['waiting', 'connected', 'ended']);

    const reading = readJournal(host, { units: ['app'] }, () => undefined);
    expect(host.runs[3]!.argv[0]).toBe('journalctl');
    host.runs[3]!.exit(0);
    await reading;
  });
});

describe('reading once (scripted journalctl)', () => {
  it('with a filter and -n, reads newest first and stops journalctl once N matched', async () => {
    const host = new ScriptedHost();
    const got: LogEntry[] = [];
    const reading = readJournal(host, { units: ['app'], lines: 2, filter: (e) => e.message.startsWith('hit') }, (b) => void got.push(...b));
    const run = host.runs[0]!;
    expect(run.argv).toContain('--reverse');
    run.stdout.write(line('c9', 'hit 9') + line('c8', 'miss') + line('c7', 'hit 7') + line('c6', 'hit 6'));
    const summary = await reading;
    expect(got.map((e) => e.message)).toEqual(['hit 7', 'hit 9']);
    expect(summary.newestCursor).toBe('c9');
    expect(run.stopped).toBe(true);
  });

  it('counts errors and warnings per round interval for a sparkline', async () => {
    const host = new ScriptedHost();
    const now = new Date(Date.UTC(2026, 10, 24, 12, 0, 0));
    const at = (minutesAgo: number, priority: number) =>
      JSON.stringify({ __CURSOR: `c${minutesAgo}`, __REALTIME_TIMESTAMP: String((now.getTime() - minutesAgo * 60_000) * 1000), PRIORITY: String(priority) }) + '\n';
    const counting = countPriorities(host, ['app'], { since: '1 hour ago', buckets: 6, now });
    const run = host.runs[0]!;
    expect(run.argv).toEqual(expect.arrayContaining(['--priority=4', '--output-fields=PRIORITY', `--since=@${(now.getTime() / 1000 - 3600).toFixed(3)}`]));
    run.stdout.write(at(59, 3) + at(55, 4) + at(30, 2) + at(29, 3) + at(1, 4));
    run.exit(0);
    const counts = await counting;
    expect(counts).toMatchObject({ total: 5, errors: 3, warnings: 2, bucketMs: 600_000 });
    expect(counts.byPriority).toMatchObject({ crit: 1, err: 2, warning: 2 });
    expect(counts.buckets.map((b) => [b.errors, b.warnings])).toEqual([[1, 1], [0, 0], [0, 0], [2, 0], [0, 0], [0, 1]]);
  });

  it('turns a failing journalctl into an error with its stderr', async () => {
    const host = new ScriptedHost();
    const reading = readJournal(host, { units: ['app'] }, () => undefined);
    host.runs[0]!.exit(1, 'Failed to add filter for units: No data available\n');
    await expect(reading).rejects.toThrow(/\(exit code 1\): Failed to add filter/);
  });
});
