// Listening TCP sockets and who holds them: `ss -ltnpH` gives port and PID; one `grep` over
// /proc/PID/{cmdline,cgroup} gives each PID's command line and the systemd unit whose cgroup
// holds it. A PID in no service unit (a process started by hand) has `unit: null`.
import type { Host, RunOptions } from './host.js';
import { sanitizeLine } from './sanitize.js';

export interface Listener {
  address: string;
  port: number;
  pid: number | null;
  process: string;
  command: string;
  /** The service (or transient scope) unit holding the PID; null when none does. */
  unit: string | null;
  /** The PID's cgroup path, as the host's systemd sees it. */
  cgroup: string | null;
}

interface SocketRow {
  address: string;
  port: number;
  owners: Array<{ process: string; pid: number }>;
}

/** Parse `ss -ltnpH` output. Lines look like:
 *  LISTEN 0 511 127.0.0.1:3444 0.0.0.0:* users:(("node",pid=123,fd=20)) */
export function parseSs(stdout: string): SocketRow[] {
  const rows: SocketRow[] = [];
  for (const line of stdout.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 4 || fields[0] !== 'LISTEN') continue;
    const local = fields[3]!;
    const colon = local.lastIndexOf(':');
    if (colon < 0) continue;
    const port = Number(local.slice(colon + 1));
    if (!Number.isInteger(port)) continue;
    let address = local.slice(0, colon).replace(/^\[|\]$/g, '');
    address = address.replace(/%.*$/, '');
    const owners: SocketRow['owners'] = [];
    const users = line.slice(line.indexOf('users:') >= 0 ? line.indexOf('users:') : line.length);
    for (const match of users.matchAll(/\("((?:[^"\\]|\\.)*)",pid=(\d+),fd=\d+\)/g)) {
      owners.push({ process: match[1]!, pid: Number(match[2]) });
    }
    rows.push({ address, port, owners });
  }
  return rows;
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

/** Split `grep -H ''` output over /proc files into file -> content. */
export function parseProcGrep(stdout: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const match = line.match(/^(\/proc\/\d+\/(?:cmdline|cgroup)):(.*)$/s);
    if (!match) continue;
    const [, file, content] = match as unknown as [string, string, string];
    files.set(file, files.has(file) ? `${files.get(file)}\n${content}` : content);
  }
  return files;
}

const knownProcesses = new WeakMap<Host, Map<number, Map<string, string>>>();

export async function listListeners(host: Host, options: RunOptions = {}): Promise<Listener[]> {
  const { stdout } = await host.run(['ss', '-ltnpH'], options);
  const rows = parseSs(stdout);
  const pids = [...new Set(rows.flatMap((r) => r.owners.map((o) => o.pid)))];
  // A listening PID keeps its command line and cgroup: look each one up once, not every refresh.
  const known = knownProcesses.get(host) ?? new Map<number, Map<string, string>>();
  const unknown = pids.filter((pid) => !known.has(pid));
  if (unknown.length > 0) {
    // -a: cmdline holds NULs; -s: a process may exit between the two calls (exit code 2).
    const files = unknown.flatMap((pid) => [`/proc/${pid}/cmdline`, `/proc/${pid}/cgroup`]);
    const grep = await host.run(['grep', '-H', '-a', '-s', '', '--', ...files], { ...options, okExitCodes: [0, 1, 2] });
    const found = parseProcGrep(grep.stdout);
    for (const pid of unknown) {
      if (found.has(`/proc/${pid}/cgroup`)) known.set(pid, new Map([...found].filter(([file]) => file.startsWith(`/proc/${pid}/`))));
    }
  }
  for (const pid of known.keys()) if (!pids.includes(pid)) known.delete(pid);
  knownProcesses.set(host, known);
  const proc = new Map([...known.values()].flatMap((files) => [...files]));
  const listeners: Listener[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    const owners = row.owners.length > 0 ? row.owners : [{ process: '', pid: 0 }];
    for (const owner of owners) {
      const key = `${row.address}|${row.port}|${owner.pid}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const pid = owner.pid || null;
      const cgroup = pid ? cgroupPath(proc.get(`/proc/${pid}/cgroup`) ?? '') : null;
      const rawCommand = pid ? (proc.get(`/proc/${pid}/cmdline`) ?? '') : '';
      listeners.push({
        address: row.address,
        port: row.port,
        pid,
        process: sanitizeLine(owner.process),
        command: sanitizeLine(rawCommand.replace(/\0+$/, '').replace(/\0/g, ' ')),
        unit: unitOfCgroup(cgroup),
        cgroup,
      });
    }
  }
  return listeners.sort((a, b) => a.port - b.port || a.address.localeCompare(b.address));
}
