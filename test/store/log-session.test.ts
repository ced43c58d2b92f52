// The logs pane's entries under long work: re-filtering, searching and counting go on in slices
// with the event loop running between them (timers fire, signals would be handled), and end
// with the same answer as doing it at once, while entries keep arriving and the ring buffer
// evicts the oldest.
import { describe, expect, it } from 'vitest';
import type { LogEntry } from '../../src/core/journal/parse.js';
import { HostRegistry } from '../../src/core/host/registry.js';
import { compilePattern } from '../../src/core/text/pattern.js';
import { parseConfig } from '../../src/config/load.js';
import { LogSession, type LogWork } from '../../src/store/log-session.js';

const entry = (i: number, message: string): LogEntry => ({ cursor: `c${i}`, timeUs: i, priority: 6, unit: 'app.service', message, binary: false, truncated: 0, suppressed: 0, origin: 'unit' });
/** Every 7th entry says "error", every 5th is long. */
const message = (i: number) => `${i % 7 === 0 ? 'error' : 'request'} ${i} ${i % 5 === 0 ? 'x'.repeat(2000) : 'done'}`;
const entries = (from: number, n: number) => Array.from({ length: n }, (_, k) => entry(from + k, message(from + k)));

function session(capacity: number) {
  const reported = { passed: 0, dropped: 0, work: [] as Array<LogWork | null> };
  const s = new LogSession(new HostRegistry(parseConfig('{}', 'test.yaml')), capacity, {
    onEntries: (passed, dropped) => {
      reported.passed += passed;
      reported.dropped += dropped;
    },
    onEvent: () => undefined,
    onWork: (work) => reported.work.push(work),
  });
  const view = () => Array.from({ length: s.length }, (_, i) => s.at(i)!.cursor);
  return { s, reported, view };
}

const messageOf = (cursor: string) => message(Number(cursor.slice(1)));
const errors = compilePattern('error', '--grep');

describe('long work on the logs', () => {
  it('re-filters 50,000 entries in slices: a timer fires while it runs, and the view ends right', async () => {
    const { s, reported, view } = session(50_000);
    s.ingest(entries(0, 50_000));
    reported.passed = 0;
    let sawItRunning: boolean | undefined;
    setTimeout(() => (sawItRunning = !s.filtered), 0);
    s.setFilter({ include: [errors] });
    expect(s.filtered).toBe(false);
    await s.idle();
    expect(sawItRunning).toBe(true);
    expect(view()).toEqual(entries(0, 50_000).filter((e) => e.message.startsWith('error')).map((e) => e.cursor));
    // Progress was shown, and cleared at the end; the entries found were old ones, not "new".
    expect(reported.work.some((w) => w?.task === 'filter')).toBe(true);
    expect(reported.work.at(-1)).toBeNull();
    expect(reported.passed).toBe(0);
  });

  it('keeps entries that arrive and leave during a re-filter in order, none lost or repeated', async () => {
    const { s, reported, view } = session(20_000);
    s.ingest(entries(0, 20_000));
    reported.passed = 0;
    s.setFilter({ exclude: [errors] });
    let next = 20_000;
    let arrivedWhileFiltering = false;
    // Batches arrive while the filter works: the ring buffer evicts entries it has not reached yet.
    await new Promise<void>((resolve) => {
      const feed = () => {
        if (!s.filtered) arrivedWhileFiltering = true;
        s.ingest(entries(next, 3000));
        next += 3000;
        if (next < 50_000) setTimeout(feed, 0);
        else resolve();
      };
      setTimeout(feed, 0);
    });
    await s.idle();
    expect(arrivedWhileFiltering).toBe(true);
    const held = s.buffer.slice().filter((e) => !e.message.startsWith('error')).map((e) => e.cursor);
    expect(view()).toEqual(held);
    expect(new Set(view()).size).toBe(view().length);
    expect(s.buffer.firstSeq).toBe(30_000);
    // "New" lines are those that arrived after the filter was set and pass it: all that are
    // still held, and at most all of them (some left before the filter reached them).
    const newPassing = entries(20_000, 30_000).filter((e) => !e.message.startsWith('error'));
    expect(reported.passed).toBeGreaterThanOrEqual(newPassing.filter((e) => Number(e.cursor.slice(1)) >= 30_000).length);
    expect(reported.passed).toBeLessThanOrEqual(newPassing.length);
  });

  it('drops a re-filter that a newer filter supersedes, and ends with the newer one', async () => {
    const { s, reported, view } = session(50_000);
    s.ingest(entries(0, 50_000));
    s.setFilter({ include: [errors] });
    expect(s.filtered).toBe(false);
    s.setFilter({ include: [compilePattern('^request 1\\d* ', '--grep')] });
    await s.idle();
    expect(view()).toEqual(entries(0, 50_000).filter((e) => /^request 1\d* /.test(e.message)).map((e) => e.cursor));
    expect(reported.work.at(-1)).toBeNull();
    s.setFilter({});
    expect(s.length).toBe(50_000);
  });

  it('searches both ways, wrapping around, and counts, in slices; a newer search supersedes an older one', async () => {
    const { s } = session(50_000);
    s.ingest(entries(0, 50_000));
    s.setFilter({ include: [compilePattern('request|error', '--grep')] });
    await s.idle();
    let sawItRunning: boolean | undefined;
    setTimeout(() => (sawItRunning = true), 0);
    const needle = compilePattern('^error 4900[0-9] ', 'search');
    expect(await s.count(needle)).toBe(entries(49_000, 1000).filter((e) => /^error 4900\d /.test(e.message)).length);
    expect(sawItRunning).toBe(true);
    const first = await s.find(needle, -1, 1);
    expect(messageOf(s.at(first!)!.cursor)).toMatch(/^error 49000 /);
    const second = await s.find(needle, first!, 1);
    expect(messageOf(s.at(second!)!.cursor)).toMatch(/^error 49007 /);
    // Backwards from the first match wraps round to the last one.
    const last = await s.find(needle, first!, -1);
    expect(messageOf(s.at(last!)!.cursor)).toMatch(/^error 49007 /);
    expect(await s.find(compilePattern('nowhere', 'search'), 10, 1)).toBe(-1);
    const older = s.find(compilePattern('nowhere', 'search'), -1, 1);
    const newer = s.find(needle, -1, 1);
    expect(await older).toBeNull();
    expect(await newer).toBe(first);
  });

  it('searches and counts over an unfiltered view while the ring buffer evicts', async () => {
    const { s } = session(5000);
    s.ingest(entries(0, 5000));
    const counting = s.count(errors);
    const finding = s.find(compilePattern('^error 1001 ', 'search'), -1, 1);
    // Before they run, the oldest 2000 leave: what is found is found among what is held.
    s.ingest(entries(5000, 2000));
    expect(await finding).toBe(-1);
    expect(await counting).toBe(entries(2000, 5000).filter((e) => e.message.startsWith('error')).length);
    expect(messageOf(s.at((await s.find(compilePattern('^error 2002 ', 'search'), -1, 1))!)!.cursor)).toMatch(/^error 2002 /);
  });
});
