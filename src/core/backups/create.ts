// Making an archive on the environment's host, whole or not at all:
//   find (the pre-scan: the totals progress counts against)
//   tar --create into NAME.partial (the host's tar and compressor, streaming: no copy first)
//   its SHA-256 (openssl, else sha256sum) while sync fsyncs it, mv NAME.partial NAME, sync the directory
//   NAME.sha256 and NAME.manifest.json beside it (each written atomically)
// A crash or a kill leaves at most a NAME.partial, which no listing takes for an archive
// (tar stops within 40 MiB once opsdeck is gone: READER_GONE in tar.ts) and prune removes. A
// full disk or an unreadable file stops it with what and where, the partial removed.
import path from 'node:path';
import type { Host, RunOptions } from '../host/host.js';
import { fileInfo, freeSpace, makeDirectory, writeFileAtomic } from '../host/files.js';
import { showUnits } from '../systemd/units.js';
import { formatBytes } from '../text/humanize.js';
import type { Manifest } from './manifest.js';
import { partialName, SIDECARS, type Compression } from './policy.js';
import { scanArgv, scanTree, type TreeScan } from './scan.js';
import { archiveTools, compressorFor, createArgv, runTar, type ArchiveTools, type Compressor } from './tar.js';

export interface CreateSpec {
  environment: string;
  source: string;
  dir: string;
  name: string;
  compression: Compression;
  /** The environment's unit, whose state the manifest records. */
  unit?: string | undefined;
  operation?: string | null;
  createdBy: string;
}

export interface CreateProgress {
  bytes: number;
  files: number;
  totalBytes: number;
  totalFiles: number;
}

/** Why an archive could not be made: what, where, and what to do. */
export class BackupError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'BackupError';
  }
}

export function archivePath(spec: Pick<CreateSpec, 'dir' | 'name'>): string {
  return path.posix.join(spec.dir, spec.name);
}

/** The SHA-256 of a file, in sha256sum's format either way ("HASH *FILE"). */
export function sha256Argv(file: string, tools: Pick<ArchiveTools, 'openssl'>): string[] {
  return tools.openssl ? ['openssl', 'dgst', '-sha256', '-r', '--', file] : ['sha256sum', '--binary', '--', file];
}

/** Every command a create runs, in order (what a preview shows); the sidecars are atomic writes. */
export function createCommands(spec: CreateSpec, compressor: Compressor, tools: ArchiveTools): string[][] {
  const final = archivePath(spec);
  const partial = partialName(final);
  return [
    scanArgv(spec.source),
    ['mkdir', '-p', '-m', '750', '--', spec.dir],
    createArgv(spec.source, partial, compressor),
    sha256Argv(partial, tools),
    ['sync', '--', partial],
    ['mv', '-T', '--', partial, final],
    ['sync', '--', spec.dir],
  ];
}

export async function parseSha256(host: Host, file: string, options: RunOptions = {}): Promise<string> {
  const argv = sha256Argv(file, await archiveTools(host));
  const { stdout } = await host.run(argv, { timeoutMs: 3_600_000, ...options });
  const match = /^\\?([0-9a-f]{64}) /.exec(stdout);
  if (!match) throw new BackupError(`${argv[0]} of ${file} on host ${host.name} printed no checksum`);
  return match[1]!;
}

async function unitState(host: Host, unit: string | undefined): Promise<string | null> {
  if (!unit) return null;
  const state = (await showUnits(host, [unit])).get(unit);
  return state ? `${unit} ${state.activeState}/${state.subState}${state.mainPid ? ` (PID ${state.mainPid})` : ''}` : null;
}

/** The source must be a directory that is there: an empty or missing one would make a "backup" of nothing. */
function refuseOddSource(spec: CreateSpec, host: Host, scan: TreeScan): void {
  if (!scan.exists) throw new BackupError(`the backup source ${spec.source} does not exist on host ${host.name}`, 'check backups.source (or dataDir) in the config');
  if (scan.unreadable.length > 0) throw new BackupError(`cannot read ${scan.unreadable.slice(0, 3).join(', ')} in the backup source on host ${host.name}`, 'the archive would miss them: fix their permissions, or run opsdeck as a user that can read the data');
}

/**
 * Make the archive. Returns its manifest (also written beside it). On any failure the partial
 * file is removed and a BackupError says why.
 */
export async function writeArchive(host: Host, spec: CreateSpec, options: { signal?: AbortSignal | undefined; onProgress?: (p: CreateProgress) => void } = {}): Promise<Manifest> {
  const final = archivePath(spec);
  const partial = partialName(final);
  const startedAt = new Date().toISOString();
  // The reads before the archive, at once (each is a round trip over ssh); nothing is changed until they all pass.
  const [scan, tools, existing, state] = await Promise.all([scanTree(host, spec.source), archiveTools(host), fileInfo(host, final), unitState(host, spec.unit).catch(() => null)]);
  refuseOddSource(spec, host, scan);
  const compressor = compressorFor(spec.compression, tools, host.name);
  if (existing.exists) throw new BackupError(`${final} already exists on host ${host.name}: opsdeck never writes over an archive`, 'run the backup again in a second (archive names carry the time to the second)');
  await makeDirectory(host, [spec.dir], 0o750);
  const removePartial = () => host.run(['rm', '-f', '--', partial], { okExitCodes: [0, 1] }).catch(() => undefined);
  try {
    const run = await runTar(host, createArgv(spec.source, partial, compressor), {
      signal: options.signal,
      onProgress: (p) => options.onProgress?.({ ...p, totalBytes: scan.bytes, totalFiles: scan.files }),
    });
    const { complaints } = run;
    if (run.canceled) throw new BackupError(`the backup of ${spec.source} was stopped; the partial archive was removed`);
    // 0: done; 1: done, but some files changed while being read (noted in the manifest); 2: failed.
    if (run.exitCode !== 0 && run.exitCode !== 1) {
      if (complaints.noSpace) {
        // Measured with the partial gone: with it there, the destination always has 0 B free.
        await removePartial();
        const free = await freeSpace(host, spec.dir).catch(() => null);
        throw new BackupError(
          `the backup destination ${spec.dir} on host ${host.name} is full${free !== null ? ` (${formatBytes(free)} free without the partial archive)` : ''}: the archive of ${spec.source} (${formatBytes(scan.bytes)} before compression) did not fit; the partial archive was removed`,
          'free space there (opsdeck backup prune, or remove old files), or point backups.dir at a larger disk',
        );
      }
      if (complaints.unreadable.length > 0) {
        throw new BackupError(`cannot read ${complaints.unreadable.slice(0, 3).map((u) => `${spec.source}/${u.replace(/^\.\//, '')}`).join(', ')} on host ${host.name}: the archive would be incomplete, so it was not kept`, 'fix those files\' permissions, or run opsdeck as a user that can read the whole data dir');
      }
      const said = [...complaints.corrupt, ...complaints.other].slice(0, 3).join('; ');
      throw new BackupError(`tar could not archive ${spec.source} on host ${host.name} (exit code ${run.exitCode ?? 'none'})${said ? `: ${said}` : ''}; the partial archive was removed`);
    }
    // The hash reads the archive while sync writes it out: one waits on the CPU, the other on the disk.
    // All three end before a failure is thrown: the cleanup must not remove the partial under them.
    const [sha256, , written] = await allEnded([parseSha256(host, partial), host.run(['sync', '--', partial], { timeoutMs: 600_000 }), fileInfo(host, partial)] as const);
    await host.run(['mv', '-T', '--', partial, final]);
    await host.run(['sync', '--', spec.dir]);
    const size = written.size ?? 0;
    const manifest: Manifest = {
      version: 1,
      archive: spec.name,
      environment: spec.environment,
      host: host.name,
      source: spec.source,
      compression: spec.compression,
      compressor,
      sha256,
      archiveBytes: size,
      files: run.tally.files,
      dirs: run.tally.dirs,
      links: run.tally.links,
      others: run.tally.others,
      bytes: run.tally.bytes,
      newestMtime: run.tally.newestMtime,
      newestPath: run.tally.newestPath,
      changedWhileReading: complaints.changed.slice(0, 1000),
      unitState: state,
      startedAt,
      finishedAt: new Date().toISOString(),
      operation: spec.operation ?? null,
      createdBy: spec.createdBy,
    };
    await Promise.all([
      writeFileAtomic(host, SIDECARS.checksum(final), `${sha256}  ${spec.name}\n`, 0o640),
      writeFileAtomic(host, SIDECARS.manifest(final), JSON.stringify(manifest, null, 2) + '\n', 0o640),
    ]);
    return manifest;
  } catch (error) {
    await removePartial();
    throw error;
  }
}

/** Promise.all that waits for every promise to end before it throws the first failure. */
async function allEnded<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** Remove an archive opsdeck made and what it wrote beside it (the undo of a create). */
export async function removeArchive(host: Host, file: string): Promise<void> {
  await host.run(['rm', '-f', '--', file, partialName(file), SIDECARS.checksum(file), SIDECARS.manifest(file), SIDECARS.verified(file)]);
  await host.run(['sync', '--', path.posix.dirname(file)]);
}
