// Which log entries fill the logs pane, and how each is laid out: pure functions over the
// session, so following, pausing and wrapping are tested without rendering.
import type { LogEntry } from '../../src/core/journal/read.js';
import type { Pattern } from '../../src/core/text/pattern.js';
import type { LogSession } from '../../src/store/log-session.js';
import type { LogsState } from '../../src/store/types.js';
import { truncateCells, wrapCells } from '../widgets/cells.js';

export interface VisibleEntry {
  index: number;
  entry: LogEntry;
  /** The message cut into rows of at most the message width in cells: one (truncated) row, or several when wrapping. */
  rows: string[];
}

export function formatTime(timeUs: number, mode: LogsState['timeMode'], now = Date.now()): string {
  const ms = timeUs / 1000;
  if (mode === 'relative') {
    const s = Math.max(0, (now - ms) / 1000);
    const text = s < 60 ? `${s.toFixed(1)}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
    return `-${text}`.padStart(12);
  }
  const d = new Date(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

function text(entry: LogEntry): string {
  return entry.truncated ? `${entry.message} [cut: the message had ${entry.truncated} characters]` : entry.message;
}

/** A wrapped message shows at most this many rows. */
const MAX_ROWS = 200;

/** Rows of at most `width` terminal cells (a CJK character or an emoji takes two), cut between graphemes. */
function cut(message: string, width: number, wrap: boolean): string[] {
  const text = message.length === 0 ? '(empty message)' : message;
  return wrap ? wrapCells(text, width, MAX_ROWS) : [truncateCells(text, width)];
}

/** The entries that fill `height` rows: the newest when following, else from `top`. */
export function visibleEntries(session: Pick<LogSession, 'length' | 'at'>, logs: Pick<LogsState, 'follow' | 'top' | 'wrap' | 'match'>, height: number, messageWidth: number): VisibleEntry[] {
  const out: VisibleEntry[] = [];
  const n = session.length;
  if (n === 0 || height <= 0) return out;
  let used = 0;
  if (logs.follow) {
    for (let i = n - 1; i >= 0 && used < height; i--) {
      const entry = session.at(i)!;
      const rows = cut(text(entry), messageWidth, logs.wrap);
      const take = rows.slice(Math.max(0, rows.length - (height - used)));
      out.unshift({ index: i, entry, rows: take });
      used += take.length;
    }
    return out;
  }
  // Paused near the end, the view still fills the pane.
  for (let i = Math.max(0, Math.min(logs.top, n - height)); i < n && used < height; i++) {
    const entry = session.at(i)!;
    // The current search match is shown whole, so the highlight is never cut off.
    const rows = cut(text(entry), messageWidth, logs.wrap || i === logs.match).slice(0, height - used);
    out.push({ index: i, entry, rows });
    used += rows.length;
  }
  return out;
}

/** Split a row around search matches, for highlighting. */
export function highlight(row: string, pattern: Pick<Pattern, 'ranges'> | null): Array<{ text: string; match: boolean }> {
  if (!pattern || row.length === 0) return [{ text: row, match: false }];
  const parts: Array<{ text: string; match: boolean }> = [];
  let last = 0;
  for (const [start, end] of pattern.ranges(row)) {
    if (start > last) parts.push({ text: row.slice(last, start), match: false });
    parts.push({ text: row.slice(start, end), match: true });
    last = end;
  }
  if (last < row.length) parts.push({ text: row.slice(last), match: false });
  return parts.length > 0 ? parts : [{ text: row, match: false }];
}
