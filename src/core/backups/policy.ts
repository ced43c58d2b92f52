// An environment's backup policy as opsdeck applies it: the config's backups: block with its
// defaults filled in (the source is the data dir unless said otherwise), and how archives are
// named: PREFIX + YYYYMMDD_HHMMSS (UTC) + .tar.gz | .tar.zst, as the seeds' job named them
// (data-20251002_001300.tar.gz), so the old job's archives sort, prune and restore alongside.
import path from 'node:path';
import type { BackupPolicy, EnvironmentConfig } from '../../config/schema.js';
import { UsageError } from '../text/errors.js';

export type Compression = 'gzip' | 'zstd';

export interface ResolvedPolicy extends BackupPolicy {
  /** The directory archived: policy.source, else the environment's dataDir. */
  source: string;
}

export function resolvePolicy(envName: string, env: EnvironmentConfig, file: string | null): ResolvedPolicy {
  const policy = env.backups;
  if (!policy) throw new UsageError(`environment ${envName} has no backups configured`, `add backups: { dir: /path/to/archives } to it in ${file ?? 'opsdeck.yaml'}`);
  const source = policy.source ?? env.dataDir;
  if (!source) throw new UsageError(`environment ${envName}: backups has no source, and the environment no dataDir`, `add dataDir: (the directory the service writes to) or backups.source: to it in ${file ?? 'opsdeck.yaml'}`);
  if (isInside(policy.dir, source)) throw new UsageError(`environment ${envName}: backups.dir ${policy.dir} is inside the source ${source}`, 'archives kept inside the data they archive would archive themselves: put them beside it');
  return { ...policy, source };
}

/** `child` is `parent` or below it (paths as written, normalized). */
export function isInside(child: string, parent: string): boolean {
  const c = path.posix.normalize(child).replace(/\/$/, '');
  const p = path.posix.normalize(parent).replace(/\/$/, '');
  return c === p || c.startsWith(`${p}/`);
}

export const EXTENSION: Record<Compression, string> = { gzip: '.tar.gz', zstd: '.tar.zst' };

/** The compression an archive's name says it has, or null for a name opsdeck cannot read. */
export function compressionOf(name: string): Compression | 'none' | null {
  if (/\.(tar\.gz|tgz)$/.test(name)) return 'gzip';
  if (/\.tar\.zst$/.test(name)) return 'zstd';
  if (/\.tar$/.test(name)) return 'none';
  return null;
}

/** 20261129_183000: UTC, the seeds' format. */
export function stampOf(when: Date): string {
  return when.toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
}

/** What a safety archive (taken before a restore) has after its time: retention never takes it. */
export const SAFETY_SUFFIX = '-before-restore';

export function archiveName(policy: Pick<BackupPolicy, 'prefix' | 'compression'>, when: Date, suffix = ''): string {
  return `${policy.prefix}${stampOf(when)}${suffix}${EXTENSION[policy.compression]}`;
}

/** When an archive was made, from its name (PREFIX + stamp), else null (then its mtime counts). */
export function timeFromName(name: string, prefix: string): Date | null {
  if (!name.startsWith(prefix)) return null;
  const match = /^(\d{4})(\d\d)(\d\d)_(\d\d)(\d\d)(\d\d)/.exec(name.slice(prefix.length));
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  const date = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
  return Number.isNaN(date.getTime()) ? null : date;
}

/** What opsdeck writes beside an archive. */
export const SIDECARS = {
  /** `sha256sum` format: `sha256sum -c NAME.sha256` checks it by hand. */
  checksum: (archive: string) => `${archive}.sha256`,
  /** What the archive holds and where it came from (manifest.ts). */
  manifest: (archive: string) => `${archive}.manifest.json`,
  /** The last verify's result. */
  verified: (archive: string) => `${archive}.verified.json`,
} as const;

/** An archive being written: never listed as an archive, removed when its writer is gone. */
export const PARTIAL_SUFFIX = '.partial';
/** A partial younger than this may be a create writing it now: prune leaves it. */
export const PARTIAL_LEFT_OVER_SEC = 3600;
export function partialName(archive: string): string {
  return `${archive}${PARTIAL_SUFFIX}`;
}
