// Archives in an environment's backups directory: name, size, age, newest first.
import type { Host, RunOptions } from './host.js';
import { secondsSince } from './humanize.js';
import { sanitizeLine } from './sanitize.js';

export interface Archive {
  name: string;
  path: string;
  sizeBytes: number;
  modifiedAt: string;
}

export interface BackupListing {
  dir: string;
  archives: Archive[];
  newest: Archive | null;
  /** Seconds since the newest archive was written; null when there is none. */
  newestAgeSec: number | null;
  error: string | null;
}

const ARCHIVE = /\.(tar|tar\.gz|tgz|tar\.zst|tar\.xz|tar\.bz2|zip)$/;

export function parseFindListing(dir: string, stdout: string, now = Date.now()): BackupListing {
  const archives: Archive[] = [];
  for (const line of stdout.split('\n')) {
    const [name, size, mtime] = line.split('\t');
    if (!name || !size || !mtime || !ARCHIVE.test(name)) continue;
    archives.push({
      name: sanitizeLine(name),
      path: `${dir.replace(/\/$/, '')}/${name}`,
      sizeBytes: Number(size),
      modifiedAt: new Date(Number(mtime) * 1000).toISOString(),
    });
  }
  archives.sort((a, b) => b.modifiedAt.localeCompare(a.modifiedAt));
  const newest = archives[0] ?? null;
  return {
    dir,
    archives,
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
  const result = await host.run(['find', dir, '-maxdepth', '1', '-type', 'f', '-printf', '%f\\t%s\\t%T@\\n'], { ...options, okExitCodes: [0, 1] });
  if (result.exitCode !== 0) {
    const reason = /No such file/.test(result.stderr) ? 'directory does not exist' : sanitizeLine(result.stderr.trim()) || 'cannot list';
    return { dir, archives: [], newest: null, newestAgeSec: null, error: `${dir}: ${reason}` };
  }
  return parseFindListing(dir, result.stdout);
}
