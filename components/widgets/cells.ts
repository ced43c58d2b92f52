// Cutting text by terminal cells, not by string length: a CJK character or an emoji takes two
// cells, a combining mark none, and an emoji may be two UTF-16 units or several code points.
// Rows are cut between graphemes (what a reader sees as one character), never inside one, so a
// surrogate pair or a flag is never split and no row is wider than asked.
import stringWidth from 'string-width';

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
/** Printable ASCII: one cell per character, the common case, measured without segmenting. */
const PLAIN = /^[\x20-\x7e]*$/;
/** Stands for a grapheme wider than the whole row (only when the row is a single cell). */
const TOO_WIDE = '?';

/** How many cells `text` takes in a terminal. */
export function cellWidth(text: string): number {
  return PLAIN.test(text) ? text.length : stringWidth(text);
}

/**
 * The next row of at most `width` cells from `text` at UTF-16 index `from`: the row, and the
 * index where the next one starts.
 */
function row(text: string, from: number, width: number): { row: string; next: number } {
  const plain = text.slice(from, from + width);
  // A row of plain ASCII, when what follows is ASCII too (anything else, a combining mark
  // say, might belong to the row's last character).
  if (PLAIN.test(plain)) {
    const end = from + plain.length;
    if (end >= text.length || text.charCodeAt(end) < 0x7f) return { row: plain, next: end };
  }
  let out = '';
  let used = 0;
  let next = from;
  for (const { segment } of graphemes.segment(text.slice(from))) {
    const w = cellWidth(segment);
    if (used + w > width) {
      if (used === 0) return { row: TOO_WIDE.slice(0, width), next: next + segment.length };
      break;
    }
    out += segment;
    used += w;
    next += segment.length;
  }
  return { row: out, next };
}

/** `text` in rows of at most `width` cells (at least one row), at most `maxRows` rows. */
export function wrapCells(text: string, width: number, maxRows = Infinity): string[] {
  const w = Math.max(1, Math.floor(width));
  const rows: string[] = [];
  let at = 0;
  while (at < text.length && rows.length < maxRows) {
    const next = row(text, at, w);
    rows.push(next.row);
    at = next.next;
  }
  return rows.length > 0 ? rows : [''];
}

/** `text` in at most `width` cells, ending with … when cut. */
export function truncateCells(text: string, width: number): string {
  const w = Math.max(1, Math.floor(width));
  if (text.length <= w && cellWidth(text) <= w) return text;
  const first = row(text, 0, w);
  if (first.next >= text.length) return first.row;
  return row(text, 0, w - 1).row + '…';
}
