// Starting a stopped process again the way it was started: what is recorded of it before it is
// stopped (its argv exactly, from /proc/PID/cmdline; its working directory, executable, user and
// group; its environment from /proc/PID/environ), and the command that starts it again.
//
// It is started again with systemd-run, in a transient unit, rather than with setsid/nohup from
// opsdeck's own command: a process forked off a command of ours lives in our cgroup (the
// operator's login session, or the ssh session's scope), which logind may kill when that session
// ends, and whose output goes nowhere once we are gone. A transient unit is a child of PID 1: it
// outlives opsdeck, the ssh connection and the login, its output goes to the journal, and it can
// be named, watched and stopped like any unit. What changes is honest and said so: it then runs
// in a unit (opsdeck-readopt-….service) rather than in none.
//
// The environment's values may hold secrets: they never go into the plan, the journal lines, the
// audit log, a preview or a command's argv (systemctl show would print `Environment=` to anyone).
// They go into one file in the operation's own directory on the host (root-only, mode 0600) in
// EnvironmentFile= syntax, which systemd reads as it starts the unit; elsewhere only the names
// appear (KEY=…).
import type { Host } from '../host/host.js';
import { readFileBytes } from '../host/files.js';
import { processStartTime } from '../host/process-start.js';
import { commandLine } from '../systemd/listeners.js';

export interface Launch {
  /** The command line exactly (each argument as the kernel has it, decoded as UTF-8). */
  argv: string[];
  /** /proc/PID/exe: the program, when argv[0] is not an absolute path. */
  exe: string | null;
  cwd: string;
  uid: number;
  gid: number;
  /** KEY=VALUE entries, each byte kept (latin1: one character per byte). Secret: never shown. */
  environ: string[];
}

/** What is recorded in the journal: everything but the environment's values. */
export interface LaunchRecord {
  argv: string[];
  exe: string | null;
  cwd: string;
  uid: number;
  gid: number;
  environmentKeys: string[];
}

/** How PID was started, or null when it is gone (or became another process while it was read). */
export async function readLaunch(host: Host, pid: number): Promise<Launch | null> {
  const startTime = await processStartTime(host, pid);
  if (startTime === null) return null;
  const [cmdline, environ, links, status] = await Promise.all([
    readFileBytes(host, `/proc/${pid}/cmdline`, { maxBytes: 4 * 1024 * 1024 }),
    readFileBytes(host, `/proc/${pid}/environ`, { maxBytes: 4 * 1024 * 1024 }),
    // %l is the link's target: the kernel's text, NUL-terminated (a directory name may hold a newline).
    host.run(['find', `/proc/${pid}/cwd`, `/proc/${pid}/exe`, '-maxdepth', '0', '-printf', '%f\\t%l\\0'], { okExitCodes: [0, 1] }),
    host.run(['cat', '--', `/proc/${pid}/status`], { okExitCodes: [0, 1] }),
  ]);
  if (!cmdline || !environ || (await processStartTime(host, pid)) !== startTime) return null;
  const link = (name: string) => links.stdout.split('\0').find((r) => r.startsWith(`${name}\t`))?.slice(name.length + 1) || null;
  const id = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status.stdout)?.[1] ?? NaN);
  const cwd = link('cwd');
  if (cwd === null || !cwd.startsWith('/') || !Number.isSafeInteger(id('Uid')) || !Number.isSafeInteger(id('Gid'))) return null;
  return { argv: splitNul(cmdline.toString('utf8')), exe: link('exe'), cwd, uid: id('Uid'), gid: id('Gid'), environ: splitNul(environ.toString('latin1')) };
}

function splitNul(text: string): string[] {
  const parts = text.split('\0');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

export function launchRecord(launch: Launch, environmentFile: string | null = null): LaunchRecord & { environmentFile?: string } {
  return { argv: launch.argv, exe: launch.exe, cwd: launch.cwd, uid: launch.uid, gid: launch.gid, environmentKeys: environmentKeys(launch.environ), ...(environmentFile ? { environmentFile } : {}) };
}

/** A launch record read back from a journal (a file on a host: checked, never trusted). */
export function launchFromData(data: Record<string, unknown>): LaunchRecord | null {
  const { argv, exe, cwd, uid, gid, environmentKeys: keys } = data;
  const text = (v: unknown): v is string => typeof v === 'string' && !v.includes('\0');
  const id = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every(text)) return null;
  if (!text(cwd) || !cwd.startsWith('/') || !id(uid) || !id(gid) || !(exe === null || text(exe))) return null;
  return { argv, exe, cwd, uid, gid, environmentKeys: Array.isArray(keys) ? keys.filter(text) : [] };
}

/** The names of the variables (what previews, details and the journal show). */
export function environmentKeys(environ: readonly string[]): string[] {
  return environ.map((e) => (e.includes('=') ? e.slice(0, e.indexOf('=')) : e));
}

/** An environment as the operator may see it: KEY=… for each, never a value. */
export function redactEnvironment(environ: readonly string[]): string {
  return environmentKeys(environ)
    .map((k) => `${k}=…`)
    .join(' ');
}

/** A name systemd takes from an EnvironmentFile= (others are dropped by it, with a warning). */
const VALID_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The environment in EnvironmentFile= syntax, each value exactly: single-quoted (taken
 * literally by systemd, newlines included) or, holding a single quote, double-quoted with
 * \ " ` $ escaped. Variables whose names systemd would refuse are left out and named.
 */
export function environmentFile(environ: readonly string[]): { content: string; skipped: string[] } {
  const lines: string[] = [];
  const skipped: string[] = [];
  for (const entry of environ) {
    const eq = entry.indexOf('=');
    const key = eq < 0 ? entry : entry.slice(0, eq);
    if (eq < 0 || !VALID_NAME.test(key)) {
      skipped.push(key);
      continue;
    }
    const value = entry.slice(eq + 1);
    lines.push(value.includes("'") ? `${key}="${value.replace(/["\\`$]/g, (c) => `\\${c}`)}"` : `${key}='${value}'`);
  }
  return { content: lines.map((l) => `${l}\n`).join(''), skipped };
}

/** The transient unit a re-started process runs in. */
export function readoptUnit(operationId: string): string {
  return `opsdeck-readopt-${operationId}.service`;
}

/** The program to run: argv[0] when it is a path, else the executable it was (argv[0] itself is searched in PATH otherwise). */
function program(launch: Pick<LaunchRecord, 'argv' | 'exe'>): string {
  const first = launch.argv[0]!;
  if (first.startsWith('/')) return first;
  return launch.exe && launch.exe.startsWith('/') && !launch.exe.endsWith(' (deleted)') ? launch.exe : first;
}

/**
 * systemd-run starting the process again: its directory, user and group, its environment from
 * the file, its argv (a `$` doubled: systemd expands $VAR in a unit's command line, `$$` is a
 * literal dollar). --collect: a unit that fails is not left behind to block the name.
 */
export function relaunchArgv(launch: Pick<LaunchRecord, 'argv' | 'exe' | 'cwd' | 'uid' | 'gid'>, unit: string, envFile: string | null): string[] {
  return [
    'systemd-run',
    `--unit=${unit}`,
    '--collect',
    '--quiet',
    `--description=${commandLine(launch.argv).slice(0, 200)} (started again by opsdeck)`,
    `--property=WorkingDirectory=${launch.cwd}`,
    ...(envFile ? [`--property=EnvironmentFile=${envFile}`] : []),
    `--uid=${launch.uid}`,
    `--gid=${launch.gid}`,
    '--',
    program(launch),
    ...launch.argv.slice(1).map((a) => a.replace(/\$/g, '$$$$')),
  ];
}
