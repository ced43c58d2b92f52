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

/** --json output: pretty, one document, and a Map as the object it stands for (JSON.stringify alone prints "{}"). */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_key, v: unknown) => (v instanceof Map ? Object.fromEntries(v) : v), 2) + '\n');
}
