// Parsing `journalctl -o json`: one entry per line, split from the byte stream (chunks may
// cut lines and UTF-8 sequences), byte-array messages decoded, every message sanitized.
import { isUtf8 } from 'node:buffer';
import { sanitizeLine } from '../text/sanitize.js';

/** One journal entry, ready to show: `message` is sanitized and safe to print. */
export interface LogEntry {
  cursor: string;
  /** __REALTIME_TIMESTAMP: microseconds since the epoch. */
  timeUs: number;
  /** 0 (emerg) .. 7 (debug); null when the entry has no PRIORITY field. */
  priority: number | null;
  /** The unit the entry is about (for systemd's and journald's own messages: the unit named). */
  unit: string;
  message: string;
  /** MESSAGE was not printable UTF-8 (journald gave bytes); invalid bytes are shown as \xNN. */
  binary: boolean;
  /** Original length in characters when the message was cut to maxMessageChars; else 0. */
  truncated: number;
  /** For journald's "Suppressed N messages from UNIT": N; else 0. */
  suppressed: number;
  /** Who wrote it: the unit's own processes, systemd about the unit ("Started ..."), or journald. */
  origin: 'unit' | 'systemd' | 'journald';
}

/** systemd writes its messages about a unit as init.scope, naming the unit in UNIT=. */
const SYSTEMD_ITSELF = 'init.scope';
const JOURNALD = 'systemd-journald.service';
/** journald's notice when a unit hit its rate limit (the text has been the same since 2012). */
const SUPPRESSED = /^Suppressed (\d+) messages from (\S+)$/;

const NOT_PLAIN = /[^\x20-\x7e]/;

/** Covers journald's default LineMax (48K), so stdout lines are never cut; bigger native entries are. */
export const DEFAULT_MAX_MESSAGE_CHARS = 65_536;
/** A JSON line longer than this is skipped (and reported) rather than held in memory. */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Parsing

export interface ParseOptions {
  maxMessageChars?: number;
  maxLineBytes?: number;
}

type RawValue = string | number[] | Array<string | number[]> | null | undefined;
interface RawEntry {
  __CURSOR?: string;
  __REALTIME_TIMESTAMP?: string;
  MESSAGE?: RawValue;
  PRIORITY?: RawValue;
  _SYSTEMD_UNIT?: RawValue;
  UNIT?: RawValue;
}

/** A field's text. journalctl gives bytes (an array of numbers) for unprintable or non-UTF-8 values, and an array of values for a field set more than once (the first counts, as in journalctl's own output). */
function fieldText(value: RawValue): string | undefined {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) return undefined;
  if (value.length === 0) return '';
  const first = value[0];
  if (typeof first === 'number') return decodeBytes(value as number[]);
  return fieldText(first as RawValue);
}

function isBytes(value: RawValue): boolean {
  return Array.isArray(value) && (value.length === 0 || typeof value[0] === 'number' || (Array.isArray(value[0]) && typeof value[0][0] === 'number'));
}

/** UTF-8 where it is valid; every byte that is not part of a valid sequence becomes "\xNN". */
export function decodeBytes(bytes: readonly number[]): string {
  const buf = Buffer.from(bytes as number[]);
  if (isUtf8(buf)) return buf.toString('utf8');
  let out = '';
  let runStart = 0;
  let i = 0;
  while (i < buf.length) {
    const length = utf8SequenceLength(buf, i);
    if (length > 0) {
      i += length;
      continue;
    }
    out += buf.toString('utf8', runStart, i) + `\\x${buf[i]!.toString(16).padStart(2, '0')}`;
    i++;
    runStart = i;
  }
  return out + buf.toString('utf8', runStart, buf.length);
}

/** Length of the well-formed UTF-8 sequence at `i` (RFC 3629), or 0. */
function utf8SequenceLength(buf: Buffer, i: number): number {
  const b0 = buf[i]!;
  if (b0 < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < buf.length && buf[i + k]! >= lo && buf[i + k]! <= hi;
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const ok1 = b0 === 0xe0 ? cont(1, 0xa0) : b0 === 0xed ? cont(1, 0x80, 0x9f) : cont(1);
    return ok1 && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const ok1 = b0 === 0xf0 ? cont(1, 0x90) : b0 === 0xf4 ? cont(1, 0x80, 0x8f) : cont(1);
    return ok1 && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

function parsePriority(value: RawValue): number | null {
  const text = typeof value === 'string' ? value : fieldText(value);
  if (text === undefined || text.length !== 1) return null;
  const p = text.charCodeAt(0) - 48;
  return p >= 0 && p <= 7 ? p : null;
}

/** Turn one parsed JSON object into an entry, or undefined when it is not a journal entry. */
export function toLogEntry(raw: RawEntry, options: ParseOptions = {}, intern?: Map<string, string>): LogEntry | undefined {
  const cursor = raw.__CURSOR;
  if (typeof cursor !== 'string') return undefined;
  const maxChars = options.maxMessageChars ?? DEFAULT_MAX_MESSAGE_CHARS;
  const rawMessage = raw.MESSAGE;
  let message = typeof rawMessage === 'string' ? rawMessage : (fieldText(rawMessage) ?? '');
  const binary = typeof rawMessage !== 'string' && isBytes(rawMessage);
  let truncated = 0;
  if (message.length > maxChars) {
    truncated = message.length;
    // Never split a surrogate pair.
    let cut = maxChars;
    const code = message.charCodeAt(cut - 1);
    if (code >= 0xd800 && code <= 0xdbff) cut--;
    message = message.slice(0, cut) + '…';
  }
  // Printable ASCII cannot carry an escape or control sequence: skip the full sanitizer.
  if (NOT_PLAIN.test(message)) message = sanitizeLine(message);

  const own = fieldText(raw._SYSTEMD_UNIT);
  const about = own === SYSTEMD_ITSELF ? fieldText(raw.UNIT) : undefined;
  let rawUnit = about ?? own ?? fieldText(raw.UNIT) ?? '';
  let origin: LogEntry['origin'] = about !== undefined ? 'systemd' : 'unit';
  let suppressed = 0;
  if (own === JOURNALD) {
    // Only journald itself can send as systemd-journald.service: a unit cannot forge this.
    const notice = SUPPRESSED.exec(message);
    if (notice) {
      suppressed = Number(notice[1]);
      rawUnit = notice[2]!;
      origin = 'journald';
    }
  }
  // Few distinct units: sanitize each once and share one string among all their entries.
  let unit = intern?.get(rawUnit);
  if (unit === undefined) {
    unit = sanitizeLine(rawUnit);
    if (intern && intern.size < 1024) intern.set(rawUnit, unit);
  }
  return {
    cursor,
    timeUs: Number(raw.__REALTIME_TIMESTAMP ?? 0),
    priority: parsePriority(raw.PRIORITY),
    unit,
    message,
    binary,
    truncated,
    suppressed,
    origin,
  };
}

/** Parse one line of `journalctl -o json` output. */
export function parseJournalLine(line: string, options: ParseOptions = {}, intern?: Map<string, string>): LogEntry | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  return toLogEntry(raw as RawEntry, options, intern);
}

/**
 * Splits journalctl's byte stream into entries. Chunks may end anywhere, even inside a UTF-8
 * sequence: only the part up to the last newline is decoded (a newline byte never occurs
 * inside a multi-byte sequence, and journalctl escapes newlines inside values), the rest waits.
 */
export class JournalStreamParser {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private skipping = false;
  private readonly intern = new Map<string, string>();
  readonly stats = { lines: 0, entries: 0, malformed: 0, oversized: 0, bytes: 0 };

  constructor(private readonly options: ParseOptions = {}) {}

  /** Feed a chunk; complete entries are appended to `out`. */
  push(chunk: Buffer | string, out: LogEntry[]): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.stats.bytes += buf.length;
    let from = 0;
    if (this.pendingBytes > 0 || this.skipping) {
      const first = buf.indexOf(10);
      if (first < 0) {
        this.hold(buf);
        return;
      }
      // Only the line that spans chunks is copied together; the rest is decoded in place.
      if (this.skipping) this.skipping = false;
      else {
        this.pending.push(buf.subarray(0, first));
        this.lines(Buffer.concat(this.pending, this.pendingBytes + first).toString('utf8'), out);
      }
      this.pending = [];
      this.pendingBytes = 0;
      from = first + 1;
    }
    const last = buf.lastIndexOf(10);
    if (last >= from) {
      if (last > from) this.lines(buf.toString('utf8', from, last), out);
      from = last + 1;
    }
    if (from < buf.length) this.hold(from === 0 ? buf : buf.subarray(from));
  }

  /** At the natural end of the stream: a last line without its newline is still an entry. */
  end(out: LogEntry[]): void {
    if (this.pendingBytes > 0 && !this.skipping) this.lines(Buffer.concat(this.pending, this.pendingBytes).toString('utf8'), out);
    this.discard();
  }

  /** Drop a partial line (the process died mid-write; resuming after the cursor re-reads it). */
  discard(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.skipping = false;
  }

  private hold(buf: Buffer): void {
    if (this.skipping) return;
    this.pending.push(buf);
    this.pendingBytes += buf.length;
    if (this.pendingBytes > (this.options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES)) {
      this.stats.oversized++;
      this.pending = [];
      this.pendingBytes = 0;
      this.skipping = true;
    }
  }

  private lines(text: string, out: LogEntry[]): void {
    let start = 0;
    const length = text.length;
    while (start < length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = length;
      if (end > start) {
        this.stats.lines++;
        const entry = parseJournalLine(end === length && start === 0 ? text : text.slice(start, end), this.options, this.intern);
        if (entry) {
          this.stats.entries++;
          out.push(entry);
        } else {
          this.stats.malformed++;
        }
      }
      start = end + 1;
    }
  }
}
