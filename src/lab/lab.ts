// The embedded lab: a real systemd as PID 1 of private PID, mount and cgroup namespaces, with
// journald, its own unit path and private /tmp, /var/tmp, /run and /var/log/journal (see
// shared/LAB.md: without those it once emptied the machine's /tmp). Stopped by killing its
// systemd by PID, which takes every process of the lab with it.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OpsdeckError } from '../core/text/errors.js';
import { killGroup } from '../core/host/children.js';
import { LabHost } from '../core/host/lab.js';
import { LocalHost } from '../core/host/host.js';
import { listListeners, type Listener } from '../core/systemd/listeners.js';
import { listUnits, showUnits } from '../core/systemd/units.js';
import { DEFAULT_LAB_DIR, DEFAULT_PORT_BASE, labCgroupName, labProcessAlive, labStateFile, readLabState, type LabPorts, type LabState } from '../core/host/lab-state.js';
import { SYSTEMD, cgroupHierarchies, ensureSshKeys, removeCgroups, writeBootScripts } from './boot.js';
import { UNITS, scenarioPaths, writeIncidentScenario, type ScenarioPaths } from './scenario.js';
import { labConfigYaml } from './lab-config.js';
import { describeRange } from '../config/schema.js';


export interface LabUpOptions {
  dir?: string;
  portBase?: number;
  /** Called with progress lines for the human output. */
  progress?: (line: string) => void;
}

export interface LabUpResult {
  state: LabState;
  alreadyRunning: boolean;
  warnings: string[];
}


function labError(message: string, hint?: string): OpsdeckError {
  return new OpsdeckError('lab', message, hint);
}

function which(tool: string): string | null {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const file = path.join(dir, tool);
    if (existsSync(file)) return file;
  }
  return null;
}

/** Refuse clearly where the lab cannot run, naming what is missing. */
export function labPreflight(): { sshd: boolean; warnings: string[] } {
  if (process.platform !== 'linux') throw labError(`the lab needs Linux (this is ${process.platform})`, 'run opsdeck against a real host instead: see the README');
  if (process.getuid?.() !== 0) throw labError('the lab needs root (it creates namespaces, mounts tmpfs and runs systemd)', 'run it as root, e.g. `sudo opsdeck lab up`');
  for (const tool of ['unshare', 'nsenter', 'mount']) {
    if (!which(tool)) throw labError(`the lab needs \`${tool}\`, which is not installed`, 'apt-get install -y util-linux mount');
  }
  if (!existsSync(SYSTEMD)) throw labError(`the lab needs a systemd binary at ${SYSTEMD}`, 'apt-get install -y systemd');
  const warnings: string[] = [];
  const sshd = existsSync('/usr/sbin/sshd') && which('ssh-keygen') !== null;
  if (!sshd) warnings.push('openssh-server is not installed, so the lab has no ssh host (apt-get install -y openssh-server)');
  return { sshd, warnings };
}

/** Where --port-base may start the lab's ports (production at base, development +2, ssh +10). */
export const PORT_BASE_RANGE = { min: 1024, max: 65000 } as const;

function labPorts(base: number): LabPorts {
  const { min, max } = PORT_BASE_RANGE;
  if (!Number.isInteger(base) || base < min || base > max) throw new OpsdeckError('usage', `invalid --port-base ${base}`, `use ${describeRange(min, max, false)}`);
  return { production: base, development: base + 2, ssh: base + 10 };
}

/** The lab's services would crash on a taken port and look like part of the incident: refuse. */
async function refuseTakenPorts(ports: LabPorts): Promise<void> {
  let listeners: Listener[];
  try {
    listeners = await listListeners(new LocalHost());
  } catch {
    return; // the lab's own checks will tell
  }
  for (const [name, port] of Object.entries(ports)) {
    const holder = listeners.find((l) => l.port === port);
    if (holder) {
      throw labError(
        `port ${port} (the lab's ${name} port) is already in use${holder.pid ? ` by PID ${holder.pid} (${holder.process})` : ''}`,
        'pick other ports with --port-base N, or stop what holds it (another lab: opsdeck lab down --dir DIR)',
      );
    }
  }
}

/** The child of `unshare --fork`: the lab's systemd. */
function childOf(pid: number): number | undefined {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return children[0];
  } catch {
    return undefined;
  }
}

export async function labUp(options: LabUpOptions = {}): Promise<LabUpResult> {
  const dir = path.resolve(options.dir ?? DEFAULT_LAB_DIR);
  const say = options.progress ?? (() => undefined);
  const existing = readLabState(dir);
  if (existing && labProcessAlive(existing.pid, dir)) return { state: existing, alreadyRunning: true, warnings: [] };

  const { sshd, warnings } = labPreflight();
  const ports = labPorts(options.portBase ?? DEFAULT_PORT_BASE);
  await refuseTakenPorts(ports);
  const p = scenarioPaths(dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (/^\/(root|home|run\/user)(\/|$)/.test(dir)) warnings.push(`${dir} is under /root, /home or /run/user, where ProtectSystem=strict does not apply: the incident will not reproduce`);
  say(`laying out the incident scenario in ${dir}`);
  if (sshd) ensureSshKeys(p, ports.ssh);
  writeIncidentScenario(p, ports, sshd);
  const cgroup = labCgroupName(dir);
  const { prep } = writeBootScripts(p, cgroup, cgroupHierarchies());

  say('booting systemd in private namespaces');
  const logFd = openSync(path.join(dir, 'lab.log'), 'w');
  const child = spawn('/bin/sh', [prep], { detached: true, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  child.unref();
  const unsharePid = child.pid!;
  let pid: number | undefined;
  for (let i = 0; i < 100 && pid === undefined; i++) {
    await sleep(50);
    const candidate = childOf(unsharePid);
    if (candidate && labProcessAlive(candidate, dir)) pid = candidate;
  }
  if (pid === undefined) {
    // Nothing may stay behind: the unshare and whatever it started are one process group.
    killGroup(unsharePid);
    throw labError(`the lab's systemd did not start; see ${path.join(dir, 'lab.log')}`, lastLines(path.join(dir, 'lab.log')));
  }
  const state: LabState = { pid, dir, scenario: 'incident', ports, startedAt: new Date().toISOString(), config: path.join(dir, 'opsdeck.yaml') };
  // The lab transport finds the lab's systemd through the state file.
  writeFileSync(labStateFile(dir), JSON.stringify(state, null, 2) + '\n');
  try {
    const host = new LabHost('lab', dir);
    await waitForBoot(host, dir);
    // The V1 process someone started by hand long ago, outside any unit, serving production.
    say(`starting the hand-started V1 process on port ${ports.production}`);
    startHandProcess(pid, p, ports.production);
    await waitForPort(host, ports.production);
    await waitForFirstCrash(host);
    writeFileSync(state.config, labConfigYaml(p, ports, sshd));
    writeFileSync(p.onHostConfig, labConfigYaml(p, ports, sshd, true));
    if (sshd) await waitForPort(host, ports.ssh).catch(() => warnings.push(`the lab's sshd did not come up on port ${ports.ssh}`));
  } catch (error) {
    // A half-booted lab must not look "already running" next time: take it down.
    await labDown({ dir });
    throw error;
  }
  return { state, alreadyRunning: false, warnings };
}

async function waitForBoot(host: LabHost, dir: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const result = await host.run(['systemctl', 'is-system-running'], { okExitCodes: [0, 1, 3, 4], timeoutMs: 3000 }).catch(() => undefined);
    const state = result?.stdout.trim();
    if (state === 'running' || state === 'degraded') return;
    await sleep(100);
  }
  throw labError(`the lab's systemd did not finish booting; see ${path.join(dir, 'lab.log')}`);
}

/** The incident is only there once production has crashed at least once. */
async function waitForFirstCrash(host: LabHost): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const production = (await showUnits(host, [UNITS.production], { timeoutMs: 3000 })).get(UNITS.production);
    if (production && (production.subState === 'auto-restart' || production.nRestarts > 0)) return;
    await sleep(100);
  }
  throw labError(`${UNITS.production} did not reach its crash loop in the lab`);
}

async function waitForPort(host: LabHost, port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const { stdout } = await host.run(['ss', '-ltnH', `sport = :${port}`], { timeoutMs: 3000 });
    if (stdout.trim()) return;
    await sleep(100);
  }
  throw labError(`nothing came up on port ${port} in the lab`);
}

/** Like `nohup node server.mjs &` from an old login: in the lab's PID namespace, in no unit. */
function startHandProcess(labPid: number, p: ScenarioPaths, port: number): void {
  const log = openSync(path.join(p.production, 'logs', 'manual-start.log'), 'a');
  const child = spawn(
    'nsenter',
    ['-t', String(labPid), '-m', '-p', '--', 'setsid', '-f', 'env', `PORT=${port}`, `DATA_DIR=${p.liveData}`, 'APP_ENV=production', 'LOG_RATE=0.2', process.execPath, path.join(p.production, 'server.mjs')],
    { cwd: p.production, stdio: ['ignore', log, log], detached: true },
  );
  closeSync(log);
  child.unref();
}

function lastLines(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-5).join('\n');
  } catch {
    return '';
  }
}

export interface LabDownResult {
  dir: string;
  wasRunning: boolean;
  pid: number | null;
}

export async function labDown(options: { dir?: string } = {}): Promise<LabDownResult> {
  const dir = path.resolve(options.dir ?? DEFAULT_LAB_DIR);
  const state = readLabState(dir);
  if (!state || !labProcessAlive(state.pid, dir)) {
    rmSync(labStateFile(dir), { force: true });
    removeCgroups(labCgroupName(dir));
    return { dir, wasRunning: false, pid: state?.pid ?? null };
  }
  // SIGKILL to PID 1 of the namespace ends every process in it.
  process.kill(state.pid, 'SIGKILL');
  for (let i = 0; i < 100 && existsSync(`/proc/${state.pid}`); i++) await sleep(50);
  rmSync(labStateFile(dir), { force: true });
  await sleep(100);
  removeCgroups(labCgroupName(dir));
  return { dir, wasRunning: true, pid: state.pid };
}

export interface LabStatus {
  dir: string;
  running: boolean;
  pid: number | null;
  startedAt: string | null;
  ports: LabPorts | null;
  config: string | null;
  systemState: string | null;
  units: Array<{ name: string; activeState: string; subState: string }>;
}

export async function labStatus(options: { dir?: string } = {}): Promise<LabStatus> {
  const dir = path.resolve(options.dir ?? DEFAULT_LAB_DIR);
  const state = readLabState(dir);
  if (!state || !labProcessAlive(state.pid, dir)) {
    return { dir, running: false, pid: null, startedAt: null, ports: null, config: null, systemState: null, units: [] };
  }
  const host = new LabHost('lab', dir);
  const system = await host.run(['systemctl', 'is-system-running'], { okExitCodes: [0, 1, 3, 4] });
  const units = (await listUnits(host, { types: ['service', 'timer'], patterns: ['mcp-*', 'opsdeck-*'] })).map((u) => ({ name: u.name, activeState: u.activeState, subState: u.subState }));
  return { dir, running: true, pid: state.pid, startedAt: state.startedAt, ports: state.ports, config: state.config, systemState: system.stdout.trim(), units };
}

