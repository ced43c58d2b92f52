// Looking at processes through /proc, for tests and benchmarks that check what runs.
import { readFileSync, readdirSync } from 'node:fs';

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The command line of a PID, NULs as spaces ('' once it is gone). */
export function cmdline(pid: number): string {
  return read(`/proc/${pid}/cmdline`).replace(/\0/g, ' ');
}

/** Direct children of a PID (of all its threads). */
export function childrenOf(pid: number): number[] {
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tasks.flatMap((task) => read(`/proc/${pid}/task/${task}/children`).trim().split(/\s+/).filter(Boolean).map(Number));
}

/** Every descendant of a PID. */
export function descendants(pid: number): number[] {
  return childrenOf(pid).flatMap((child) => [child, ...descendants(child)]);
}
