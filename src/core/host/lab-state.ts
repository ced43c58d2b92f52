// The lab's state file (written by `opsdeck lab up`), read by the lab transport to find the
// lab's systemd. Lives in core because a Host must not depend on the lab's boot code.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface LabPorts {
  production: number;
  development: number;
  ssh: number;
}

export interface LabState {
  /** PID of the lab's systemd (PID 1 inside the lab), as seen from this machine. */
  pid: number;
  dir: string;
  scenario: string;
  ports: LabPorts;
  startedAt: string;
  config: string;
}

export const DEFAULT_LAB_DIR = '/var/lib/opsdeck-lab';
export const DEFAULT_PORT_BASE = 3444;

export function labStateFile(dir: string): string {
  return path.join(dir, 'state.json');
}

export function readLabState(dir: string): LabState | undefined {
  try {
    return JSON.parse(readFileSync(labStateFile(dir), 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

/** Name of the lab's cgroup subtree; derived from its directory so two labs never share one. */
export function labCgroupName(dir: string): string {
  return `opsdeck-lab-${createHash('sha256').update(path.resolve(dir)).digest('hex').slice(0, 10)}`;
}

/** True when PID is this lab's systemd: a systemd in the lab's own cgroup subtree (a stale
 *  state file after a reboot can name a PID that is now another systemd, e.g. a user manager). */
export function labProcessAlive(pid: number, dir: string): boolean {
  try {
    if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'systemd') return false;
    return readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(`/${labCgroupName(dir)}`);
  } catch {
    return false;
  }
}
