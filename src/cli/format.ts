// Human output for the CLI: aligned tables readable without colour, coloured on a TTY
// (chalk follows NO_COLOR/FORCE_COLOR, set up by bin/opsdeck.js), marks that survive no colour.
import chalk from 'chalk';
import stringWidth from 'string-width';

export const paint = {
  bad: (s: string) => chalk.red.bold(s),
  warn: (s: string) => chalk.yellow(s),
  good: (s: string) => chalk.green(s),
  dim: (s: string) => chalk.dim(s),
  head: (s: string) => chalk.bold(s),
  prod: (s: string) => chalk.bgRed.white.bold(s),
};

export const MARK = { critical: '✗', warning: '!', ok: '✓' } as const;

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
