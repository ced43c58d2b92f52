// Text made into rows before React sees it: a line with its tone (never a colour: the view
// turns tones into the theme's colours), words wrapped by terminal cells, and a window of rows
// that says what is below it. Panes that show evidence (backups, the doctor) build their text
// from these and draw it with Lines.tsx, so a long text never grows a pane past its height.
import { cellWidth, wrapCells } from './cells.js';

export type Tone = 'ok' | 'warn' | 'error' | 'muted' | 'accent' | 'plain';

export interface Line {
  text: string;
  tone: Tone;
  bold?: boolean;
  /** Said after the text, muted (where a piece of evidence came from). */
  tail?: string;
}

/** `text` in rows of at most `width` cells, broken between words (a word longer than a row is cut). */
export function wrapWords(text: string, width: number): string[] {
  const rows: string[] = [];
  let row = '';
  for (const word of text.split(' ')) {
    const joined = row === '' ? word : `${row} ${word}`;
    if (cellWidth(joined) <= width) {
      row = joined;
      continue;
    }
    if (row !== '') rows.push(row);
    const pieces = wrapCells(word, width);
    rows.push(...pieces.slice(0, -1));
    row = pieces.at(-1) ?? '';
  }
  if (row !== '' || rows.length === 0) rows.push(row);
  return rows;
}

/** Lines of `text` wrapped to `width`, each indented, in one tone. */
export function wrapped(text: string, width: number, indent: string, tone: Tone, bold = false): Line[] {
  return wrapWords(text, Math.max(10, width - indent.length)).map((row, i) => ({ text: `${i === 0 ? indent : ' '.repeat(indent.length)}${row}`, tone, bold }));
}

/** `height` lines from `top` (kept within what there is), with a last line saying what is below when it does not all fit. */
export function scrolled(lines: readonly Line[], height: number, top: number): Line[] {
  if (height <= 0) return [];
  if (lines.length <= height) return [...lines];
  const start = Math.max(0, Math.min(top, lines.length - height));
  const below = lines.length - start - (height - 1);
  if (below <= 1) return lines.slice(start, start + height);
  return [...lines.slice(start, start + height - 1), { text: `  … ${below} more line${below === 1 ? '' : 's'} (PgDn)${start > 0 ? ' · PgUp: back' : ''}`, tone: 'muted' }];
}
