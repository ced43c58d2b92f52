// The lab's state file (written by `opsdeck lab up`), read by the lab transport to find the
// lab's systemd. Lives in core because a Host must not depend on the lab's boot code.
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

/** True when PID is alive and is a systemd (guards against PID reuse after a reboot). */
export function labProcessAlive(pid: number): boolean {
  try {
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    return comm === 'systemd';
  } catch {
    return false;
  }
}
