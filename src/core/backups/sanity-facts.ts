// The facts source sanity judges, gathered on the environment's host in a few commands: the
// unit's settings, the processes that serve the environment (the unit's and any hand-started
// port holder's: their cwd, open files and data-dir variables), the newest file of each
// directory that matters, and what the newest archive holds. Facts hold paths as the host gave
// them; sanity.ts judges them (pure) and makes everything it returns safe to print.
import path from 'node:path';
import type { EnvironmentConfig } from '../../config/schema.js';
import type { Host, RunOptions } from '../host/host.js';
import { listListeners, type Listener } from '../systemd/listeners.js';
import { dataEnvOf, SYSTEM_DIR, tooBroad, type DataVar } from '../systemd/data-env.js';
import { barePath, normalizeUnitName, parseShowBlocks, showWords, type UnitStatus } from '../systemd/units.js';

export { dataEnvOf, type DataVar };
import { describeError } from '../text/errors.js';
import { sanitizeLine as s } from '../text/sanitize.js';
import { matchTree, readArchiveArgv, summarizeArchive, type ArchiveSummary, type TreeMatch } from './archive-read.js';
import type { Manifest } from './manifest.js';
import { isInside, type ResolvedPolicy } from './policy.js';
import { scanTree, type TreeScan } from './scan.js';


/** What was seen, and the command or file it came from (so the operator can look again). */
export interface Evidence {
  text: string;
  from: string;
}

export type DirFacts = Pick<TreeScan, 'dir' | 'exists' | 'files' | 'bytes' | 'newestMtime' | 'newestPath'>;

export interface UnitFacts {
  name: string;
  loadState: string;
  activeState: string;
  mainPid: number | null;
  workingDirectory: string | null;
  readWritePaths: string[];
  dataEnv: DataVar[];
}

export interface ProcessClues {
  pid: number;
  /** Why it serves the environment ("holds port 3444 and is in no unit (started by hand)") and where that was seen. */
  role: string;
  roleFrom: string;
  /** False when /proc showed nothing of it (gone since, or another user's without root). */
  seen: boolean;
  cwd: string | null;
  dataEnv: DataVar[];
  /** Regular files it has open for writing (neither stdio nor logs). */
  writing: string[];
}

export interface ArchiveFacts {
  name: string;
  /** Its mtime, seconds since the epoch. */
  madeAt: number;
  files: number;
  newestMtime: number | null;
  newestPath: string | null;
  /** Where the content figures come from: its manifest, or a read of the archive. */
  from: string;
  manifestSource: string | null;
  /** Per scanned directory: how many of the archive's files it holds unchanged. */
  matches: Array<{ dir: string } & TreeMatch>;
  /** Why it could not be read (safe to print). */
  error: string | null;
}

export interface SanityFacts {
  environment: string;
  host: string;
  source: string;
  /** Seconds since the epoch. */
  now: number;
  unit: UnitFacts | null;
  processes: ProcessClues[];
  dirs: DirFacts[];
  archive: ArchiveFacts | null;
  /** What could not be gathered. */
  problems: Evidence[];
}
const MAX_SCANS = 6;
const MAX_PIDS = 8;

const LOGS = /(^|\/)logs?\/|\.log(\.\d+)?$/;


export interface Clue {
  dir: string;
  why: string[];
  from: string;
  /** Said by an environment variable or an open file; a working directory is only a guess. */
  strong: boolean;
}

/** Where the service writes, and what says so. A working directory counts only when nothing else does. */
export function liveDirClues(unit: UnitFacts | null, processes: readonly ProcessClues[]): Clue[] {
  const clues: Clue[] = [];
  const add = (dir: string, why: string, from: string, strong: boolean) => {
    const known = clues.find((c) => c.dir === dir);
    if (known) known.why.push(why);
    else clues.push({ dir, why: [why], from, strong });
  };
  for (const p of processes) {
    for (const e of p.dataEnv) add(e.dir, `PID ${p.pid}'s ${e.name}`, `/proc/${p.pid}/environ`, true);
    for (const file of p.writing) add(path.posix.dirname(file), `PID ${p.pid} writes ${path.posix.basename(file)}`, `/proc/${p.pid}/fd`, true);
  }
  for (const e of unit?.dataEnv ?? []) add(e.dir, `${unit!.name}'s Environment= ${e.name}`, `systemctl show ${unit!.name} -p Environment`, true);
  if (clues.length > 0) return clues;
  for (const p of processes) if (p.cwd && !tooBroad(p.cwd)) add(p.cwd, `PID ${p.pid}'s working directory`, `/proc/${p.pid}/cwd`, false);
  return clues;
}

export function unitFactsArgv(unit: string): string[] {
  return ['systemctl', 'show', '--no-pager', '--property=LoadState,ActiveState,MainPID,WorkingDirectory,ReadWritePaths,Environment', '--', unit];
}


/** The same facts from the status's `systemctl show` (one call for every unit of the host). */
export function unitFactsOf(status: UnitStatus): UnitFacts {
  const workingDirectory = barePath(status.workingDirectory);
  return {
    name: status.name,
    loadState: status.loadState,
    activeState: status.activeState,
    mainPid: status.mainPid,
    workingDirectory: workingDirectory.startsWith('/') ? workingDirectory : null,
    readWritePaths: status.readWritePaths.map(barePath).filter((p) => p.startsWith('/')),
    dataEnv: status.dataEnv,
  };
}

export function parseUnitFacts(unit: string, stdout: string): UnitFacts {
  const props = parseShowBlocks(stdout)[0] ?? {};
  const mainPid = Number(props.MainPID);
  const workingDirectory = barePath(props.WorkingDirectory ?? '');
  return {
    name: unit,
    loadState: props.LoadState ?? 'unknown',
    activeState: props.ActiveState ?? 'unknown',
    mainPid: Number.isSafeInteger(mainPid) && mainPid > 0 ? mainPid : null,
    workingDirectory: workingDirectory.startsWith('/') ? workingDirectory : null,
    readWritePaths: showWords(props.ReadWritePaths).map(barePath).filter((p) => p.startsWith('/')),
    dataEnv: dataEnvOf(showWords(props.Environment)),
  };
}

export type Serving = Pick<ProcessClues, 'pid' | 'role' | 'roleFrom'>;

/** The environment's processes: its unit's main PID and whoever holds its ports. */
export function servingProcesses(unit: UnitFacts | null, listeners: readonly Listener[], ports: readonly number[]): Serving[] {
  const out = new Map<number, Serving>();
  if (unit?.mainPid) out.set(unit.mainPid, { pid: unit.mainPid, role: `is the main PID of ${unit.name}`, roleFrom: `systemctl show ${unit.name} -p MainPID` });
  for (const l of listeners) {
    if (l.pid === null || !ports.includes(l.port)) continue;
    const role = `holds port ${l.port} and is ${l.unit === null ? 'in no unit (started by hand)' : `in ${l.unit}`}`;
    const known = out.get(l.pid);
    if (!known) out.set(l.pid, { pid: l.pid, role, roleFrom: `/proc/net/tcp, /proc/${l.pid}/cgroup` });
    else if (!known.role.includes(role)) known.role = `${known.role}; ${role}`;
  }
  return [...out.values()].slice(0, MAX_PIDS);
}

/**
 * One find for every PID: "/proc/PID/cwd<TAB>TARGET\0" and "/proc/PID/fd/N<TAB>TARGET\0" for the
 * links, then one grep of the environ files (a record per variable) and fdinfo files (one each:
 * its flags say whether the fd writes), "FILE:CONTENT\0". Nothing there can hold a NUL, so
 * nothing can forge a record; GNU find flushes its own output before it runs grep.
 */
export function procCluesArgv(pids: readonly number[]): string[] {
  const starts = pids.flatMap((pid) => ['cwd', 'fd', 'fdinfo', 'environ'].map((f) => `/proc/${pid}/${f}`));
  return [
    'find', ...starts, '-maxdepth', '1',
    '(', '-type', 'l', '-printf', '%p\\t%l\\0', ')', '-o',
    '(', '-type', 'f', '(', '-name', 'environ', '-o', '-path', '/proc/*/fdinfo/*', ')', '-exec', 'grep', '-H', '-a', '-s', '-z', '', '--', '{}', '+', ')',
  ];
}

export function parseProcClues(stdout: Buffer, serving: readonly Serving[]): ProcessClues[] {
  const raw = new Map<number, { cwd: string | null; env: string[]; fds: Map<number, string>; writable: Set<number> }>();
  const of = (pid: string) => raw.get(Number(pid)) ?? raw.set(Number(pid), { cwd: null, env: [], fds: new Map(), writable: new Set() }).get(Number(pid))!;
  for (const record of stdout.toString('utf8').split('\0')) {
    let m: RegExpExecArray | null;
    if ((m = /^\/proc\/(\d+)\/cwd\t([\s\S]*)$/.exec(record))) of(m[1]!).cwd = m[2]!;
    else if ((m = /^\/proc\/(\d+)\/fd\/(\d+)\t([\s\S]*)$/.exec(record))) of(m[1]!).fds.set(Number(m[2]), m[3]!);
    else if ((m = /^\/proc\/(\d+)\/environ:([\s\S]*)$/.exec(record))) of(m[1]!).env.push(m[2]!);
    // O_ACCMODE of the flags: 1 write-only, 2 read-write.
    else if ((m = /^\/proc\/(\d+)\/fdinfo\/(\d+):[\s\S]*?\nflags:\s*([0-7]+)/.exec(record)) && (Number.parseInt(m[3]!, 8) & 3) !== 0) of(m[1]!).writable.add(Number(m[2]));
  }
  return serving.map((p) => {
    const facts = raw.get(p.pid);
    // fds 0-2 are where a process logs, not its data; deleted files and logs are no data either.
    const writing = [...(facts?.fds ?? [])]
      .filter(([fd, target]) => fd > 2 && facts!.writable.has(fd) && target.startsWith('/') && !target.endsWith(' (deleted)') && !SYSTEM_DIR.test(target) && !LOGS.test(target))
      .map(([, target]) => target);
    return { ...p, seen: facts !== undefined, cwd: facts?.cwd ?? null, dataEnv: dataEnvOf(facts?.env ?? []), writing: [...new Set(writing)].slice(0, 20) };
  });
}

/** The source, then where the service writes, then the unit's ReadWritePaths= (the usual other suspect): at most six. */
export function dirsToScan(source: string, unit: UnitFacts | null, clues: readonly Clue[]): string[] {
  // The source is scanned once, first, however many clues also name it.
  const dirs: string[] = [source];
  for (const dir of [...clues.map((c) => c.dir), ...(unit?.readWritePaths ?? [])]) {
    if (!dirs.includes(dir) && !isInside(dir, source) && !tooBroad(dir)) dirs.push(dir);
  }
  return dirs.slice(0, MAX_SCANS);
}

/** An archive does not change while its path, size and mtime stay: read once (the status asks every 30 s). */
const contents = new Map<string, ArchiveSummary>();

async function archiveContent(host: Host, archive: SanityInput['archives'][number], options: RunOptions): Promise<ArchiveSummary> {
  const key = `${host.name}\0${archive.path}\0${archive.sizeBytes}\0${archive.modifiedAt}`;
  const known = contents.get(key);
  if (known) return known;
  const summary = await summarizeArchive(host, archive.path, { keepEntries: true, signal: options.signal, timeoutMs: options.timeoutMs });
  // A few are kept: the newest archive of each environment.
  if (contents.size >= 8) contents.delete(contents.keys().next().value!);
  contents.set(key, summary);
  return summary;
}

export interface SanityInput {
  envName: string;
  env: EnvironmentConfig;
  policy: Pick<ResolvedPolicy, 'source'>;
  /** What the caller already asked the host (the status refresh): not asked again. */
  known?: { unit?: UnitStatus | null; listeners?: Listener[] };
  /** The environment's archives, newest first: only the newest is read. */
  archives: ReadonlyArray<{ name: string; path: string; sizeBytes: number; modifiedAt: string; manifest: Manifest | null }>;
}

/**
 * The facts, in at most 12 commands on the host: one systemctl show (with a unit), the
 * listeners (1-3, cached per host), one find over /proc (with PIDs), one find per directory
 * (at most six), one stream of the newest archive (when it has no manifest). Only the newest
 * archive is read; a command that fails becomes a problem in the evidence, not an exception.
 */
export async function gatherSanityFacts(host: Host, input: SanityInput, options: RunOptions = {}): Promise<SanityFacts> {
  const source = path.posix.normalize(input.policy.source).replace(/(.)\/$/, '$1');
  const problems: Evidence[] = [];
  const attempt = async <T>(what: string, from: string, work: () => Promise<T>): Promise<T | null> => {
    try {
      return await work();
    } catch (error) {
      if (options.signal?.aborted) throw error;
      problems.push({ text: `could not ${s(what)}: ${s(describeError(error))}`, from: s(from) });
      return null;
    }
  };
  const unitName = input.env.unit ? normalizeUnitName(input.env.unit) : null;
  const known = input.known;
  const [unit, listeners] = await Promise.all([
    known?.unit ? unitFactsOf(known.unit) : unitName ? attempt(`read ${unitName}`, unitFactsArgv(unitName).join(' '), async () => parseUnitFacts(unitName, (await host.run(unitFactsArgv(unitName), options)).stdout)) : null,
    known?.listeners ?? (input.env.ports.length > 0 ? attempt('list who holds the ports', '/proc/net/tcp', () => listListeners(host, options)) : []),
  ]);
  const serving = servingProcesses(unit, listeners ?? [], input.env.ports);
  const argv = procCluesArgv(serving.map((p) => p.pid));
  const read = serving.length === 0 ? [] : await attempt('read the processes', argv.slice(0, 4).join(' ') + ' …', async () => parseProcClues((await host.run(argv, { ...options, okExitCodes: [0, 1], maxOutputBytes: 8 << 20 })).stdoutBytes, serving));
  const processes = read ?? serving.map((p) => ({ ...p, seen: false, cwd: null, dataEnv: [], writing: [] }));

  const newest = input.archives[0] ?? null;
  const readArchive = newest !== null && newest.manifest === null; // a manifest already says what the archive holds
  const dirs = dirsToScan(source, unit, liveDirClues(unit, processes));
  const [scans, content] = await Promise.all([
    Promise.all(dirs.map((dir) => attempt(`scan ${dir}`, `find ${dir}`, () => scanTree(host, dir, { ...options, keepEntries: readArchive })))),
    readArchive ? archiveContent(host, newest, options).catch((error: unknown) => { if (options.signal?.aborted) throw error; return error as Error; }) : null,
  ]);
  const found = scans.filter((scan): scan is TreeScan => scan !== null);
  return {
    environment: input.envName,
    host: host.name,
    source,
    now: Date.now() / 1000,
    unit,
    processes,
    dirs: found.map(({ dir, exists, files, bytes, newestMtime, newestPath }) => ({ dir, exists, files, bytes, newestMtime, newestPath })),
    archive: newest ? archiveFacts(newest, content, found) : null,
    problems,
  };
}

function archiveFacts(archive: SanityInput['archives'][number], content: ArchiveSummary | Error | null, scans: readonly TreeScan[]): ArchiveFacts {
  const base = { name: archive.name, madeAt: Date.parse(archive.modifiedAt) / 1000, manifestSource: null, matches: [], error: null };
  const m = archive.manifest;
  if (m) return { ...base, files: m.files, newestMtime: m.newestMtime, newestPath: m.newestPath, from: `${archive.name}.manifest.json`, manifestSource: m.source || null };
  const from = `${readArchiveArgv(archive.path).join(' ')}, listed in opsdeck`;
  if (content === null || content instanceof Error) return { ...base, files: 0, newestMtime: null, newestPath: null, from, error: s(describeError(content)) };
  const matches = scans.filter((scan) => scan.exists).map((scan) => ({ dir: scan.dir, ...matchTree(content, scan) }));
  return { ...base, files: content.files, newestMtime: content.newestMtime, newestPath: content.newestPath, from, matches };
}

