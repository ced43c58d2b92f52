// What a directory tree holds, in one `find` on its host: counts, bytes, and its newest file.
// The pre-scan of a backup (progress against a known total), the freshness side of source
// sanity, and the check of a test extraction against its manifest all read this.
// find prints "TYPE\tSIZE\tMTIME\tLINKS\tINODE\tPATH\0": a name may hold tabs and newlines, never
// a NUL, so the name comes last and a NUL ends every record (no name can forge another record).
import type { Host, RunOptions } from '../host/host.js';
import { sanitizeLine } from '../text/sanitize.js';

export interface ScanEntry {
  type: 'file' | 'directory' | 'link' | 'other';
  size: number;
  /** Seconds since the epoch (fractional). */
  mtime: number;
}

/** What a tree holds, however it was counted (a find, an archive read, tar's listing). */
export interface TreeCounts {
  /** Regular files, directories below the top, symbolic links, anything else (FIFOs, sockets, devices). */
  files: number;
  dirs: number;
  links: number;
  others: number;
  /** Bytes of the regular files, each file's content once (hard links to one inode count once). */
  bytes: number;
  /** The newest regular file's mtime (seconds since the epoch) and path (relative, safe to print). */
  newestMtime: number | null;
  newestPath: string | null;
}

export interface TreeScan extends TreeCounts {
  dir: string;
  exists: boolean;
  /** Paths find could not read (a directory it may not enter), safe to print. */
  unreadable: string[];
  /** Per relative path (decoded as UTF-8), when asked for: to compare a tree with an archive. */
  entries?: Map<string, ScanEntry>;
}

const TYPES: Record<string, ScanEntry['type']> = { f: 'file', d: 'directory', l: 'link' };

/** -H: the top may be a link (a data dir often is); nothing below it is followed. -xdev is not set: a tree on two file systems is still one tree. */
export function scanArgv(dir: string): string[] {
  return ['find', '-H', dir, '-mindepth', '1', '-printf', '%y\\t%s\\t%T@\\t%n\\t%i\\t%P\\0'];
}

export function parseScan(dir: string, stdout: Buffer, keepEntries = false): TreeScan {
  const scan: TreeScan = { dir, exists: true, files: 0, dirs: 0, links: 0, others: 0, bytes: 0, newestMtime: null, newestPath: null, unreadable: [] };
  const entries = keepEntries ? new Map<string, ScanEntry>() : undefined;
  let newestRaw: Buffer | null = null;
  // Inodes of files with more than one name, seen already: their content counts once (as tar stores it).
  const linked = new Set<string>();
  let start = 0;
  while (start < stdout.length) {
    let end = stdout.indexOf(0, start);
    if (end < 0) end = stdout.length;
    const record = stdout.subarray(start, end);
    start = end + 1;
    // TYPE \t SIZE \t MTIME \t LINKS \t INODE \t PATH: the first five fields are ASCII, the path is bytes.
    const tabs: number[] = [];
    for (let at = -1; tabs.length < 5; ) {
      at = record.indexOf(9, at + 1);
      if (at < 0) break;
      tabs.push(at);
    }
    if (tabs.length < 5) continue;
    const field = (i: number) => record.subarray(i === 0 ? 0 : tabs[i - 1]! + 1, tabs[i]).toString('latin1');
    const kind = TYPES[field(0)] ?? 'other';
    const size = Number(field(1));
    const mtime = Number(field(2));
    if (!Number.isFinite(size) || !Number.isFinite(mtime)) continue;
    const rawPath = record.subarray(tabs[4]! + 1);
    if (kind === 'file') {
      scan.files++;
      const inode = Number(field(3)) > 1 ? field(4) : null;
      if (inode === null || !linked.has(inode)) scan.bytes += size;
      if (inode !== null) linked.add(inode);
      if (scan.newestMtime === null || mtime > scan.newestMtime) {
        scan.newestMtime = mtime;
        newestRaw = rawPath;
      }
    } else if (kind === 'directory') scan.dirs++;
    else if (kind === 'link') scan.links++;
    else scan.others++;
    entries?.set(rawPath.toString('utf8'), { type: kind, size, mtime });
  }
  scan.newestPath = newestRaw ? sanitizeLine(newestRaw.toString('utf8')) : null;
  if (entries) scan.entries = entries;
  return scan;
}

/** find's complaints about what it could not read ("find: 'X': Permission denied"), as printable paths. */
function unreadablePaths(stderr: string): string[] {
  const out: string[] = [];
  for (const line of stderr.split('\n')) {
    const match = /^find: ['‘](.*)['’]: (Permission denied|Input\/output error)$/.exec(line);
    if (match) out.push(sanitizeLine(`${match[1]} (${match[2]})`));
  }
  return out;
}

export async function scanTree(host: Host, dir: string, options: RunOptions & { keepEntries?: boolean } = {}): Promise<TreeScan> {
  const { keepEntries, ...run } = options;
  const result = await host.run(scanArgv(dir), { timeoutMs: 120_000, ...run, okExitCodes: [0, 1] });
  if (result.exitCode !== 0 && /No such file or directory/.test(result.stderr) && result.stdoutBytes.length === 0) {
    return { dir, exists: false, files: 0, dirs: 0, links: 0, others: 0, bytes: 0, newestMtime: null, newestPath: null, unreadable: [] };
  }
  const scan = parseScan(dir, result.stdoutBytes, keepEntries);
  scan.unreadable = unreadablePaths(result.stderr);
  return scan;
}
