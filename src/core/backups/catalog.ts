// The backups of an environment as an operator judges them: every archive in the directory
// (opsdeck's and the old job's alike), newest first, with when it was made, what it holds
// (from its manifest), whether and when it was verified, and an alarm when it is much smaller
// or holds far fewer files than the one before (a job that suddenly archives the wrong thing).
// The sidecars are read in one `cat` per listing, split by the sizes find reported; they are
// untrusted and checked (manifest.ts). Read once per file version, cached.
import path from 'node:path';
import type { Host, RunOptions } from '../host/host.js';
import { listArchives, type Archive, type BackupListing } from './listing.js';
import { parseManifest, parseVerifyRecord, type Manifest, type VerifyRecord } from './manifest.js';
import { compressionOf, SAFETY_SUFFIX, SIDECARS, timeFromName, type ResolvedPolicy } from './policy.js';

export interface CatalogEntry extends Archive {
  /** When it was made: the time in its name, else its mtime. */
  madeAt: string;
  compression: 'gzip' | 'zstd' | 'none' | null;
  manifest: Manifest | null;
  /** The last verify of this very file (same size and mtime), or null. */
  verified: VerifyRecord | null;
  /** Its name follows the policy (PREFIX + time): prune may remove it. */
  managed: boolean;
  /** A safety archive taken before a restore: never pruned (the restore's way back). */
  safety: boolean;
  /** Much smaller, or far fewer files, than the archive before it. */
  alarm: string | null;
}

export interface BackupCatalog {
  dir: string;
  entries: CatalogEntry[];
  partials: Archive[];
  error: string | null;
}

/** An archive this much smaller than the one before it (or with this much fewer files) is an alarm. */
const SHRINK_ALARM = 0.5;

const MAX_SIDECAR = 256 * 1024;
const cache = new Map<string, Manifest | VerifyRecord | null>();
const cacheKey = (host: Host, file: Archive) => `${host.name}\0${file.path}\0${file.sizeBytes}\0${file.modifiedAt}`;

/** Read small files in one command: `cat` of all, split at the sizes the listing gave. A file that changed meanwhile makes the lengths disagree: then each is read alone. */
async function readSidecars(host: Host, files: Archive[], options: RunOptions): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const wanted = files.filter((f) => f.sizeBytes <= MAX_SIDECAR);
  if (wanted.length === 0) return out;
  const batch = async (list: Archive[]) => {
    const result = await host.run(['cat', '--', ...list.map((f) => f.path)], { ...options, okExitCodes: [0, 1], maxOutputBytes: MAX_SIDECAR * list.length + 1 });
    const expected = list.reduce((n, f) => n + f.sizeBytes, 0);
    if (result.exitCode !== 0 || result.stdoutBytes.length !== expected) return false;
    let at = 0;
    for (const f of list) {
      out.set(f.path, result.stdoutBytes.subarray(at, at + f.sizeBytes));
      at += f.sizeBytes;
    }
    return true;
  };
  for (let i = 0; i < wanted.length; i += 200) {
    const chunk = wanted.slice(i, i + 200);
    if (!(await batch(chunk))) for (const f of chunk) await batch([f]).catch(() => false);
  }
  return out;
}

/** An archive without a manifest (another job's; or any, where the sidecars are not read, as in the doctor's rule) written to this recently may still be being written under its final name: not judged yet. */
const WRITING_MS = 60_000;

export function buildCatalog(listing: BackupListing, policy: Pick<ResolvedPolicy, 'prefix'>, sidecar: (archive: Archive, kind: 'manifest' | 'verified') => Manifest | VerifyRecord | null, now = Date.now()): BackupCatalog {
  const entries: CatalogEntry[] = listing.archives.map((a) => {
    const raw = path.posix.basename(a.path);
    const named = timeFromName(raw, policy.prefix);
    const manifest = sidecar(a, 'manifest') as Manifest | null;
    const verified = sidecar(a, 'verified') as VerifyRecord | null;
    const sameFile = verified && verified.archiveBytes === a.sizeBytes && Math.abs(verified.archiveMtime - Date.parse(a.modifiedAt) / 1000) < 1;
    const safety = raw.includes(SAFETY_SUFFIX);
    return { ...a, madeAt: (named ?? new Date(a.modifiedAt)).toISOString(), compression: compressionOf(raw), manifest, verified: sameFile ? verified : null, managed: named !== null && !safety, safety, alarm: null };
  });
  entries.sort((x, y) => y.madeAt.localeCompare(x.madeAt));
  for (let i = 0; i < entries.length - 1; i++) {
    const entry = entries[i]!;
    const maybeWriting = !entry.manifest && now - Date.parse(entry.modifiedAt) < WRITING_MS;
    entry.alarm = maybeWriting ? null : shrinkAlarm(entry, entries[i + 1]!);
  }
  return { dir: listing.dir, entries, partials: listing.partials, error: listing.error };
}

/** Why `archive` looks wrong next to the one made before it, or null. */
export function shrinkAlarm(archive: CatalogEntry, before: CatalogEntry): string | null {
  if (before.sizeBytes > 0 && archive.sizeBytes < before.sizeBytes * SHRINK_ALARM) return `${Math.floor((1 - archive.sizeBytes / before.sizeBytes) * 100)}% smaller than ${before.name}`; // floor: 99.9 % is not "100 % smaller"
  if (archive.manifest && before.manifest && before.manifest.files > 0 && archive.manifest.files < before.manifest.files * SHRINK_ALARM) return `${archive.manifest.files} files, ${before.manifest.files} in ${before.name}`;
  return null;
}

export async function readCatalog(host: Host, policy: Pick<ResolvedPolicy, 'dir' | 'prefix'>, options: RunOptions = {}): Promise<BackupCatalog> {
  return catalogOf(host, await listArchives(host, policy.dir, options), policy, options);
}

/** The catalog of a listing already made (the status has one): only sidecars not seen before are read. */
export async function catalogOf(host: Host, listing: BackupListing, policy: Pick<ResolvedPolicy, 'prefix'>, options: RunOptions = {}): Promise<BackupCatalog> {
  const needed: Archive[] = [];
  const sidecarOf = (a: Archive, kind: 'manifest' | 'verified') => listing.sidecars.get(path.posix.basename(kind === 'manifest' ? SIDECARS.manifest(a.path) : SIDECARS.verified(a.path)));
  for (const a of listing.archives) {
    for (const kind of ['manifest', 'verified'] as const) {
      const file = sidecarOf(a, kind);
      if (file && !cache.has(cacheKey(host, file))) needed.push(file);
    }
  }
  const read = await readSidecars(host, needed, options);
  for (const file of needed) {
    const bytes = read.get(file.path);
    if (!bytes) continue;
    const text = bytes.toString('utf8');
    cache.set(cacheKey(host, file), file.name.endsWith('.manifest.json') ? parseManifest(text) : parseVerifyRecord(text));
  }
  if (cache.size > 10_000) cache.clear();
  return buildCatalog(listing, policy, (a, kind) => {
    const file = sidecarOf(a, kind);
    return file ? (cache.get(cacheKey(host, file)) ?? null) : null;
  });
}
