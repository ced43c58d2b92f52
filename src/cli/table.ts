// Aligned tables for the CLI, readable without colour (widths measured as the terminal shows
// them: wide and combining characters, colour codes).
import stringWidth from 'string-width';
import { paint } from './format.js';

export function table(header: string[], rows: string[][], gap = 2): string {
  const widths = header.map((h, i) => Math.max(stringWidth(h), ...rows.map((r) => stringWidth(r[i] ?? ''))));
  const line = (cells: string[], style: (s: string) => string = (s) => s) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat(Math.max(0, widths[i]! - stringWidth(cell)))))
      .map((cell, i) => (i === 0 ? style(cell) : cell))
      .join(' '.repeat(gap))
      .trimEnd();
  return [line(header.map((h) => paint.head(h))), ...rows.map((r) => line(r))].join('\n');
}
