// User patterns (log filters, search, config fields): RE2 semantics in linear time, journalctl's
// smart case, errors that say what to write instead, and match ranges for highlighting.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/text/errors.js';
import { MAX_PATTERN_SIZE, compilePattern } from '../../src/core/text/pattern.js';

describe('user patterns', () => {
  it('is case-insensitive when all lower case, like journalctl --grep', () => {
    expect(compilePattern('timeout', '--grep').test('Upstream TIMEOUT')).toBe(true);
    expect(compilePattern('Timeout', '--grep').test('upstream timeout')).toBe(false);
    expect(compilePattern('\\Stimeout', '--grep').test('xTIMEOUT')).toBe(true);
    expect(compilePattern('timeout', '--grep').ignoreCase).toBe(true);
    expect(compilePattern('(?i)Timeout', '--grep').test('TIMEOUT')).toBe(true);
  });

  it('can be asked to be case-sensitive (a config field)', () => {
    expect(compilePattern('^v', 'expect.version', { smartCase: false }).test('V2')).toBe(false);
    expect(compilePattern('^v', 'expect.version').test('V2')).toBe(true);
  });

  it('matches hostile patterns in linear time: (a+)+$ against a long line answers at once', () => {
    const line = 'a'.repeat(100_000) + '!';
    expect(compilePattern('(a+)+$', '--grep').test(line)).toBe(false);
    expect(compilePattern('(x+x+)+y', '--grep').test('x'.repeat(65_536))).toBe(false);
    expect(compilePattern('^(\\w+\\s?)*$', '--grep').test('word '.repeat(10_000) + '!')).toBe(false);
    expect(compilePattern('(a|aa)+$', '--grep').ranges('a'.repeat(50_000) + 'b')).toEqual([]);
  });

  it.each([
    ['error(', /invalid regular expression for --grep: missing closing \) at `error\(`/],
    ['[a-', /invalid regular expression for --grep: missing closing \]/],
    ['(a)\\1', /backreferences are not supported/],
    ['x(?=y)', /lookaround is not supported/],
    ['(?<!y)x', /lookaround is not supported/],
    ['a**', /invalid nested repetition operator/],
  ])('refuses %j with what is wrong and the syntax to use', (pattern, message) => {
    let error: unknown;
    try {
      compilePattern(pattern, '--grep');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(message);
    expect((error as UsageError).hint).toMatch(/RE2 syntax.*no backreferences/);
  });

  it('refuses a pattern whose compiled size would make every line slow, naming the option', () => {
    expect(() => compilePattern('(?:[a-j]{1,1000})+Z', 'include filter')).toThrow(new RegExp(`regular expression for include filter is too complex \\(compiled size \\d+, at most ${MAX_PATTERN_SIZE}\\)`));
    expect(() => compilePattern('[a-z]{1,100}x', 'include filter')).not.toThrow();
  });

  it('gives match ranges as UTF-16 indices, left to right, without empty matches', () => {
    const p = compilePattern('b', 'search');
    const text = 'ab😀b日本b';
    expect(p.ranges(text).map(([s, e]) => text.slice(s, e))).toEqual(['b', 'b', 'b']);
    expect(p.ranges(text)).toEqual([[1, 2], [4, 5], [7, 8]]);
    expect(compilePattern('😀.', 'search').ranges(text)).toEqual([[2, 5]]);
    expect(compilePattern('x*', 'search').ranges('axxb')).toEqual([[1, 3]]);
    expect(compilePattern('b', 'search').ranges('bbbb', 2)).toEqual([[0, 1], [1, 2]]);
    expect(compilePattern('b', 'search').ranges('')).toEqual([]);
  });
});
