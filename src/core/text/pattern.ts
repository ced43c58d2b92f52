// Regular expressions a user typed (log filters and search, config fields), matched in time
// linear in the text: RE2 semantics through re2js (pure JavaScript), never V8's backtracking
// RegExp, on which `(a+)+$` against a long line runs for minutes with signals unanswered.
// A pattern's cost per character grows with its compiled size, so that is capped too.
//
// re2js (~260 KB) is loaded on the first compile, not at start-up: the console and most verbs
// never compile a pattern. In the bundle `require` is the script's own (esbuild bundles the
// module behind it, evaluated on first call); from the ES module sources (tests, tsx) it is
// made with createRequire.
import { createRequire } from 'node:module';
import { UsageError } from './errors.js';

type Re2Module = typeof import('re2js');
type Re2 = InstanceType<Re2Module['RE2JS']>;

declare const require: NodeJS.Require | undefined;

let engine: Re2Module | undefined;

function re2(): Re2Module {
  engine ??= (typeof require === 'function' ? require('re2js') : createRequire(import.meta.url)('re2js')) as Re2Module;
  return engine;
}

/**
 * Compiled size above which a pattern is refused: past it, one 64K log line can take tenths of
 * a second (measured: size ~900, up to 75 ms; size 2,000, 470 ms). Ordinary patterns are far
 * below (`request \d+ (done|failed)`: 26).
 */
export const MAX_PATTERN_SIZE = 1000;

/** What a user needs to know to write a pattern opsdeck takes. */
const PATTERN_SYNTAX = 'RE2 syntax (as Go\'s regexp): no backreferences such as \\1, no lookaround such as (?= or (?<=';

export interface Pattern {
  /** The pattern as typed. */
  readonly source: string;
  /** Smart case made it case-insensitive (the pattern may still say (?i) itself). */
  readonly ignoreCase: boolean;
  /** Whether the pattern matches anywhere in `text`. */
  test(text: string): boolean;
  /**
   * Where it matches in `text`, left to right, as [start, end) UTF-16 indices (what
   * String.slice takes); empty matches are left out. At most `limit` ranges.
   */
  ranges(text: string, limit?: number): Array<[number, number]>;
}

export interface PatternOptions {
  /**
   * journalctl's "smart case" (default true): a pattern with no upper-case letter (escapes such
   * as \S aside) matches case-insensitively; any upper-case letter makes it case-sensitive.
   * False: case-sensitive unless the pattern says (?i).
   */
  smartCase?: boolean;
}

/**
 * Compile a user's pattern. `option` names where it came from ("--grep", "search") for the
 * error, a UsageError saying what is wrong and how to write it instead; null when the caller
 * says where itself (a config field, by file, line and column).
 */
export function compilePattern(pattern: string, option: string | null, options: PatternOptions = {}): Pattern {
  const { RE2JS } = re2();
  const ignoreCase = isCaseInsensitive(pattern, options);
  const from = option === null ? '' : ` for ${option}`;
  let re: Re2;
  try {
    re = RE2JS.compile(pattern, ignoreCase ? RE2JS.CASE_INSENSITIVE : 0);
  } catch (error) {
    throw new UsageError(`invalid regular expression${from}: ${describeSyntaxError(error, pattern)}`, `${PATTERN_SYNTAX}; escape special characters such as ( [ . * + ? with a backslash, and quote the pattern for the shell`);
  }
  const size = re.programSize();
  if (size > MAX_PATTERN_SIZE) {
    throw new UsageError(
      `regular expression${from} is too complex (compiled size ${size}, at most ${MAX_PATTERN_SIZE})`,
      'use smaller repetition counts (e.g. {1,50} rather than {1,1000}) or fewer alternatives',
    );
  }
  return new Re2Pattern(pattern, ignoreCase, re);
}

function isCaseInsensitive(pattern: string, options: PatternOptions): boolean {
  return (options.smartCase ?? true) && !/[A-Z]/.test(pattern.replace(/\\./g, ''));
}

/** How many compiled patterns sharedPattern keeps; past it, the oldest is dropped. */
const SHARED_PATTERNS = 64;
const sharedPatterns = new Map<string, Pattern>();

/**
 * compilePattern, compiled once per source and flags and kept: for a pattern that stays the
 * same (a config field), so checking it at load also serves every later match.
 */
export function sharedPattern(pattern: string, option: string | null, options: PatternOptions = {}): Pattern {
  const key = `${isCaseInsensitive(pattern, options) ? 'i' : '-'}${pattern}`;
  let compiled = sharedPatterns.get(key);
  if (!compiled) {
    compiled = compilePattern(pattern, option, options);
    if (sharedPatterns.size >= SHARED_PATTERNS) sharedPatterns.delete(sharedPatterns.keys().next().value!);
    sharedPatterns.set(key, compiled);
  }
  return compiled;
}

class Re2Pattern implements Pattern {
  constructor(
    readonly source: string,
    readonly ignoreCase: boolean,
    private readonly re: Re2,
  ) {}

  test(text: string): boolean {
    return this.re.test(text);
  }

  ranges(text: string, limit = Infinity): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    if (text.length === 0) return out;
    const m = this.re.matcher(text);
    while (out.length < limit && m.find()) {
      const start = m.start();
      const end = m.end();
      if (end > start) out.push([start, end]);
    }
    return out;
  }
}

function describeSyntaxError(error: unknown, pattern: string): string {
  const { RE2JSSyntaxException } = re2();
  if (error instanceof RE2JSSyntaxException) {
    const what = error.getDescription();
    let where = error.getPattern();
    // The engine quotes the pattern with the (?i) it was given for smart case: show what was typed.
    if (where?.startsWith('(?i)') && !pattern.includes(where) && pattern.includes(where.slice(4))) where = where.slice(4);
    const lookaround = /^invalid or unsupported Perl syntax$|^invalid named capture$/.test(what) && where !== null && /^\(\?<?[=!]/.test(where);
    const backreference = what === 'invalid escape sequence' && where !== null && /^\\[1-9]/.test(where);
    const note = lookaround ? ' (lookaround is not supported)' : backreference ? ' (backreferences are not supported)' : '';
    return `${what}${where !== null ? ` at \`${where}\`` : ''}${note}`;
  }
  return error instanceof Error ? error.message : String(error);
}
