// Priorities, entry filters and time windows as a user types them; the ring buffer.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/text/errors.js';
import type { LogEntry } from '../../src/core/journal/read.js';
import { LogBuffer } from '../../src/core/journal/buffer.js';
import { compilePattern } from '../../src/core/text/pattern.js';
import { entryFilter, parsePriority, parseTime, priorityMark, priorityName } from '../../src/core/journal/filter.js';

const entry = (priority: number | null, message: string): LogEntry => ({ cursor: 'c', timeUs: 0, priority, unit: 'app.service', message, binary: false, truncated: 0, suppressed: 0, origin: 'unit' });

describe('priorities', () => {
  it.each([
    ['warning', { min: 0, max: 4 }],
    ['WARNING', { min: 0, max: 4 }],
    ['warn', { min: 0, max: 4 }],
    ['4', { min: 0, max: 4 }],
    ['err', { min: 0, max: 3 }],
    ['error', { min: 0, max: 3 }],
    ['debug', { min: 0, max: 7 }],
    ['emerg', { min: 0, max: 0 }],
    ['err..warning', { min: 3, max: 4 }],
    ['warning..err', { min: 3, max: 4 }],
    ['0..2', { min: 0, max: 2 }],
  ])('%s -> %j', (text, range) => {
    expect(parsePriority(text)).toEqual(range);
  });

  it.each(['8', 'loud', '', 'err..', '1..2..3', '-1'])('refuses %j with the names to use', (text) => {
    expect(() => parsePriority(text)).toThrow(UsageError);
    try {
      parsePriority(text);
    } catch (error) {
      expect((error as UsageError).hint).toMatch(/emerg, alert, crit, err, warning, notice, info, debug/);
    }
  });

  it('names and marks for display, readable without colour', () => {
    expect([0, 3, 4, 5, 6, 7, null].map((p) => `${priorityMark(p)}${priorityName(p)}`)).toEqual(['✗emerg', '✗err', '!warning', '•notice', ' info', '·debug', '?-']);
  });
});

describe('entry filters', () => {
  it('filters by priority range, include (any) and exclude', () => {
    const entries = [entry(3, 'ERROR upstream timeout'), entry(4, 'slow request'), entry(6, 'request handled'), entry(null, 'no priority')];
    const warnOrWorse = entryFilter({ priority: { min: 0, max: 4 } })!;
    expect(entries.filter(warnOrWorse).map((e) => e.priority)).toEqual([3, 4]);
    const requests = entryFilter({ include: [compilePattern('request', '--grep'), compilePattern('timeout', '--grep')], exclude: [compilePattern('slow', '--exclude')] })!;
    expect(entries.filter(requests).map((e) => e.message)).toEqual(['ERROR upstream timeout', 'request handled']);
    expect(entryFilter({})).toBeUndefined();
  });
});

describe('time windows', () => {
  // A fixed local "now"; expectations are built with the same local-time constructors.
  const now = new Date(2026, 10, 24, 15, 30, 45, 500);
  const at = (text: string) => parseTime(text, now).ms;

  it.each([
    ['now', now.getTime()],
    ['today', new Date(2026, 10, 24).getTime()],
    ['yesterday', new Date(2026, 10, 23).getTime()],
    ['tomorrow', new Date(2026, 10, 25).getTime()],
    ['1 hour ago', now.getTime() - 3_600_000],
    ['30 min ago', now.getTime() - 1_800_000],
    ['1h30min ago', now.getTime() - 5_400_000],
    ['2 days ago', now.getTime() - 2 * 86_400_000],
    ['-1h', now.getTime() - 3_600_000],
    ['+10min', now.getTime() + 600_000],
    ['2h', now.getTime() - 7_200_000],
    ['09:30', new Date(2026, 10, 24, 9, 30).getTime()],
    ['2026-11-20', new Date(2026, 10, 20).getTime()],
    ['2026-11-20 09:15', new Date(2026, 10, 20, 9, 15).getTime()],
    ['2026-11-20T09:15:30', new Date(2026, 10, 20, 9, 15, 30).getTime()],
    ['2026-11-20T09:15:30.250Z', Date.UTC(2026, 10, 20, 9, 15, 30, 250)],
    ['2026-11-20T09:15:30+01:00', Date.UTC(2026, 10, 20, 8, 15, 30)],
    ['2026-11-20 09:15:30 UTC', Date.UTC(2026, 10, 20, 9, 15, 30)],
    ['@1795513022.5', 1795513022500],
  ])('%s', (text, ms) => {
    expect(at(text)).toBe(ms);
  });

  it('gives journalctl an absolute "@seconds" it accepts (systemd 252 rejects ISO "T" times)', () => {
    expect(parseTime('2026-11-20T09:15:30.250Z', now).journal).toBe(`@${(Date.UTC(2026, 10, 20, 9, 15, 30, 250) / 1000).toFixed(3)}`);
  });

  it.each(['soon', '1 fortnight ago', '2026-13-01', '25:00', 'ago', '2026-11-20T09:15:30+1'])('refuses %j with examples', (text) => {
    expect(() => parseTime(text, now, '--since')).toThrow(/invalid time .* for --since/);
  });

  it.each([
    ['2026-02-30', /2026-02 has 28 days/],
    ['2026-02-29 10:00', /2026-02 has 28 days/],
    ['2026-04-31T00:00:00Z', /2026-04 has 30 days/],
    ['2026-00-10', /there is no month 0/],
    ['2026-11-20T09:15:30+25:00', /no time zone is \+25:00/],
    ['1969-12-31', /between 1970-01-01 and 9999-12-31/],
    ['0075-01-01', /between 1970-01-01 and 9999-12-31/],
    ['@99999999999999999999', /between 1970-01-01 and 9999-12-31/],
    ['99999999 days ago', /between 1970-01-01 and 9999-12-31/],
    ['+9999999999 weeks', /between 1970-01-01 and 9999-12-31/],
  ])('refuses %j, a time that does not exist or that journalctl would refuse, saying why', (text, why) => {
    expect(() => parseTime(text, now, '--since')).toThrow(why);
  });

  it('takes the dates that do exist, leap days included, and hands journalctl plain seconds', () => {
    expect(at('2024-02-29')).toBe(new Date(2024, 1, 29).getTime());
    expect(at('2026-12-31 23:59:59')).toBe(new Date(2026, 11, 31, 23, 59, 59).getTime());
    expect(parseTime('9999-12-31T00:00:00Z', now).journal).toBe('@253402214400.000');
    expect(parseTime('@0', now).journal).toBe('@0.000');
  });
});

describe('the log ring buffer', () => {
  it('keeps the newest entries up to its capacity, oldest first, with one revision per batch', () => {
    const buffer = new LogBuffer<number>(5);
    buffer.push([1, 2, 3]);
    expect(buffer.revision).toBe(1);
    buffer.push([4, 5, 6, 7]);
    expect(buffer.revision).toBe(2);
    expect(buffer.slice()).toEqual([3, 4, 5, 6, 7]);
    expect(buffer.size).toBe(5);
    expect(buffer.totalPushed).toBe(7);
    expect(buffer.evicted).toBe(2);
    expect(buffer.at(0)).toBe(3);
    expect(buffer.at(5)).toBeUndefined();
    expect(buffer.tail(2)).toEqual([6, 7]);
    expect(buffer.slice(1, 3)).toEqual([4, 5]);
    expect(buffer.slice(-2)).toEqual([6, 7]);
    expect(buffer.bySeq(2)).toBe(3);
    expect(buffer.bySeq(1)).toBeUndefined();
  });

  it('takes a batch larger than itself (keeps its newest part)', () => {
    const buffer = new LogBuffer<number>(3);
    buffer.push([1]);
    buffer.push(Array.from({ length: 10 }, (_, i) => i + 10));
    expect(buffer.slice()).toEqual([17, 18, 19]);
    expect(buffer.totalPushed).toBe(11);
    expect(buffer.firstSeq).toBe(8);
  });

  it('stays bounded over a million entries', () => {
    const buffer = new LogBuffer<number>(50_000);
    const batch = Array.from({ length: 1000 }, (_, i) => i);
    for (let i = 0; i < 1000; i++) buffer.push(batch);
    expect(buffer.size).toBe(50_000);
    expect(buffer.totalPushed).toBe(1_000_000);
    buffer.clear();
    expect(buffer.size).toBe(0);
    expect(() => new LogBuffer(0)).toThrow(RangeError);
  });
});
