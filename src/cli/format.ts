// Human output for the CLI: coloured on a TTY (chalk follows NO_COLOR/FORCE_COLOR, set up by
// bin/opsdeck.js), with marks that survive no colour. Aligned tables: table.ts.
import chalk from 'chalk';

export const paint = {
  bad: (s: string) => chalk.red.bold(s),
  warn: (s: string) => chalk.yellow(s),
  good: (s: string) => chalk.green(s),
  dim: (s: string) => chalk.dim(s),
  head: (s: string) => chalk.bold(s),
  prod: (s: string) => chalk.bgRed.white.bold(s),
};

export const MARK = { critical: '✗', warning: '!', ok: '✓', running: '▸' } as const;
