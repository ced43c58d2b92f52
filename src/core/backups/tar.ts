// The host's own tar, run for opsdeck: which compressors the host has (pigz for gzip, zstd),
// the exact argv of a create and of an extraction, and running one with its member lines
// turned into progress (bytes and files against a pre-counted total). No shell of ours: tar
// runs the compressor itself (and, creating, one constant check of its reader, see
// READER_GONE); times are printed in UTC (TZ=UTC0) so they parse exactly.
import type { Host } from '../host/host.js';
import { progressLines } from '../host/host.js';
import { CommandError } from '../text/errors.js';
import type { Compression } from './policy.js';
import { MemberTally, parseMemberLine, parseTarStderr, type TarComplaints } from './tar-output.js';

export type Compressor = 'gzip' | 'pigz' | 'zstd';

export interface ArchiveTools {
  pigz: boolean;
  zstd: boolean;
  /** `openssl dgst` hashes with the CPU's SHA instructions: twice as fast as coreutils' sha256sum. */
  openssl: boolean;
}

const toolCache = new WeakMap<Host, Promise<ArchiveTools>>();

async function has(host: Host, versionArgv: string[]): Promise<boolean> {
  try {
    const result = await host.run(versionArgv, { okExitCodes: [0, 1, 2] });
    return result.exitCode === 0;
  } catch (error) {
    if (error instanceof CommandError && error.kind === 'missing-tool') return false;
    throw error;
  }
}

/** Which compressors and hasher the host has (asked once per host per run of opsdeck). */
export function archiveTools(host: Host): Promise<ArchiveTools> {
  let tools = toolCache.get(host);
  if (!tools) {
    tools = Promise.all([has(host, ['pigz', '--version']), has(host, ['zstd', '--version']), has(host, ['openssl', 'version'])]).then(([pigz, zstd, openssl]) => ({ pigz, zstd, openssl }));
    tools.catch(() => toolCache.delete(host));
    toolCache.set(host, tools);
  }
  return tools;
}

/** gzip's format is written by pigz where the host has it (every core, same file); zstd needs zstd. */
export function compressorFor(compression: Compression, tools: ArchiveTools, host: string): Compressor {
  if (compression === 'zstd') {
    if (!tools.zstd) throw new CommandError({ kind: 'missing-tool', host, argv: ['zstd'], message: `backups.compression is zstd, but \`zstd\` is not installed on host ${host}`, hint: 'install it there (`apt-get install -y zstd`), or set backups.compression: gzip' });
    return 'zstd';
  }
  return tools.pigz ? 'pigz' : 'gzip';
}

/** What tar is told to compress with. zstd uses every core (ZSTD_NBTHREADS=0). */
function compressorArgs(compressor: Compressor): { env: string[]; flags: string[] } {
  if (compressor === 'zstd') return { env: ['ZSTD_NBTHREADS=0'], flags: ['--zstd'] };
  if (compressor === 'pigz') return { env: [], flags: ['--use-compress-program=pigz'] };
  return { env: [], flags: ['--gzip'] };
}

/** One line per member, escaped names, numeric owners, full UTC times: what tar-output.ts parses. */
const VERBOSE = ['--verbose', '--verbose', '--full-time', '--numeric-owner', '--quoting-style=escape'];

/**
 * Records of 1 MiB (2048 blocks) instead of tar's 10 KiB: a hundred times fewer reads and
 * writes between tar and its compressor, about a third of tar's system time on many small
 * files (measured: `npm run bench -- backups`). Only the padding at the end differs; any tar
 * reads the archive, compressed archives being read record by record whatever their size.
 */
const RECORD = ['--blocking-factor=2048'];

/**
 * A tar that compresses ignores SIGPIPE, so once opsdeck is gone (kill -9, a dropped ssh
 * connection, a stop) it would go on writing the partial to the end: hours for big data. Every
 * 40 records (40 MiB of data read) tar runs this with its own stdout and SIGPIPE still ignored:
 * the empty line (the parser skips it; tar writes each member line whole, so it never splits
 * one) fails with EPIPE once nobody reads, and tar ($PPID) is ended. Not more often: tar waits
 * for each run of it (a shell, ~10 ms), and every 10 MiB that cost a fifth of a fast create.
 */
const READER_GONE = ['--checkpoint=40', '--checkpoint-action=exec=echo || kill -s TERM $PPID'];

/** Archive the content of `source` (as ./…, like the seeds' `tar -czf ARCHIVE -C SOURCE .`) into `file`. */
export function createArgv(source: string, file: string, compressor: Compressor): string[] {
  const { env, flags } = compressorArgs(compressor);
  return ['env', 'TZ=UTC0', ...env, 'tar', '--create', '--format=posix', `--file=${file}`, `--directory=${source}`, ...RECORD, ...VERBOSE, ...flags, ...READER_GONE, '--', '.'];
}

/**
 * Extract `archive` into the (empty) directory `into`. GNU tar finds the compression from the
 * content, refuses members with ".." and strips a leading "/", and creates symbolic links only
 * after everything else (placeholders first), so no member can write through a link another
 * member made. As root it restores owners and modes, as the data had them.
 */
export function extractArgv(archive: string, into: string, compression: Compression | 'none' | null): string[] {
  const flags = compression === 'zstd' ? ['--zstd'] : compression === 'gzip' ? ['--gzip'] : [];
  return ['env', 'TZ=UTC0', 'tar', '--extract', `--file=${archive}`, `--directory=${into}`, ...VERBOSE, ...flags, '--delay-directory-restore'];
}

export interface TarRun {
  exitCode: number | undefined;
  canceled: boolean;
  tally: MemberTally;
  complaints: TarComplaints;
  stderr: string;
}

export interface TarProgress {
  bytes: number;
  files: number;
}

/** Run tar (create or extract) on the host, reading its member lines as they come. */
export async function runTar(host: Host, argv: string[], options: { signal?: AbortSignal | undefined; onProgress?: (p: TarProgress) => void } = {}): Promise<TarRun> {
  const handle = host.stream(argv, { keepStderrBytes: 64 * 1024, ...(options.signal ? { signal: options.signal } : {}) });
  const tally = new MemberTally();
  let bytes = 0;
  try {
    for await (const line of progressLines(handle.stdout as AsyncIterable<Buffer>)) {
      const member = parseMemberLine(line);
      if (!member) continue;
      bytes += tally.add(member);
      options.onProgress?.({ bytes, files: tally.files });
    }
  } finally {
    // A consumer that stopped early (an exception above) must not leave tar running.
    if (options.signal?.aborted) handle.stop();
  }
  const done = await handle.done;
  return { exitCode: done.exitCode, canceled: done.canceled, tally, complaints: parseTarStderr(done.stderr), stderr: done.stderr };
}
