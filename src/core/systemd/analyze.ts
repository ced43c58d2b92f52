// systemd-analyze, asked what only systemd can say: how often a calendar expression (OnCalendar=)
// fires, and what `verify` finds wrong in a unit file. Times are asked in UTC (TZ=UTC0) so they
// parse exactly.
import path from 'node:path';
import type { Host, RunOptions } from '../host/host.js';
import { sanitizeLine } from '../text/sanitize.js';

const ITERATIONS = 8;
const ELAPSE = /^\s*(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC\s*$/;

export function calendarArgv(spec: string): string[] {
  return ['env', 'TZ=UTC0', 'systemd-analyze', 'calendar', `--iterations=${ITERATIONS}`, '--', spec];
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

export async function calendarInterval(host: Host, spec: string, options: RunOptions = {}): Promise<number | null> {
  return parseCalendarInterval((await host.run(calendarArgv(spec), options)).stdout);
}

/**
 * `systemd-analyze verify` of a unit by name, its own file's directory searched first (a unit
 * path of its own, as the lab's, is found too; the defaults follow: the trailing ":"), so its
 * drop-ins count.
 */
export function verifyArgv(unit: string, fragmentPath: string): string[] {
  const searched = fragmentPath ? [`SYSTEMD_UNIT_PATH=${path.posix.dirname(fragmentPath)}:`] : [];
  return ['env', ...searched, 'systemd-analyze', 'verify', '--', unit];
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
    .filter((line) => line !== '' && mine.some((m) => line.startsWith(`${m}:`) || line.startsWith(`${m} `)));
}

export async function verifyUnit(host: Host, unit: string, fragmentPath: string, dropInPaths: readonly string[], options: RunOptions = {}): Promise<string[]> {
  const { stderr } = await host.run(verifyArgv(unit, fragmentPath), { okExitCodes: [0, 1], ...options });
  return verifyComplaints(stderr, unit, [fragmentPath, ...dropInPaths]);
}
