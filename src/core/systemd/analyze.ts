// systemd-analyze, asked what only systemd can say: how often a calendar expression (OnCalendar=)
// fires, and what `verify` finds wrong in a unit file. Times are asked in UTC (TZ=UTC0) so they
// parse exactly.
import path from 'node:path';
import type { Host, RunOptions } from '../host/host.js';
import { sanitizeLine } from '../text/sanitize.js';
import { redactSecretsIn } from './secret-env.js';

const ITERATIONS = 8;
const ELAPSE = /^\s*(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC\s*$/;

export function calendarArgv(specs: readonly string[]): string[] {
  return ['env', 'TZ=UTC0', 'systemd-analyze', 'calendar', `--iterations=${ITERATIONS}`, '--', ...specs];
}

/** The longest gap, in seconds, between the next runs of `spec` (its interval; a weekday-only one counts its weekend). */
export function parseCalendarInterval(stdout: string): number | null {
  const times = stdout
    .split('\n')
    .map((line) => ELAPSE.exec(line)?.[1])
    .filter((t): t is string => t !== undefined)
    .map((t) => Date.parse(`${t.replace(' ', 'T')}Z`));
  if (times.length < 2) return null;
  let longest = 0;
  for (let i = 1; i < times.length; i++) longest = Math.max(longest, (times[i]! - times[i - 1]!) / 1000);
  return longest > 0 ? longest : null;
}

/**
 * Each expression's interval from one answer: a block per expression, in their order, a blank
 * line before every block but the first; the block of an expression it cannot parse is empty.
 */
export function parseCalendarIntervals(stdout: string, specs: readonly string[]): Map<string, number | null> {
  const blocks: string[][] = [[]];
  for (const line of stdout.replace(/\n$/, '').split('\n')) {
    if (line === '') blocks.push([]);
    else blocks.at(-1)!.push(line);
  }
  return new Map(specs.map((spec, i) => [spec, parseCalendarInterval((blocks[i] ?? []).join('\n'))]));
}

export async function calendarIntervals(host: Host, specs: readonly string[], options: RunOptions = {}): Promise<Map<string, number | null>> {
  const { stdout } = await host.run(calendarArgv(specs), { okExitCodes: [0, 1], ...options });
  return parseCalendarIntervals(stdout, specs);
}

/**
 * `systemd-analyze verify` of units by name, their own files' directories searched first (a unit
 * path of its own, as the lab's, is found too; the defaults follow: the trailing ":"), so their
 * drop-ins count.
 */
export function verifyArgv(units: ReadonlyArray<{ name: string; fragmentPath: string }>): string[] {
  const dirs = [...new Set(units.filter((u) => u.fragmentPath).map((u) => path.posix.dirname(u.fragmentPath)))];
  // --man=no: verify would run man for every Documentation=man: entry, and complain where the pages are not installed.
  return ['env', ...(dirs.length > 0 ? [`SYSTEMD_UNIT_PATH=${dirs.join(':')}:`] : []), 'systemd-analyze', 'verify', '--man=no', '--', ...units.map((u) => u.name)];
}

/**
 * What verify says of the unit itself: lines naming it or one of its files. Loading it loads its
 * dependencies too, whose own complaints (a distribution's units) are not this unit's problem.
 */
export function verifyComplaints(stderr: string, unit: string, files: readonly string[]): string[] {
  const mine = [unit, ...files.filter(Boolean)];
  return stderr
    .split('\n')
    .map((line) => sanitizeLine(line).trim())
    .filter((line) => line !== '' && mine.some((m) => line.startsWith(`${m}:`) || line.startsWith(`${m} `)))
    // A complaint may quote the line it could not parse: an Environment= secret with it.
    .map(redactSecretsIn);
}

/** Each unit's complaints, in one command. */
export async function verifyUnits(host: Host, units: ReadonlyArray<{ name: string; fragmentPath: string; dropInPaths: readonly string[] }>, options: RunOptions = {}): Promise<Map<string, string[]>> {
  const { stderr } = await host.run(verifyArgv(units), { okExitCodes: [0, 1], ...options });
  return new Map(units.map((u) => [u.name, verifyComplaints(stderr, u.name, [u.fragmentPath, ...u.dropInPaths])]));
}
