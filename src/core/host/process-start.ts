// A process's start time (clock ticks since boot, /proc/PID/stat field 22): with its PID, what
// names one process for good (a PID is handed out again; a PID and its start time are not).
import { readFileSync } from 'node:fs';
import type { Host } from './host.js';

/** The start time from a /proc/PID/stat text, or null for a zombie (it has exited) or a text that is not one. */
export function startTimeOf(stat: string): string | null {
  // The name (field 2) is in parentheses and may hold anything: the fields after the last ')'.
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  const rest = stat.slice(close + 2).split(' ');
  return rest[0] === 'Z' ? null : (rest[19] ?? null);
}

/** A process of this machine, or null when it is gone. */
export function localStartTime(pid: number): string | null {
  try {
    return startTimeOf(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** A process of a host, or null when there is no such process. */
export async function processStartTime(host: Host, pid: number): Promise<string | null> {
  const { stdout, exitCode } = await host.run(['cat', '--', `/proc/${pid}/stat`], { okExitCodes: [0, 1] });
  return exitCode === 0 ? startTimeOf(stdout) : null;
}
