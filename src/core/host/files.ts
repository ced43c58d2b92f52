// Files on a host, through its commands (argv only, no shell): what is there (without following
// a link), raw reads, durable atomic writes with the previous content kept, removal, appends
// that reach the disk, and free space. Every write that matters is fsynced: an operation's
// journal must survive opsdeck (or the host) dying right after.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Host, RunOptions } from './host.js';
import { CommandError } from '../text/errors.js';

export interface FileInfo {
  exists: boolean;
  /** regular file, directory, symbolic link, or something else (a device, a FIFO…). */
  type: 'file' | 'directory' | 'link' | 'other' | null;
  /** Permission bits, e.g. 0o644. */
  mode: number | null;
  uid: number | null;
  gid: number | null;
  size: number | null;
}

const TYPES: Record<string, FileInfo['type']> = { 'regular file': 'file', 'regular empty file': 'file', directory: 'directory', 'symbolic link': 'link' };

function absolute(file: string): string {
  if (!path.posix.isAbsolute(file) || file.includes('\0')) throw new Error(`not an absolute path: ${JSON.stringify(file)}`);
  return path.posix.normalize(file);
}

/** What is at `file` (a link is reported as a link, never followed). */
export async function fileInfo(host: Host, file: string, options: RunOptions = {}): Promise<FileInfo> {
  const result = await host.run(['stat', '--printf', '%F\\0%a\\0%u\\0%g\\0%s\\0', '--', absolute(file)], { ...options, okExitCodes: [0, 1] });
  if (result.exitCode !== 0) {
    if (/No such file or directory/.test(result.stderr)) return { exists: false, type: null, mode: null, uid: null, gid: null, size: null };
    throw new CommandError({ host: host.name, argv: result.argv, exitCode: result.exitCode, stderr: result.stderr, message: `cannot look at ${file} on host ${host.name}: ${result.stderr.trim()}` });
  }
  const [kind, mode, uid, gid, size] = result.stdout.split('\0');
  return { exists: true, type: TYPES[kind ?? ''] ?? 'other', mode: Number.parseInt(mode ?? '', 8), uid: Number(uid), gid: Number(gid), size: Number(size) };
}

/** A regular file's bytes, or null when there is none; refuses a link (dd's nofollow) and anything past `maxBytes`. */
export async function readFileBytes(host: Host, file: string, options: RunOptions & { maxBytes?: number } = {}): Promise<Buffer | null> {
  const maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
  const result = await host.run(['dd', `if=${absolute(file)}`, 'iflag=nofollow', 'status=none'], { ...options, okExitCodes: [0, 1], maxOutputBytes: maxBytes });
  if (result.exitCode === 0) return result.stdoutBytes;
  if (/No such file or directory/.test(result.stderr)) return null;
  throw new CommandError({ host: host.name, argv: result.argv, exitCode: result.exitCode, stderr: result.stderr, message: `cannot read ${file} on host ${host.name}: ${result.stderr.trim()}` });
}

/** Make directories, in one command (`mode` for each one named and made; their parents get the default). */
export async function makeDirectory(host: Host, dirs: string | readonly string[], mode = 0o755, options: RunOptions = {}): Promise<void> {
  await host.run(['mkdir', '-p', '-m', mode.toString(8), '--', ...(typeof dirs === 'string' ? [dirs] : dirs).map(absolute)], options);
}

/** A temporary name beside `target` (its directory: a rename into place is atomic); `XXXXXX` in previews. */
export function temporaryBeside(target: string, unique: string = randomBytes(6).toString('hex')): string {
  return path.posix.join(path.posix.dirname(target), `.${path.posix.basename(target)}.opsdeck-${unique}`);
}

/** The commands of an atomic write of `target` through `temporary` (also what a preview shows). */
export function atomicWriteArgvs(target: string, temporary: string, mode: number): string[][] {
  return [
    ['dd', `of=${temporary}`, 'conv=excl,fsync', 'oflag=nofollow', 'status=none'],
    ['chmod', mode.toString(8), '--', temporary],
    ['mv', '-T', '-f', '--', temporary, target],
  ];
}

/** The commands of an exact copy of `from` put at `target` through `temporary` (the fsyncs aside). */
export function exactCopyArgvs(from: string, target: string, temporary: string): string[][] {
  return [
    ['cp', '-a', '--no-dereference', '--', from, temporary],
    ['mv', '-T', '-f', '--', temporary, target],
  ];
}

/** Run commands that fill `temporary` and rename it into place; on a failure the temporary file goes. */
async function throughTemporary(host: Host, temporary: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    await host.run(['rm', '-f', '--', temporary], { okExitCodes: [0, 1] }).catch(() => undefined);
    throw error;
  }
}

/**
 * Write `file` atomically and durably: a temporary file beside it (created exclusively, its
 * data fsynced), its mode set, renamed over the file (a link there is replaced, not followed),
 * then the directory fsynced. Readers see the old content or the new, never half of one.
 */
export async function writeFileAtomic(host: Host, file: string, content: Buffer | string, mode: number, options: RunOptions = {}): Promise<void> {
  const target = absolute(file);
  const temporary = temporaryBeside(target);
  const [write, chmod, rename] = atomicWriteArgvs(target, temporary, mode) as [string[], string[], string[]];
  await throughTemporary(host, temporary, async () => {
    await host.run(write, { ...options, input: typeof content === 'string' ? Buffer.from(content) : content });
    await host.run(chmod, options);
    await host.run(rename, options);
  });
  await syncPath(host, path.posix.dirname(target), options);
}

/**
 * Copy a file exactly (content, mode, owner, times; a link as a link) to `to`, durably, and
 * whole or not at all: copied beside it, fsynced, renamed into place (over what is there). A
 * copy that exists is complete. Keeping a file before a change and putting it back are both this.
 */
export async function copyExactly(host: Host, from: string, to: string, options: RunOptions = {}): Promise<void> {
  const target = absolute(to);
  const temporary = temporaryBeside(target);
  const [copy, rename] = exactCopyArgvs(absolute(from), target, temporary) as [string[], string[]];
  await throughTemporary(host, temporary, async () => {
    await host.run(copy, options);
    await syncPath(host, temporary, options);
    await host.run(rename, options);
  });
  await syncPath(host, path.posix.dirname(target), options);
}

export function removeArgv(file: string): string[] {
  return ['rm', '-f', '--', file];
}

/** Remove a file (a link itself, never what it points at); fine if it is already gone. */
export async function removeFile(host: Host, file: string, options: RunOptions = {}): Promise<void> {
  await host.run(removeArgv(absolute(file)), options);
  await syncPath(host, path.posix.dirname(absolute(file)), options);
}

/**
 * Append bytes to a file and fsync it (the file is made if missing; a link is refused). Up to
 * 1 MiB goes in one write() (bs=1M, fullblock), so with O_APPEND a record is never interleaved
 * with another writer's or split across two writes by a short read from the pipe.
 */
export async function appendDurably(host: Host, file: string, content: Buffer | string, options: RunOptions = {}): Promise<void> {
  await host.run(['dd', `of=${absolute(file)}`, 'bs=1M', 'iflag=fullblock', 'oflag=append,nofollow', 'conv=notrunc,fsync', 'status=none'], { ...options, input: content });
}

/** fsync a file or directory (coreutils sync with an argument). */
async function syncPath(host: Host, target: string, options: RunOptions): Promise<void> {
  await host.run(['sync', '--', target], options);
}

/** Bytes available to an unprivileged writer where `dir` lives (fileSystemSpace's one `stat -f`). */
export async function freeSpace(host: Host, dir: string, options: RunOptions = {}): Promise<number> {
  const space = (await fileSystemSpace(host, [dir], options)).get(absolute(dir));
  if (!space) throw new Error(`cannot read free space of ${dir} on host ${host.name}`);
  return space.freeBytes;
}

export interface FileSystemSpace {
  /** The file system's id (the same for every directory on it). */
  id: string;
  sizeBytes: number;
  freeBytes: number;
  inodes: number;
  freeInodes: number;
}

/**
 * Space and inodes left where each directory lives, in one `stat -f` (a missing directory is
 * left out). Free is what an unprivileged writer gets (%a), as df's "Available". NUL-terminated:
 * the name comes last and may hold anything but a NUL.
 */
export async function fileSystemSpace(host: Host, dirs: readonly string[], options: RunOptions = {}): Promise<Map<string, FileSystemSpace>> {
  const { stdout } = await host.run(['stat', '-f', '--printf', '%i %S %b %a %c %d %n\\0', '--', ...dirs.map(absolute)], { okExitCodes: [0, 1], ...options });
  const out = new Map<string, FileSystemSpace>();
  for (const record of stdout.split('\0')) {
    const m = /^([0-9a-f]+) (\d+) (\d+) (\d+) (\d+) (\d+) ([^]*)$/.exec(record);
    if (!m) continue;
    const block = Number(m[2]);
    out.set(m[7]!, { id: m[1]!, sizeBytes: Number(m[3]) * block, freeBytes: Number(m[4]) * block, inodes: Number(m[5]), freeInodes: Number(m[6]) });
  }
  return out;
}
