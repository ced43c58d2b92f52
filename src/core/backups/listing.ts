// Archives in an environment's backups directory: name, size, age, newest first.
import type { Host, RunOptions } from '../host/host.js';
import { secondsSince } from '../text/humanize.js';
import { sanitizeLine } from '../text/sanitize.js';
import { PARTIAL_SUFFIX } from './policy.js';

export interface Archive {
  name: string;
  path: string;
  sizeBytes: number;
  modifiedAt: string;
}

export interface BackupListing {
  dir: string;
  archives: Archive[];
  /** Archives being written, or left by a create that was cut off (NAME.partial): never archives. */
  partials: Archive[];
  /** What opsdeck wrote beside the archives (NAME.sha256, NAME.manifest.json, NAME.verified.json), by name. */
  sidecars: Map<string, Archive>;
  newest: Archive | null;
  /** Seconds since the newest archive was written; null when there is none. */
  newestAgeSec: number | null;
  error: string | null;
}

const ARCHIVE = /\.(tar|tar\.gz|tgz|tar\.zst|tar\.xz|tar\.bz2|zip)$/;
const SIDECAR = /\.(tar|tar\.gz|tgz|tar\.zst)\.(sha256|manifest\.json|verified\.json)$/;

/**
 * find prints "SIZE<TAB>MTIME<TAB>NAME<NUL>" per file: a file name may hold newlines and tabs,
 * never a NUL or a "/", so the name comes last and every record ends at a NUL. (Read by lines,
 * a name holding "\n123\t1700000000\tdata-….tar.gz" once forged an archive, hiding stale ones.)
 */
export function listArchivesArgv(dir: string): string[] {
  // -H: the configured directory may itself be a link; nothing inside it is followed.
  return ['find', '-H', dir, '-mindepth', '1', '-maxdepth', '1', '-type', 'f', '-printf', '%s\\t%T@\\t%f\\0'];
}

export function parseFindListing(dir: string, stdout: Buffer | string, now = Date.now()): BackupListing {
  const archives: Archive[] = [];
  const partials: Archive[] = [];
  const sidecars = new Map<string, Archive>();
  const text = typeof stdout === 'string' ? stdout : stdout.toString('utf8');
  for (const record of text.split('\0')) {
    const match = /^(\d+)\t(\d+(?:\.\d+)?)\t([^/]+)$/s.exec(record);
    if (!match) continue;
    const name = match[3]!;
    const file = { name: sanitizeLine(name), path: `${dir.replace(/\/$/, '')}/${name}`, sizeBytes: Number(match[1]), modifiedAt: new Date(Number(match[2]) * 1000).toISOString() };
    if (ARCHIVE.test(name)) archives.push(file);
    else if (name.endsWith(PARTIAL_SUFFIX) && ARCHIVE.test(name.slice(0, -PARTIAL_SUFFIX.length))) partials.push(file);
    else if (SIDECAR.test(name)) sidecars.set(name, file);
  }
  archives.sort((a, b) => b.modifiedAt.localeCompare(a.modifiedAt));
  const newest = archives[0] ?? null;
  return {
    dir,
    archives,
    partials,
    sidecars,
    newest,
    newestAgeSec: newestAge(newest, now),
    error: null,
  };
}

/** Whole seconds since the newest archive was written (0 if its clock is ahead), null without one. */
export function newestAge(newest: Archive | null, now = Date.now()): number | null {
  return newest ? Math.max(0, Math.round(secondsSince(newest.modifiedAt, now))) : null;
}

export async function listArchives(host: Host, dir: string, options: RunOptions = {}): Promise<BackupListing> {
  const result = await host.run(listArchivesArgv(dir), { ...options, okExitCodes: [0, 1] });
  if (result.exitCode !== 0) {
    const reason = /No such file/.test(result.stderr) ? 'directory does not exist' : sanitizeLine(result.stderr.trim()) || 'cannot list';
    return { dir, archives: [], partials: [], sidecars: new Map(), newest: null, newestAgeSec: null, error: `${dir}: ${reason}` };
  }
  return parseFindListing(dir, result.stdoutBytes);
}
