// systemd through `systemctl`: list units, show many properties of many units in one call,
// unit actions, and unit files. Unit names are validated before they reach a command line,
// and always follow `--`, so a name can never be read as an option.
import { dataEnvOf, type DataVar } from './data-env.js';
import { redactUnitFile, secretEnvOf, type SecretVar } from './secret-env.js';
import type { EnvironmentConfig } from '../../config/schema.js';
import { UsageError } from '../text/errors.js';
import { secondsSince } from '../text/humanize.js';
import type { Host, RunOptions } from '../host/host.js';
import { sanitizeLine, sanitizeBlock } from '../text/sanitize.js';

const UNIT_SUFFIXES = ['service', 'socket', 'target', 'timer', 'mount', 'automount', 'path', 'slice', 'scope', 'device', 'swap'] as const;
const UNIT_NAME = new RegExp(`^[A-Za-z0-9:_.\\\\@-]+\\.(${UNIT_SUFFIXES.join('|')})$`);

/** Validate a unit name and add `.service` when no type is given, as systemctl does. */
export function normalizeUnitName(name: string): string {
  const candidate = /\.[a-z]+$/.test(name) && UNIT_SUFFIXES.some((s) => name.endsWith(`.${s}`)) ? name : `${name}.service`;
  if (name.length === 0 || name.startsWith('-') || candidate.length > 255 || !UNIT_NAME.test(candidate)) {
    throw new UsageError(
      `invalid unit name ${JSON.stringify(name)}`,
      "unit names contain only letters, digits and ':', '-', '_', '.', '\\', '@', and end in a type such as .service",
    );
  }
  return candidate;
}

export function isValidUnitName(name: string): boolean {
  try {
    normalizeUnitName(name);
    return true;
  } catch {
    return false;
  }
}

/** The properties opsdeck reads for every unit it shows. */
export const UNIT_PROPERTIES = [
  'Id', 'Description', 'LoadState', 'ActiveState', 'SubState', 'UnitFileState', 'Result',
  'MainPID', 'ExecMainStatus', 'ExecMainCode', 'NRestarts', 'Restart', 'RestartUSec',
  'ActiveEnterTimestamp', 'InactiveEnterTimestamp', 'StateChangeTimestamp',
  'MemoryCurrent', 'MemoryMax', 'CPUUsageNSec', 'CPUQuotaPerSecUSec', 'TasksCurrent', 'TasksMax', 'ControlGroup',
  'FragmentPath', 'DropInPaths', 'NeedDaemonReload', 'WorkingDirectory', 'ReadWritePaths', 'ReadOnlyPaths', 'InaccessiblePaths', 'ProtectSystem', 'InvocationID', 'Environment',
  'Triggers', 'TriggeredBy', 'NextElapseUSecRealtime', 'LastTriggerUSec',
] as const;

export interface UnitStatus {
  name: string;
  description: string;
  loadState: string;
  activeState: string;
  subState: string;
  unitFileState: string;
  result: string;
  mainPid: number | null;
  execMainStatus: number | null;
  /** How the main process last ended: exited (execMainStatus is its exit status), killed or dumped (a signal number). */
  execMainCode: 'exited' | 'killed' | 'dumped' | null;
  nRestarts: number;
  restart: string;
  activeSince: string | null;
  stateChangedAt: string | null;
  memoryBytes: number | null;
  /** MemoryMax=: null when unlimited (infinity). */
  memoryMax: number | null;
  cpuNsec: number | null;
  /** CPUQuota= as the CPU time allowed per second, in µs (1000000 = one core); null when unlimited. */
  cpuQuotaPerSecUsec: number | null;
  tasks: number | null;
  /** TasksMax=: null when unlimited. */
  tasksMax: number | null;
  controlGroup: string;
  fragmentPath: string;
  dropInPaths: string[];
  /** Changes every time the unit is started: tells whether a (re)start happened. */
  invocationId: string;
  needDaemonReload: boolean;
  workingDirectory: string;
  readWritePaths: string[];
  /** The sandbox's other path lists, as systemd applies them (drop-ins included). */
  readOnlyPaths: string[];
  inaccessiblePaths: string[];
  /** Environment= variables naming a data directory (only those: other values may be secrets). */
  dataEnv: DataVar[];
  /** Environment= variables that look like keys or tokens: the name and a redacted value, never the value. */
  secretEnv: SecretVar[];
  protectSystem: string;
  triggers: string[];
  triggeredBy: string[];
  nextElapse: string | null;
  lastTrigger: string | null;
  /** Restarting over and over: the thing opsdeck exists to make impossible to miss. */
  crashLooping: boolean;
}

/** A path from a unit's path settings without systemd's prefixes: "-" (may be missing), "+", "!". */
export const barePath = (p: string) => p.replace(/^[-+!]+/, '');

const UNSET = 18446744073709551615n;

function num(value: string | undefined): number | null {
  if (value === undefined || value === '' || value === '[not set]' || value === 'infinity') return null;
  if (!/^\d+$/.test(value)) return null;
  const big = BigInt(value);
  if (big === UNSET) return null;
  return Number(big);
}

const TIMESPAN_UNITS: Record<string, number> = { us: 1, ms: 1e3, s: 1e6, min: 60e6, h: 3600e6 };

/** A timespan as `systemctl show` prints one ("200ms", "1.500000s", "1min 30s"), in µs; null for infinity or anything else. */
export function timespanUsec(value: string | undefined): number | null {
  if (!value || !/^(\d+(\.\d+)?(us|ms|s|min|h) ?)+$/.test(value)) return null;
  let usec = 0;
  for (const [, amount, unit] of value.matchAll(/(\d+(?:\.\d+)?)(us|ms|s|min|h)/g)) usec += Number(amount) * TIMESPAN_UNITS[unit!]!;
  return Math.round(usec);
}

const C_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/**
 * A list property as `systemctl show` prints it: words separated by spaces, each bare, or in
 * double quotes with backslash escapes (systemd's shell_maybe_quote) when it holds a space, a
 * quote or a control character, so a path with a space or a newline is still one word.
 * (String properties holding a newline are printed as "[unprintable]": a value can never
 * start a line of its own.)
 */
export function showWords(value: string | undefined): string[] {
  const out: string[] = [];
  if (!value) return out;
  let i = 0;
  while (i < value.length) {
    while (value[i] === ' ') i++;
    if (i >= value.length) break;
    let word = '';
    if (value[i] === '"') {
      i++;
      while (i < value.length && value[i] !== '"') {
        if (value[i] !== '\\') {
          word += value[i++];
          continue;
        }
        const next = value[i + 1] ?? '';
        if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(value.slice(i + 2, i + 4))) {
          word += String.fromCharCode(Number.parseInt(value.slice(i + 2, i + 4), 16));
          i += 4;
        } else if (/^[0-7]{3}$/.test(value.slice(i + 1, i + 4))) {
          word += String.fromCharCode(Number.parseInt(value.slice(i + 1, i + 4), 8));
          i += 4;
        } else {
          word += C_ESCAPES[next] ?? next;
          i += 2;
        }
      }
      i++; // the closing quote
    } else {
      while (i < value.length && value[i] !== ' ') word += value[i++];
    }
    out.push(word);
  }
  return out;
}

/** ExecMainCode= is the kernel's si_code: CLD_EXITED, CLD_KILLED, CLD_DUMPED. */
const EXEC_MAIN_CODES: Record<string, UnitStatus['execMainCode']> = { '1': 'exited', '2': 'killed', '3': 'dumped' };

/** `--timestamp=unix` gives "@1732441800"; turn it into ISO time, or null when never. */
function time(value: string | undefined): string | null {
  const match = value?.match(/^@(\d+)/);
  if (match) {
    const seconds = Number(match[1]);
    return seconds > 0 ? new Date(seconds * 1000).toISOString() : null;
  }
  // Timer properties ignore --timestamp=unix (systemd 252): "Mon 2026-11-30 00:00:52 UTC", in
  // UTC because every command runs with TZ=UTC0 (host.ts); any other zone is not guessed at.
  const text = value?.match(/^(?:[A-Z][a-z]{2} )?(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) (?:UTC|GMT)$/);
  return text ? new Date(`${text[1]}T${text[2]}Z`).toISOString() : null;
}

/** Parse `systemctl show` output for several units: blocks separated by blank lines. */
export function parseShowBlocks(stdout: string): Array<Record<string, string>> {
  const blocks: Array<Record<string, string>> = [];
  let current: Record<string, string> = {};
  let any = false;
  for (const line of stdout.split('\n')) {
    if (line === '') {
      if (any) blocks.push(current);
      current = {};
      any = false;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    current[line.slice(0, eq)] = line.slice(eq + 1);
    any = true;
  }
  if (any) blocks.push(current);
  return blocks;
}

export function toUnitStatus(props: Record<string, string>): UnitStatus {
  const activeState = props.ActiveState ?? 'unknown';
  const subState = props.SubState ?? 'unknown';
  const result = props.Result ?? '';
  const nRestarts = num(props.NRestarts) ?? 0;
  const mainPid = num(props.MainPID);
  const activeSince = time(props.ActiveEnterTimestamp);
  const environment = showWords(props.Environment);
  return {
    name: sanitizeLine(props.Id ?? ''),
    description: sanitizeLine(props.Description ?? ''),
    loadState: props.LoadState ?? 'unknown',
    activeState,
    subState,
    unitFileState: props.UnitFileState ?? '',
    result,
    mainPid: mainPid === 0 ? null : mainPid,
    execMainStatus: num(props.ExecMainStatus),
    execMainCode: EXEC_MAIN_CODES[props.ExecMainCode ?? ''] ?? null,
    nRestarts,
    restart: props.Restart ?? '',
    activeSince,
    stateChangedAt: time(props.StateChangeTimestamp),
    memoryBytes: num(props.MemoryCurrent),
    memoryMax: num(props.MemoryMax),
    cpuNsec: num(props.CPUUsageNSec),
    cpuQuotaPerSecUsec: timespanUsec(props.CPUQuotaPerSecUSec),
    tasks: num(props.TasksCurrent),
    tasksMax: num(props.TasksMax),
    controlGroup: sanitizeLine(props.ControlGroup ?? ''),
    fragmentPath: sanitizeLine(props.FragmentPath ?? ''),
    dropInPaths: showWords(props.DropInPaths).map(sanitizeLine),
    invocationId: /^[0-9a-f]{32}$/.test(props.InvocationID ?? '') ? props.InvocationID! : '',
    needDaemonReload: props.NeedDaemonReload === 'yes',
    workingDirectory: sanitizeLine(props.WorkingDirectory ?? ''),
    readWritePaths: showWords(props.ReadWritePaths).map(sanitizeLine),
    readOnlyPaths: showWords(props.ReadOnlyPaths).map(sanitizeLine),
    inaccessiblePaths: showWords(props.InaccessiblePaths).map(sanitizeLine),
    dataEnv: dataEnvOf(environment).map((v) => ({ name: sanitizeLine(v.name), dir: sanitizeLine(v.dir) })),
    secretEnv: secretEnvOf(environment),
    protectSystem: props.ProtectSystem ?? '',
    triggers: showWords(props.Triggers).map(sanitizeLine),
    triggeredBy: showWords(props.TriggeredBy).map(sanitizeLine),
    nextElapse: time(props.NextElapseUSecRealtime),
    lastTrigger: time(props.LastTriggerUSec),
    crashLooping: isCrashLooping(activeState, subState, result, nRestarts, activeSince ? secondsSince(activeSince) : null),
  };
}

/** Restarted by systemd and up for less than this: probably between two crashes. */
const JUST_RESTARTED_SEC = 15;

export function isCrashLooping(activeState: string, subState: string, result: string, nRestarts: number, upSec: number | null = null): boolean {
  if (subState === 'auto-restart') return true;
  if (result === 'start-limit-hit') return true;
  // A crash-looping Type=simple service is briefly "active/running" between crashes.
  if (nRestarts > 0 && activeState === 'active' && upSec !== null && upSec < JUST_RESTARTED_SEC) return true;
  return nRestarts > 0 && activeState !== 'active' && result !== 'success';
}

/** The one `systemctl show` that reads units (also what a preview shows). */
export function showUnitsArgv(names: readonly string[]): string[] {
  return ['systemctl', 'show', '--no-pager', '--timestamp=unix', `--property=${UNIT_PROPERTIES.join(',')}`, '--', ...names];
}

/** Properties of many units in one `systemctl show` call (one process per host per refresh). */
export async function showUnits(host: Host, units: readonly string[], options: RunOptions = {}): Promise<Map<string, UnitStatus>> {
  const names = [...new Set(units.map(normalizeUnitName))];
  const out = new Map<string, UnitStatus>();
  if (names.length === 0) return out;
  const { stdout } = await host.run(showUnitsArgv(names), options);
  const blocks = parseShowBlocks(stdout);
  // One block per requested unit, in order; match by Id, by position where an alias differs.
  const wanted = new Set(names);
  blocks.forEach((block, index) => {
    const requested = block.Id && wanted.has(block.Id) ? block.Id : names[index];
    if (requested && !out.has(requested)) out.set(requested, toUnitStatus(block));
  });
  return out;
}

export interface UnitListEntry {
  name: string;
  loadState: string;
  activeState: string;
  subState: string;
  description: string;
}

/** Every unit systemd knows of the given types (default: services), loaded or not. */
export async function listUnits(host: Host, options: { types?: readonly string[]; all?: boolean; patterns?: readonly string[] } & RunOptions = {}): Promise<UnitListEntry[]> {
  const types = options.types ?? ['service'];
  const argv = ['systemctl', 'list-units', '--no-pager', '--plain', '--no-legend', '--output=json', `--type=${types.join(',')}`];
  if (options.all ?? true) argv.push('--all');
  if (options.patterns?.length) argv.push('--', ...options.patterns);
  const { stdout } = await host.run(argv, options);
  const rows = JSON.parse(stdout || '[]') as Array<Record<string, string>>;
  return rows.map((row) => ({
    name: row.unit ?? '',
    loadState: row.load ?? '',
    activeState: row.active ?? '',
    subState: row.sub ?? '',
    description: sanitizeLine(row.description ?? ''),
  }));
}

export const UNIT_ACTIONS = ['start', 'stop', 'restart', 'reload', 'enable', 'disable', 'reset-failed'] as const;
export type UnitAction = (typeof UNIT_ACTIONS)[number];
/** What `opsdeck unit ACTION` accepts: the unit actions, plus daemon-reload and systemctl kill. */
export const UNIT_VERB_ACTIONS = [...UNIT_ACTIONS, 'daemon-reload', 'kill'] as const;

export function isUnitAction(value: string): value is UnitAction {
  return (UNIT_ACTIONS as readonly string[]).includes(value);
}

/** The exact argv of a unit action, for previews, the audit log and execution alike. */
export function unitActionArgv(action: UnitAction, unit: string): string[] {
  return ['systemctl', action, '--no-ask-password', '--', normalizeUnitName(unit)];
}

export function daemonReloadArgv(): string[] {
  return ['systemctl', 'daemon-reload', '--no-ask-password'];
}

/** Signal every process of a unit (systemd's own kill, by cgroup). */
export function killUnitArgv(unit: string, signal = 'SIGTERM'): string[] {
  return ['systemctl', 'kill', '--no-ask-password', `--signal=${validSignal(signal)}`, '--', normalizeUnitName(unit)];
}

export function killPidArgv(pid: number, signal = 'TERM'): string[] {
  if (!Number.isInteger(pid) || pid <= 1) throw new UsageError(`invalid PID ${JSON.stringify(pid)}`, 'give the number of a running process (not 0 or 1)');
  return ['kill', '-s', validSignal(signal).replace(/^SIG/, ''), '--', String(pid)];
}

function validSignal(signal: string): string {
  if (!/^(SIG)?[A-Z0-9]+$/.test(signal)) throw new UsageError(`invalid signal ${JSON.stringify(signal)}`, 'use a name such as TERM, KILL or HUP');
  return signal.startsWith('SIG') ? signal : `SIG${signal}`;
}

/** The unit file and its drop-ins, as `systemctl cat` prints them, secret-looking Environment= values redacted. */
export async function catUnit(host: Host, unit: string, options: RunOptions = {}): Promise<string> {
  const { stdout } = await host.run(['systemctl', 'cat', '--no-pager', '--', normalizeUnitName(unit)], options);
  return redactUnitFile(sanitizeBlock(stdout));
}

/** The units that make up an environment: its unit first, then its related units (e.g. the backup job). */
export function environmentUnits(env: Pick<EnvironmentConfig, 'unit' | 'relatedUnits'>): string[] {
  return [...(env.unit ? [env.unit] : []), ...env.relatedUnits];
}
