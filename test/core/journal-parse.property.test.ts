// journalctl -o json as a hostile unit could make it: any message text or bytes, split into
// chunks anywhere. The parser never crashes, never shows a control character, never makes an
// entry that was not a line, and finds the same entries however the stream is cut.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JournalStreamParser, type LogEntry } from '../../src/core/journal/parse.js';

const UNSAFE = /[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/;

/** One journal entry as journalctl prints it: MESSAGE a string, or bytes when not printable UTF-8. */
const entry = fc.record({
  cursor: fc.stringMatching(/^s=[0-9a-f]{8};i=[0-9a-f]{1,6}$/),
  time: fc.integer({ min: 0, max: 4_102_444_800_000_000 }),
  priority: fc.option(fc.integer({ min: 0, max: 7 }), { nil: undefined }),
  unit: fc.stringMatching(/^[a-z][a-z0-9-]{0,10}\.service$/),
  message: fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), fc.uint8Array({ maxLength: 80 }).map((b) => [...b])),
});
type Raw = typeof entry extends fc.Arbitrary<infer T> ? T : never;

const line = (e: Raw) =>
  JSON.stringify({ __CURSOR: e.cursor, __REALTIME_TIMESTAMP: String(e.time), ...(e.priority !== undefined ? { PRIORITY: String(e.priority) } : {}), _SYSTEMD_UNIT: e.unit, MESSAGE: e.message }) + '\n';

function parse(bytes: Buffer, cuts: number[]): LogEntry[] {
  const parser = new JournalStreamParser();
  const out: LogEntry[] = [];
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    parser.push(bytes.subarray(at, Math.max(at, cut)), out);
    at = Math.max(at, cut);
  }
  parser.push(bytes.subarray(at), out);
  parser.end(out);
  return out;
}

describe('journal JSON parsing (property-based)', () => {
  it('one safe entry per line, the same however the stream is cut', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 6 }), (entries, cuts) => {
        const bytes = Buffer.from(entries.map(line).join(''));
        const whole = parse(bytes, []);
        const cut = parse(bytes, cuts.map((c) => c % (bytes.length + 1)));
        expect(cut).toEqual(whole);
        expect(whole.map((e) => e.cursor)).toEqual(entries.map((e) => e.cursor));
        for (const e of whole) {
          expect(e.message).not.toMatch(UNSAFE);
          expect(e.unit).not.toMatch(UNSAFE);
        }
      }),
    );
  });

  it('never crashes on arbitrary bytes, and never makes more entries than lines', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (junk) => {
        const entries = parse(Buffer.from(junk), []);
        expect(entries.length).toBeLessThanOrEqual(Buffer.from(junk).toString('latin1').split('\n').length);
        for (const e of entries) expect(e.message).not.toMatch(UNSAFE);
      }),
    );
  });
});
