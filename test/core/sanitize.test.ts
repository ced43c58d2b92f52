import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sanitizeBlock, sanitizeLine } from '../../src/core/text/sanitize.js';

describe('untrusted text', () => {
  it.each([
    ['window title (OSC 0, BEL)', 'a\x1b]0;pwned\x07b', 'ab'],
    ['window title (OSC 2, ST)', 'a\x1b]2;pwned\x1b\\b', 'ab'],
    ['hyperlink', '\x1b]8;;http://evil/\x1b\\click\x1b]8;;\x1b\\', 'click'],
    ['clipboard write (OSC 52)', 'x\x1b]52;c;cm0gLXJmIC8=\x07y', 'xy'],
    ['screen clear and cursor moves', '\x1b[2J\x1b[H\x1b[10;5Hhi\x1b[?25l', 'hi'],
    ['colours', '\x1b[31mred\x1b[0m', 'red'],
    ['8-bit CSI', 'a\x9b2Jb', 'ab'],
    ['DCS', 'a\x1bPq#0;2;0;0;0\x1b\\b', 'ab'],
    ['C0 controls and DEL', 'a\x00b\x07c\x08d\x7f', 'abcd'],
    ['bidi override', 'abc\u202edcba', 'abcdcba'],
    ['zero-width', 'a\u200bb\ufeff', 'ab'],
    ['Hangul fillers (blank glyphs of ambiguous width)', 'a\u3164b\u115fc\u1160d\uffa0e', 'abcde'],
    ['carriage return', 'progress 10%\rprogress 99%', 'progress 10% progress 99%'],
    ['tabs', 'a\tb', 'a    b'],
  ])('strips %s', (_name, input, expected) => {
    expect(sanitizeLine(input)).toBe(expected);
  });

  it('keeps ordinary text, including non-ASCII', () => {
    expect(sanitizeLine('Größe: 5 MB — ok ✓ 日本 한국어 ㄱ ﾡ')).toBe('Größe: 5 MB — ok ✓ 日本 한국어 ㄱ ﾡ');
  });

  it('keeps newlines in blocks', () => {
    expect(sanitizeBlock('[Unit]\n\x1b[1mDescription=x\n')).toBe('[Unit]\nDescription=x\n');
  });
});

describe('untrusted text, any text (property-based)', () => {
  // Anything that could drive a terminal: C0 (tab and newline included, in a line), DEL, C1,
  // bidi embeddings/overrides/isolates, zero-width and BOM, the invisible Hangul fillers.
  const UNSAFE_IN_LINE = /[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\u115f\u1160\u3164\uffa0]/;
  const UNSAFE_IN_BLOCK = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\u115f\u1160\u3164\uffa0]/;
  // Text from a terminal's point of view: escape sequences, controls and plain text mixed.
  const hostile = fc.array(
    fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.constantFrom('\x1b', '\x1b[', '\x1b]', '\x07', '\x1b\\', '\x9b', '\x9d', '\x90', '\r', '\n', '\t', '\u202e', '\u200b', '\u3164'),
      fc.stringMatching(/^\x1b\[[0-9;?]{0,8}[ -/]{0,2}[@-~]$/),
      fc.stringMatching(/^\x1b\][0-9]{1,3};[ -~]{0,20}(\x07|\x1b\\)$/),
    ),
    { maxLength: 12 },
  ).map((parts) => parts.join(''));

  it('never lets an escape sequence or a control character through, and never throws', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        expect(sanitizeLine(text)).not.toMatch(UNSAFE_IN_LINE);
        expect(sanitizeBlock(text)).not.toMatch(UNSAFE_IN_BLOCK);
      }),
      { numRuns: 2000 },
    );
  });

  it('is stable: cleaning clean text changes nothing', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        const once = sanitizeLine(text);
        expect(sanitizeLine(once)).toBe(once);
      }),
    );
  });

  it('leaves printable text as it is', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }).filter((s) => !UNSAFE_IN_LINE.test(s)), (text) => {
        expect(sanitizeLine(text)).toBe(text);
      }),
    );
  });
});
