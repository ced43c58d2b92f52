// Listening TCP sockets and who holds them, read from the kernel's own tables so no process
// can put words in the answer: `ss -p` prints process names as they are, and a name with a
// quote, a parenthesis or a newline hid a PID or forged a whole line. Instead:
//   /proc/net/tcp{,6}        the listening sockets (address, port, socket inode), kernel-formatted;
//   find /proc/PID/fd        which PIDs hold those inodes (only for inodes not seen before);
//   grep -z /proc/PID/...    each new PID's command line, cgroup and name, NUL-separated, so no
//                            argument can end one record and start another.
// A PID in no service unit (a process started by hand) has `unit: null`.
import type { Host, RunOptions } from '../host/host.js';
import { sanitizeLine } from '../text/sanitize.js';

export interface Listener {
  address: string;
  port: number;
  pid: number | null;
  /** The process's name (/proc/PID/comm), sanitized. */
  process: string;
  /** Its command line, arguments joined by spaces, sanitized. */
  command: string;
  /** The service (or transient scope) unit holding the PID; null when none does. */
  unit: string | null;
  /** The PID's cgroup path, as the host's systemd sees it. */
  cgroup: string | null;
}

export interface ListeningSocket {
  address: string;
  port: number;
  inode: number;
  uid: number;
}

const LISTEN = '0A';

/** IPv4 in /proc/net/tcp: one 32-bit word printed in the host's (little-endian) byte order. */
function ipv4(hex: string): string {
  const n = Number.parseInt(hex, 16);
  return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join('.');
}

/** IPv6: four such words. An IPv4-mapped address is shown as IPv4. */
function ipv6(hex: string): string {
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) {
    const word = Number.parseInt(hex.slice(w * 8, w * 8 + 8), 16);
    bytes.push(word & 255, (word >>> 8) & 255, (word >>> 16) & 255, word >>> 24);
  }
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255) return bytes.slice(12).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16));
  // The longest run of zero groups becomes "::".
  let best = { at: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.length) best = { at: i, length: j - i };
    i = j;
  }
  if (best.length < 2) return groups.join(':');
  return `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.length).join(':')}`;
}

/** The listening sockets in /proc/net/tcp and /proc/net/tcp6 text (header lines are skipped). */
export function parseProcNetTcp(text: string): ListeningSocket[] {
  const sockets: ListeningSocket[] = [];
  const seen = new Set<number>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
    if (f.length < 10 || !/^\d+:$/.test(f[0]!) || f[3] !== LISTEN) continue;
    const match = /^([0-9A-F]{8}|[0-9A-F]{32}):([0-9A-F]{4})$/.exec(f[1]!);
    const inode = Number(f[9]);
    const uid = Number(f[7]);
    if (!match || !Number.isSafeInteger(inode) || inode <= 0 || seen.has(inode) || !Number.isSafeInteger(uid)) continue;
    seen.add(inode);
    sockets.push({ address: match[1]!.length === 8 ? ipv4(match[1]!) : ipv6(match[1]!), port: Number.parseInt(match[2]!, 16), inode, uid });
  }
  return sockets;
}

/** The find over /proc that names the PIDs holding these socket inodes ("/proc/PID/fd<TAB>socket:[INODE]" lines). */
export function socketOwnersArgv(inodes: readonly number[]): string[] {
  const names = inodes.flatMap((inode, i) => [...(i > 0 ? ['-o'] : []), '-lname', `socket:\\[${inode}\\]`]);
  return [
    'find', '/proc', '-mindepth', '1', '-maxdepth', '3',
    // Only /proc/<digits>/fd/* is looked at: everything else is pruned on the way.
    '(', '-path', '/proc/[!0-9]*', '-prune', ')', '-o',
    '(', '-path', '/proc/*/*', '!', '-path', '/proc/*/fd', '!', '-path', '/proc/*/fd/*', '-prune', ')', '-o',
    '(', '-path', '/proc/*/fd/*', '(', ...names, ')', '-printf', '%h\\t%l\\n', ')',
  ];
}

/** inode -> PIDs from the find's output: every field is the kernel's (a path of digits, a link target). */
export function parseSocketOwners(stdout: string): Map<number, number[]> {
  const owners = new Map<number, number[]>();
  for (const line of stdout.split('\n')) {
    const match = /^\/proc\/(\d+)\/fd\tsocket:\[(\d+)\]$/.exec(line);
    if (!match) continue;
    const pid = Number(match[1]);
    const inode = Number(match[2]);
    const list = owners.get(inode) ?? [];
    if (!list.includes(pid)) list.push(pid);
    owners.set(inode, list);
  }
  return owners;
}

interface ProcessFacts {
  pid: number;
  /** Arguments as the process has them (untrusted, not yet sanitized). */
  argv: string[];
  /** /proc/PID/comm (untrusted). */
  name: string;
  cgroup: string | null;
  unit: string | null;
}

const PROC_FILES = ['cmdline', 'cgroup', 'comm'] as const;

/** grep -z prints "FILE:RECORD\0" per NUL-separated record: an argument cannot contain a NUL, so none can start a record of its own. */
export function procFilesArgv(pids: readonly number[]): string[] {
  // -a: binary is text; -s: a process may be gone by now (exit code 2); -z: NUL-separated records.
  return ['grep', '-H', '-a', '-s', '-z', '', '--', ...pids.flatMap((pid) => PROC_FILES.map((f) => `/proc/${pid}/${f}`))];
}

/** Each PID's facts from procFilesArgv's output; a PID whose cgroup could not be read is left out (it is gone). */
export function parseProcFiles(stdout: string): Map<number, ProcessFacts> {
  const raw = new Map<number, { argv: string[]; name: string; cgroup: string | undefined }>();
  for (const record of stdout.split('\0')) {
    const match = /^\/proc\/(\d+)\/(cmdline|cgroup|comm):/.exec(record);
    if (!match) continue;
    const pid = Number(match[1]);
    const content = record.slice(match[0].length);
    const entry = raw.get(pid) ?? { argv: [], name: '', cgroup: undefined };
    if (match[2] === 'cmdline') entry.argv.push(content);
    else if (match[2] === 'cgroup') entry.cgroup = (entry.cgroup ?? '') + content;
    else entry.name = content.replace(/\n$/, '');
    raw.set(pid, entry);
  }
  const facts = new Map<number, ProcessFacts>();
  for (const [pid, entry] of raw) {
    if (entry.cgroup === undefined) continue;
    const cgroup = cgroupPath(entry.cgroup);
    facts.set(pid, { pid, argv: entry.argv, name: entry.name, cgroup, unit: unitOfCgroup(cgroup) });
  }
  return facts;
}

/** From a /proc/PID/cgroup text, the cgroup path systemd uses (unified, else name=systemd). */
export function cgroupPath(cgroupText: string): string | null {
  let legacy: string | null = null;
  for (const line of cgroupText.split('\n')) {
    const [id, controllers, ...rest] = line.split(':');
    const p = rest.join(':');
    if (id === '0' && controllers === '' && p && p !== '/') return p;
    if (controllers === 'name=systemd') legacy = p;
  }
  return legacy;
}

/** The unit that holds a cgroup: the deepest service, or a transient scope that is not a login session. */
export function unitOfCgroup(path: string | null): string | null {
  if (!path) return null;
  const segments = path.split('/').filter(Boolean).reverse();
  for (const segment of segments) {
    if (segment.endsWith('.service')) return segment.startsWith('user@') ? null : segment;
    if (segment.endsWith('.scope')) return segment === 'init.scope' || segment.startsWith('session-') ? null : segment;
  }
  return null;
}

/** A command line to show: arguments joined by spaces, made safe for the terminal. */
export function commandLine(argv: readonly string[]): string {
  return sanitizeLine(argv.filter((a, i) => a !== '' || i < argv.length - 1).join(' '));
}

/** Facts about some PIDs on a host (command line, name, cgroup, unit); gone ones are missing. */
export async function readProcesses(host: Host, pids: readonly number[], options: RunOptions = {}): Promise<Map<number, ProcessFacts>> {
  if (pids.length === 0) return new Map();
  const { stdout } = await host.run(procFilesArgv(pids), { ...options, okExitCodes: [0, 1, 2] });
  return parseProcFiles(stdout);
}

interface HostCache {
  owners: Map<number, number[]>;
  /** What a listener shows of each holder, its name and command line already sanitized. */
  processes: Map<number, Pick<Listener, 'process' | 'command' | 'unit' | 'cgroup'>>;
}
const caches = new WeakMap<Host, HostCache>();

/** Every listening TCP socket of a host with its holders. New sockets and new PIDs are looked up once, not every refresh. */
export async function listListeners(host: Host, options: RunOptions = {}): Promise<Listener[]> {
  // tcp6 is missing where IPv6 is off: cat then exits 1 with what it could read.
  const { stdout } = await host.run(['cat', '--', '/proc/net/tcp', '/proc/net/tcp6'], { ...options, okExitCodes: [0, 1] });
  const sockets = parseProcNetTcp(stdout);
  const cache: HostCache = caches.get(host) ?? { owners: new Map(), processes: new Map() };
  caches.set(host, cache);
  const live = new Set(sockets.map((s) => s.inode));
  for (const inode of cache.owners.keys()) if (!live.has(inode)) cache.owners.delete(inode);
  const unknown = sockets.map((s) => s.inode).filter((inode) => !cache.owners.has(inode));
  if (unknown.length > 0) {
    // Without root, other users' /proc/PID/fd cannot be read: find says so and exits 1.
    const found = parseSocketOwners((await host.run(socketOwnersArgv(unknown), { ...options, okExitCodes: [0, 1], maxOutputBytes: 4 * 1024 * 1024 })).stdout);
    for (const inode of unknown) cache.owners.set(inode, found.get(inode) ?? []);
  }
  const pids = [...new Set([...cache.owners.values()].flat())];
  for (const pid of cache.processes.keys()) if (!pids.includes(pid)) cache.processes.delete(pid);
  const newPids = pids.filter((pid) => !cache.processes.has(pid));
  if (newPids.length > 0) {
    for (const [pid, facts] of await readProcesses(host, newPids, options)) {
      cache.processes.set(pid, { process: sanitizeLine(facts.name), command: commandLine(facts.argv), unit: facts.unit, cgroup: facts.cgroup });
    }
  }

  const listeners: Listener[] = [];
  for (const socket of sockets) {
    const holders = (cache.owners.get(socket.inode) ?? []).filter((pid) => cache.processes.has(pid));
    if (holders.length === 0) {
      listeners.push({ address: socket.address, port: socket.port, pid: null, process: '', command: '', unit: null, cgroup: null });
      continue;
    }
    for (const pid of holders) {
      listeners.push({ address: socket.address, port: socket.port, pid, ...cache.processes.get(pid)! });
    }
  }
  return listeners.sort((a, b) => a.port - b.port || a.address.localeCompare(b.address) || (a.pid ?? 0) - (b.pid ?? 0));
}
