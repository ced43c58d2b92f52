// The manifest opsdeck writes beside each archive it makes (NAME.manifest.json): where the
// archive came from and what it holds, so verify can compare a test extraction with it and
// source sanity can tell, without opening the archive, how fresh the data inside it is. Read
// back from a host it is untrusted: every field is checked, texts are made safe to print.
import { sanitizeLine } from '../text/sanitize.js';
import type { Compression } from './policy.js';
import type { TreeCounts } from './scan.js';

/** What is inside (TreeCounts): regular files, directories, links, others; bytes of the regular files; the newest file. */
export interface Manifest extends TreeCounts {
  version: 1;
  archive: string;
  environment: string;
  host: string;
  /** The directory archived. */
  source: string;
  compression: Compression;
  /** The program that compressed it (gzip, pigz, zstd). */
  compressor: string;
  sha256: string;
  /** Bytes of the archive file. */
  archiveBytes: number;
  /** Files that changed while tar read them (their content in the archive may be torn). */
  changedWhileReading: string[];
  /** The environment's unit when the archive was made (active/running, failed…), or null without one. */
  unitState: string | null;
  startedAt: string;
  finishedAt: string;
  /** The operation that made it. */
  operation: string | null;
  createdBy: string;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isText = (v: unknown): v is string => typeof v === 'string' && v.length <= 4096;

/** A JSON object from a host's file, or null when the text is not one. */
function jsonObject(text: string): Record<string, unknown> | null {
  try {
    const raw: unknown = JSON.parse(text);
    return typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** A manifest read from a host, checked; null when it is not one opsdeck wrote. */
export function parseManifest(text: string): Manifest | null {
  const m = jsonObject(text);
  if (!m) return null;
  if (m.version !== 1 || !isText(m.sha256) || !/^[0-9a-f]{64}$/.test(m.sha256)) return null;
  if (![m.archiveBytes, m.files, m.dirs, m.links, m.others, m.bytes].every(isCount)) return null;
  if (m.compression !== 'gzip' && m.compression !== 'zstd') return null;
  const newest = m.newestMtime === null || (typeof m.newestMtime === 'number' && Number.isFinite(m.newestMtime)) ? (m.newestMtime as number | null) : null;
  const text_ = (v: unknown) => (isText(v) ? sanitizeLine(v) : '');
  return {
    version: 1,
    archive: text_(m.archive),
    environment: text_(m.environment),
    host: text_(m.host),
    source: text_(m.source),
    compression: m.compression,
    compressor: text_(m.compressor),
    sha256: m.sha256,
    archiveBytes: m.archiveBytes as number,
    files: m.files as number,
    dirs: m.dirs as number,
    links: m.links as number,
    others: m.others as number,
    bytes: m.bytes as number,
    newestMtime: newest,
    newestPath: m.newestPath === null ? null : text_(m.newestPath),
    changedWhileReading: Array.isArray(m.changedWhileReading) ? m.changedWhileReading.filter(isText).slice(0, 1000).map(sanitizeLine) : [],
    unitState: m.unitState === null ? null : text_(m.unitState),
    startedAt: text_(m.startedAt),
    finishedAt: text_(m.finishedAt),
    operation: m.operation === null ? null : text_(m.operation),
    createdBy: text_(m.createdBy),
  };
}

/** The result of the last verify, kept beside the archive (NAME.verified.json). */
export interface VerifyRecord {
  version: 1;
  archive: string;
  ok: boolean;
  verifiedAt: string;
  sha256: string | null;
  /** What each check found, in order: checksum, stream, extraction, manifest. */
  checks: Array<{ name: string; ok: boolean; detail: string }>;
  /** The archive's size and mtime when verified: a record of another file's content (the archive replaced since) does not count. */
  archiveBytes: number;
  archiveMtime: number;
  /** What the test extraction held (for an archive without a manifest, the only count there is). */
  files: number | null;
  bytes: number | null;
}

export function parseVerifyRecord(text: string): VerifyRecord | null {
  const r = jsonObject(text);
  if (!r) return null;
  if (r.version !== 1 || typeof r.ok !== 'boolean' || !isText(r.verifiedAt) || !isCount(r.archiveBytes) || typeof r.archiveMtime !== 'number') return null;
  const checks = Array.isArray(r.checks)
    ? r.checks.slice(0, 20).flatMap((c) => (typeof c === 'object' && c !== null && isText((c as Record<string, unknown>).name) && typeof (c as Record<string, unknown>).ok === 'boolean' ? [{ name: sanitizeLine((c as { name: string }).name), ok: (c as { ok: boolean }).ok, detail: isText((c as Record<string, unknown>).detail) ? sanitizeLine((c as { detail: string }).detail) : '' }] : []))
    : [];
  return { version: 1, archive: isText(r.archive) ? sanitizeLine(r.archive) : '', ok: r.ok, verifiedAt: sanitizeLine(r.verifiedAt), sha256: isText(r.sha256) && /^[0-9a-f]{64}$/.test(r.sha256) ? r.sha256 : null, checks, archiveBytes: r.archiveBytes, archiveMtime: r.archiveMtime, files: isCount(r.files) ? r.files : null, bytes: isCount(r.bytes) ? r.bytes : null };
}
