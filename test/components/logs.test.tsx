// The logs pane, fed with journal entries recorded from the lab (parsed by the real parser).
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { parseJournalLine, type LogEntry } from '../../src/core/journal/parse.js';
import { initialLogsState } from '../../src/store/logs-slice.js';
import { visibleEntries } from '../../components/LogsPane/viewport.js';
import { makeStore, renderConsole, settle } from '../support/console.js';
import { ScriptedHost } from '../support/scripted-host.js';

function recorded(name: string): LogEntry[] {
  return readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => parseJournalLine(line))
    .filter((e): e is LogEntry => e !== undefined);
}

function logsStore(logCapacity?: number) {
  const { store } = makeStore(logCapacity ? { logCapacity } : {});
  // As if the pane had opened a follower; entries are fed the way the follower feeds them.
  store.setState({ pane: 'logs', logs: { ...initialLogsState, connection: 'live', target: { host: 'lab', units: ['fixture-a.service', 'fixture-b.service'], label: 'fixture', environment: null } } });
  return store;
}

/** Type into a prompt (its key, the text, Enter), then wait for the work it started (re-filter, search, count) and the frame after it. */
async function submitPrompt(store: ReturnType<typeof logsStore>, stdin: ReturnType<typeof renderConsole>['stdin'], key: string, text: string): Promise<void> {
  stdin.write(key);
  stdin.write(text);
  stdin.write('\r');
  await settle();
  await store.getState().logSession.idle();
  await settle();
}

describe('the logs pane', () => {
  it('shows merged units, each line marked with its unit, and never passes escape sequences', async () => {
    const store = logsStore();
    const { lastFrame, unmount } = renderConsole(store);
    store.getState().logSession.ingest(recorded('journal-hostile.jsonl'));
    await settle();
    // Only Ink's own colour codes may remain: no titles, clears, cursor moves, links, clipboard.
    // eslint-disable-next-line no-control-regex
    expect(lastFrame()!.replace(/\x1b\[[0-9;]*m/g, '')).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f\x9b\x9d]/);
    store.getState().logSession.ingest(recorded('journal-merged.jsonl'));
    await settle();
    const frame = lastFrame()!;
    expect(frame).toMatch(/fixture-a\s+a \d+/);
    expect(frame).toMatch(/fixture-b\s+b \d+/);
    expect(frame).toMatch(/● following/);
    unmount();
  });

  it('says it is waiting for the host, and for how long, until journalctl answers; then following', async () => {
    const host = new ScriptedHost();
    const { store } = makeStore({ host });
    const { lastFrame, stdin, unmount } = renderConsole(store);
    stdin.write('4');
    await settle();
    expect(lastFrame()).toMatch(/… waiting for host lab to answer \(\d+ s\)/);
    expect(lastFrame()).not.toMatch(/following/);
    // The history read ends with exit code 0, even with no entry: that is journalctl's answer.
    const read = host.runs.find((r) => !r.argv.includes('--output-fields=PRIORITY'))!;
    expect(read.argv).not.toContain('--follow');
    read.exit(0);
    await settle();
    expect(lastFrame()).toMatch(/● following/);
    expect(lastFrame()).not.toMatch(/waiting for host/);
    unmount();
  });

  it('pauses when scrolled up, counts new lines, and follows again with G', async () => {
    const store = logsStore();
    const { lastFrame, stdin, unmount } = renderConsole(store);
    const entries = recorded('journal-merged.jsonl');
    store.getState().logSession.ingest(entries);
    await settle();
    stdin.write('k');
    await settle();
    store.getState().logSession.ingest(entries.slice(0, 3));
    await settle();
    expect(lastFrame()).toMatch(/PAUSED · 3 new lines \(G: follow\)/);
    stdin.write('G');
    await settle();
    expect(lastFrame()).toMatch(/● following/);
    unmount();
  });

  it('keeps a paused view on the same lines while a full ring buffer drops the oldest', async () => {
    const store = logsStore(20);
    const entries = recorded('journal-merged.jsonl');
    const numbered = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ ...entries[0]!, message: `line ${from + i}` }));
    store.getState().logSession.ingest(numbered(1, 20));
    store.getState().actions.scrollLogs(-5, 10);
    const topMessage = () => store.getState().logSession.at(store.getState().logs.top)?.message;
    const before = topMessage();
    store.getState().logSession.ingest(numbered(21, 3));
    expect(store.getState().logs.follow).toBe(false);
    expect(topMessage()).toBe(before);
    expect(store.getState().logs.newWhilePaused).toBe(3);
  });

  it('filters by priority and searches with n/N', async () => {
    const store = logsStore();
    const { lastFrame, stdin, unmount } = renderConsole(store);
    store.getState().logSession.ingest(recorded('journal-merged.jsonl'));
    await settle();
    const before = store.getState().logs.length;
    stdin.write('p');
    await settle();
    expect(store.getState().logs.priority).toEqual({ min: 0, max: 4 });
    expect(store.getState().logs.length).toBeLessThan(before);
    expect(lastFrame()).toMatch(/filter warning and worse/);
    stdin.write('c');
    await settle();
    await submitPrompt(store, stdin, '/', 'b 2');
    expect(lastFrame()).toMatch(/search \/b 2\/: 1 line, at line \d+ \(n N\)/);
    expect(lastFrame()).toMatch(/▶.*b 2/);
    unmount();
  });

  it('applies a hostile pattern to long lines without hanging (linear-time matching)', async () => {
    const store = logsStore();
    const { lastFrame, stdin, unmount } = renderConsole(store);
    const base = recorded('journal-merged.jsonl')[0]!;
    store.getState().logSession.ingest(Array.from({ length: 20 }, (_, i) => ({ ...base, message: i === 7 ? 'a'.repeat(30) : 'a'.repeat(30_000) + '!' })));
    await settle();
    await submitPrompt(store, stdin, '+', '^(a+)+$');
    expect(store.getState().logs.include).toBe('^(a+)+$');
    expect(store.getState().logs.length).toBe(1);
    expect(lastFrame()).toMatch(/filter \+\/\^\(a\+\)\+\$\//);
    unmount();
  });

  it('keeps the frame height and width with CJK, emoji and combining marks, truncated or wrapped', async () => {
    const store = logsStore();
    const { lastFrame, stdin, unmount } = renderConsole(store);
    const base = recorded('journal-merged.jsonl')[0]!;
    const wide = ['日本語のログ行です'.repeat(12), '😀👍🏽🇯🇵 emoji '.repeat(15), 'e\u0301 combining '.repeat(20), 'ｱｲｳ half ＡＢＣ full 한국어 '.repeat(8)];
    store.getState().logSession.ingest(Array.from({ length: 30 }, (_, i) => ({ ...base, message: `${i} ${wide[i % wide.length]!}` })));
    // Wrapped by string length, the rows of this line were twice as wide as the pane and the
    // part with MID was cut off.
    store.getState().logSession.ingest([{ ...base, message: '日'.repeat(60) + 'MID' + '本'.repeat(60) }]);
    await settle();
    const check = () => {
      const lines = lastFrame()!.split('\n');
      // The frame is one line shorter than the terminal (24 rows in ink-testing-library), and no
      // line is wider than it (100 columns).
      expect(lines).toHaveLength(23);
      for (const line of lines) expect(stringWidth(line)).toBeLessThanOrEqual(100);
      return lines;
    };
    expect(check().join('\n')).toMatch(/日本語のログ行です日本語/);
    stdin.write('w');
    await settle();
    expect(store.getState().logs.wrap).toBe(true);
    const wrapped = check().join('\n');
    expect(wrapped).toMatch(/日MID本/);
    expect(wrapped).toMatch(/😀👍🏽🇯🇵/);
    unmount();
  });

  it('shows how far a long re-filter got, and clears it when done', async () => {
    const store = logsStore(60_000);
    const { lastFrame, stdin, unmount } = renderConsole(store);
    const base = recorded('journal-merged.jsonl')[0]!;
    store.getState().logSession.ingest(Array.from({ length: 50_000 }, (_, i) => ({ ...base, message: `request ${i} ${i % 3 === 0 ? 'failed' : 'done'} ${'x'.repeat(i % 10 === 0 ? 3000 : 10)}` })));
    await settle();
    const seen: string[] = [];
    const unsubscribe = store.subscribe((state) => {
      if (state.logs.work) seen.push(`${state.logs.work.task} ${state.logs.work.percent}`);
    });
    await submitPrompt(store, stdin, '-', 'failed');
    unsubscribe();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((s) => /^filter \d+$/.test(s))).toBe(true);
    expect(store.getState().logs.work).toBeNull();
    expect(store.getState().logs.length).toBe(50_000 - Math.ceil(50_000 / 3));
    expect(lastFrame()).not.toMatch(/filtering…/);
    // What the pane says while it works.
    store.setState({ logs: { ...store.getState().logs, work: { task: 'filter', percent: 40 } } });
    await settle();
    expect(lastFrame()).toMatch(/filtering… 40%/);
    store.setState({ logs: { ...store.getState().logs, work: { task: 'count', percent: 7 }, search: 'x', matchCount: null } });
    await settle();
    expect(lastFrame()).toMatch(/counting matches… 7% .*search \/x\/: counting…/);
    unmount();
  });

  it('explains a bad regular expression instead of failing', async () => {
    const store = logsStore();
    const { lastFrame, stdin, unmount } = renderConsole(store);
    stdin.write('+');
    stdin.write('(unclosed');
    stdin.write('\r');
    await settle();
    expect(lastFrame()).toMatch(/invalid regular expression for include filter/);
    expect(store.getState().logs.include).toBe('');
    unmount();
  });
});

describe('the log viewport', () => {
  const entries = recorded('journal-merged.jsonl');
  const session = { length: entries.length, at: (i: number) => entries[i] };

  it('shows the newest lines when following and keeps the pane full when paused near the end', () => {
    const following = visibleEntries(session, { follow: true, top: 0, wrap: false, match: -1 }, 3, 80);
    expect(following.map((v) => v.index)).toEqual([entries.length - 3, entries.length - 2, entries.length - 1]);
    const paused = visibleEntries(session, { follow: false, top: entries.length - 1, wrap: false, match: -1 }, 3, 80);
    expect(paused).toHaveLength(3);
  });

  it('wraps long lines into several rows on request', () => {
    const long = [{ ...entries[0]!, message: 'x'.repeat(25) }];
    const one = { length: 1, at: () => long[0] };
    expect(visibleEntries(one, { follow: true, top: 0, wrap: false, match: -1 }, 5, 10)[0]!.rows).toHaveLength(1);
    expect(visibleEntries(one, { follow: true, top: 0, wrap: true, match: -1 }, 5, 10)[0]!.rows).toEqual(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
  });

  // Pieces that trip a length-based cut: wide (CJK, fullwidth, emoji, flags, skin tones), zero
  // width (combining marks), surrogate pairs, halfwidth forms, and plain ASCII.
  const piece = fc.oneof(
    fc.constantFrom('a', ' ', 'x y', '日', '本語', 'Ａ', 'ｱ', '한', '😀', '👍🏽', '🇯🇵', 'e\u0301', '\u0301', '✓', '—', '…', '𝒳'),
    fc.string({ unit: 'grapheme', maxLength: 8 }),
  );
  const message = fc.array(piece, { maxLength: 60 }).map((parts) => parts.join(''));
  const graphemes = (text: string) => [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text)].map((s) => s.segment);

  it('never makes a row wider than the message width in cells, nor splits a character (property)', () => {
    fc.assert(
      fc.property(message, fc.integer({ min: 1, max: 40 }), fc.boolean(), (text, width, wrap) => {
        const one = { length: 1, at: () => ({ ...entries[0]!, message: text }) };
        const [shown] = visibleEntries(one, { follow: true, top: 0, wrap, match: -1 }, 500, width);
        for (const row of shown!.rows) {
          expect(stringWidth(row)).toBeLessThanOrEqual(width);
          // Every row is whole graphemes: its graphemes are the message's own.
          if (text !== '') for (const g of graphemes(row)) expect(g === '…' || g === '?' || text.includes(g)).toBe(true);
        }
        if (text === '') return;
        if (wrap && width >= Math.max(...graphemes(text).map((g) => stringWidth(g)))) {
          // Wrapped (wide enough for its widest character), nothing is lost or reordered, and
          // rows break only between graphemes.
          expect(shown!.rows.join('')).toBe(text);
          expect(shown!.rows.flatMap(graphemes)).toEqual(graphemes(text));
        } else if (!wrap && stringWidth(text) <= width) {
          expect(shown!.rows).toEqual([text]);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('fills each wrapped row: only the last may be short by more than one cell', () => {
    const text = '日本語'.repeat(10) + 'abc' + '😀'.repeat(5);
    const one = { length: 1, at: () => ({ ...entries[0]!, message: text }) };
    const rows = visibleEntries(one, { follow: true, top: 0, wrap: true, match: -1 }, 50, 7)[0]!.rows;
    expect(rows.slice(0, -1).every((r) => stringWidth(r) >= 6)).toBe(true);
    expect(visibleEntries(one, { follow: true, top: 0, wrap: false, match: -1 }, 50, 7)[0]!.rows).toEqual(['日本語…']);
  });
});
