// Reading an archive on a host without unpacking it anywhere: its bytes stream from the host
// (`cat`, or `zstd -dc` since Node 20 has no zstd), are gunzipped and parsed here with
// node-tar, and only counts (and, when asked, a capped map of entries) are kept, so memory
// stays flat whatever the archive's size. A timeout or a signal stops the stream. Names inside
// an archive are untrusted: they are decoded as UTF-8 the way scan.ts decodes a tree's (so the
// two compare), used as map keys only, and sanitized before anything prints them.
import { createGunzip, type Gunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import type { Host } from '../host/host.js';
import { CommandError, UsageError } from '../text/errors.js';
import { sanitizeLine } from '../text/sanitize.js';
import { compressionOf } from './policy.js';
import type { ScanEntry, TreeCounts, TreeScan } from './scan.js';

/** Its counts as scan.ts counts a tree. */
export interface ArchiveSummary extends TreeCounts {
  /** The archive's path, safe to print. */
  archive: string;
  /** Relative path (no leading './', no trailing '/') -> entry, with keepEntries. Keys are NOT safe to print. */
  entries?: Map<string, ScanEntry>;
  /** The archive held more than maxEntries entries: the map has the first ones only (counts are complete). */
  entriesTruncated: boolean;
}

export interface SummarizeOptions {
  signal?: AbortSignal;
  keepEntries?: boolean;
  /** At most this many entries in the map (default 200,000). */
  maxEntries?: number;
  /** Stop reading after this long (default 120 s). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 120_000;
const DEFAULT_MAX_ENTRIES = 200_000;
const seconds = (ms: number) => `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;

/** What runs on the host: the archive's bytes, decompressed there only for zstd. */
export function readArchiveArgv(archivePath: string): string[] {
  const compression = compressionOf(archivePath);
  if (compression === null) {
    throw new UsageError(`cannot read ${sanitizeLine(archivePath)}: not a .tar, .tar.gz, .tgz or .tar.zst archive`);
  }
  return compression === 'zstd' ? ['zstd', '-q', '-d', '-c', '--', archivePath] : ['cat', '--', archivePath];
}

const KIND: Record<string, ScanEntry['type']> = {
  File: 'file', OldFile: 'file', ContiguousFile: 'file',
  Directory: 'directory', GNUDumpDir: 'directory',
  // A hard link is a file of its own name whose content is stored once (size 0 here), as
  // MemberTally and scan.ts count it: an archive's counts agree with its manifest's.
  Link: 'file',
  SymbolicLink: 'link',
};

/** An entry's path as scan.ts keys a tree: relative, without './' or a trailing '/'; '' for the top itself. */
export function entryKey(entryPath: string): string {
  return entryPath.replace(/^(?:\.?\/+)+/, '').replace(/\/+$/, '').replace(/\/{2,}/g, '/').replace(/^\.$/, '');
}

function newSummary(archive: string, keepEntries: boolean): ArchiveSummary {
  const summary: ArchiveSummary = { archive: sanitizeLine(archive), files: 0, dirs: 0, links: 0, others: 0, bytes: 0, newestMtime: null, newestPath: null, entriesTruncated: false };
  if (keepEntries) summary.entries = new Map();
  return summary;
}

function count(summary: ArchiveSummary, entry: ReadEntry, maxEntries: number): void {
  const key = entryKey(entry.path);
  if (key === '') return; // the top directory ('./'): a tree scan does not count it either
  const type = KIND[entry.type] ?? 'other';
  const size = entry.size ?? 0;
  const mtime = entry.mtime ? entry.mtime.getTime() / 1000 : 0;
  if (type === 'file') {
    summary.files++;
    summary.bytes += size;
    if (summary.newestMtime === null || mtime > summary.newestMtime) {
      summary.newestMtime = mtime;
      summary.newestPath = sanitizeLine(key);
    }
  } else if (type === 'directory') summary.dirs++;
  else if (type === 'link') summary.links++;
  else summary.others++;
  if (!summary.entries) return;
  if (summary.entries.size < maxEntries) summary.entries.set(key, { type, size, mtime });
  else summary.entriesTruncated = true;
}

/** Count what an archive on a host holds, streaming it through node-tar; a clear error when it cannot be read to its end. */
export async function summarizeArchive(host: Host, archivePath: string, options: SummarizeOptions = {}): Promise<ArchiveSummary> {
  const argv = readArchiveArgv(archivePath);
  const shown = sanitizeLine(archivePath);
  const summary = newSummary(archivePath, options.keepEntries ?? false);
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  if (options.signal?.aborted) throw new CommandError({ host: host.name, argv, message: `reading ${shown} on host ${host.name} was cancelled` });

  const handle = host.stream(argv, { signal: options.signal });
  // strict: every warning (checksum failure, truncated input, not a tar at all) is an error.
  // The parser still sniffs gzip/zstd magic in the first bytes: zstd is turned off, and gzip is
  // gunzipped before it, so only a first entry named "\x1f\x8b…" could confuse it (an error, not a wrong answer).
  const parser = new Parser({ strict: true, zstd: false, brotli: false });
  let parseError: Error | null = null;
  let stopped: 'timeout' | 'cancelled' | null = null;
  let wake = () => {};
  parser.on('entry', (entry: ReadEntry) => {
    count(summary, entry, maxEntries);
    entry.resume(); // the content is not needed: let it flow past
  });
  parser.on('ignoredEntry', (entry: ReadEntry) => {
    if (!entry.meta) count(summary, entry, maxEntries); // a type node-tar does not know
  });
  parser.on('error', (error: Error) => {
    parseError ??= error;
    wake();
  });
  const parsed = new Promise<void>((resolve) => parser.on('end', resolve));

  // Whether the command's output reached its end: then it is exiting by itself, and must not be
  // killed on the way (its exit code and stderr say more than the parser that ran out of input).
  let outputEnded = false;
  handle.stdout.once('end', () => (outputEnded = true));
  const gunzip: Gunzip | null = compressionOf(archivePath) === 'gzip' ? createGunzip() : null;
  const body: AsyncIterable<Buffer> = gunzip ? (handle.stdout.pipe(gunzip) as AsyncIterable<Buffer>) : (handle.stdout as AsyncIterable<Buffer>);
  const stop = (why: 'timeout' | 'cancelled') => {
    stopped ??= why;
    handle.stop();
    gunzip?.destroy();
    wake();
  };
  const timer = setTimeout(() => stop('timeout'), options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const onAbort = () => stop('cancelled');
  options.signal?.addEventListener('abort', onAbort, { once: true });

  let streamError: Error | null = null;
  try {
    for await (const chunk of body) {
      if (!parser.write(chunk) && !parseError && !stopped) await new Promise<void>((resolve) => ((wake = resolve), parser.once('drain', resolve)));
      if (parseError || stopped) break;
    }
    if (!parseError && !stopped) {
      parser.end();
      if (!parseError) await Promise.race([parsed, new Promise<void>((resolve) => (wake = resolve))]);
    }
  } catch (error) {
    streamError = error as Error; // gunzip: corrupt or truncated data
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
  if ((parseError || streamError) && !outputEnded) handle.stop(); // it stopped making sense midway: no need to read on
  const outcome = await handle.done;

  const base = { host: host.name, argv, stderr: outcome.stderr };
  if (stopped === 'timeout') {
    throw new CommandError({ ...base, kind: 'timeout', message: `reading ${shown} on host ${host.name} did not finish within ${seconds(options.timeoutMs ?? DEFAULT_TIMEOUT_MS)}`, hint: 'the archive may be very large, or the host slow: try again with a longer timeout' });
  }
  if (stopped === 'cancelled') throw new CommandError({ ...base, message: `reading ${shown} on host ${host.name} was cancelled` });
  // What the command said (no such file, zstd's own complaint) explains more than what it left unparsed.
  const failure = host.failure(argv, outcome.exitCode, outcome.stderr);
  if (failure) throw failure;
  if (outcome.exitCode !== undefined && outcome.exitCode !== 0) {
    throw new CommandError({
      ...base,
      exitCode: outcome.exitCode,
      message: `cannot read ${shown} on host ${host.name}: \`${argv.slice(0, -2).join(' ')}\` exited ${outcome.exitCode}${outcome.stderr ? `: ${outcome.stderr.split('\n')[0]}` : ''}`,
      ...(argv[0] === 'zstd' ? { hint: 'zstd could not decompress it: the archive is damaged, or not zstd' } : {}),
    });
  }
  const damage = streamError ?? parseError;
  if (damage) {
    const what = !streamError ? 'it is not a valid tar archive, or it is truncated' : gunzip ? 'its gzip data is corrupt or truncated' : 'its data could not be read';
    throw new CommandError({
      ...base,
      message: `archive ${shown} on host ${host.name} is damaged: ${what} (${sanitizeLine(damage.message)})`,
      hint: 'do not count on it for a restore; make a new backup, and check the disk it is on',
    });
  }
  if (outcome.exitCode === undefined) throw new CommandError({ ...base, message: `reading ${shown} on host ${host.name} ended without an exit code (was it killed?)` });
  return summary;
}

export interface TreeMatch {
  /** Regular files in the archive (in its entry map) and how many the tree has with the same size and mtime. */
  total: number;
  matched: number;
}

/**
 * How many of an archive's regular files a tree holds unchanged: same relative path, same
 * size, and an mtime within a second (tar keeps whole seconds, find prints fractions).
 */
export function matchTree(archive: Pick<ArchiveSummary, 'entries'>, tree: Pick<TreeScan, 'entries'>): TreeMatch {
  let total = 0;
  let matched = 0;
  for (const [key, entry] of archive.entries ?? []) {
    if (entry.type !== 'file') continue;
    total++;
    const other = tree.entries?.get(key);
    if (other?.type === 'file' && other.size === entry.size && Math.abs(other.mtime - entry.mtime) < 1) matched++;
  }
  return { total, matched };
}
