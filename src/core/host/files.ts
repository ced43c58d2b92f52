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

/** Make the directories down to `dir` (mode for the ones made). */
export async function makeDirectory(host: Host, dir: string, mode = 0o755, options: RunOptions = {}): Promise<void> {
  await host.run(['mkdir', '-p', '-m', mode.toString(8), '--', absolute(dir)], options);
}

/**
 * Write `file` atomically and durably: a temporary file beside it (created exclusively, its
 * data fsynced), its mode set, renamed over the file (a link there is replaced, not followed),
 * then the directory fsynced. Readers see the old content or the new, never half of one.
 */
export async function writeFileAtomic(host: Host, file: string, content: Buffer | string, mode: number, options: RunOptions = {}): Promise<void> {
  const target = absolute(file);
  const dir = path.posix.dirname(target);
  const temporary = path.posix.join(dir, `.${path.posix.basename(target)}.opsdeck-${randomBytes(6).toString('hex')}`);
  const data = typeof content === 'string' ? Buffer.from(content) : content;
  try {
    await host.run(['dd', `of=${temporary}`, 'conv=excl,fsync', 'oflag=nofollow', 'status=none'], { ...options, input: data });
    await host.run(['chmod', mode.toString(8), '--', temporary], options);
    await host.run(['mv', '-T', '-f', '--', temporary, target], options);
  } catch (error) {
    await host.run(['rm', '-f', '--', temporary], { okExitCodes: [0, 1] }).catch(() => undefined);
    throw error;
  }
  await syncPath(host, dir, options);
}

/**
 * Copy a file exactly (content, mode, owner, times; a link as a link) to `to`, durably, and
 * whole or not at all: copied beside it, fsynced, renamed into place. A copy that exists is complete.
 */
export async function copyExactly(host: Host, from: string, to: string, options: RunOptions = {}): Promise<void> {
  const target = absolute(to);
  const temporary = `${target}.opsdeck-${randomBytes(6).toString('hex')}.partial`;
  try {
    await host.run(['cp', '-a', '--no-dereference', '--', absolute(from), temporary], options);
    await syncPath(host, temporary, options);
    await host.run(['mv', '-T', '-f', '--', temporary, target], options);
  } catch (error) {
    await host.run(['rm', '-f', '--', temporary], { okExitCodes: [0, 1] }).catch(() => undefined);
    throw error;
  }
  await syncPath(host, path.posix.dirname(target), options);
}

/** Put `from` (a copy made by copyExactly) back at `to` atomically: copied beside it, renamed over it. */
export async function restoreExactly(host: Host, from: string, to: string, options: RunOptions = {}): Promise<void> {
  const target = absolute(to);
  const temporary = path.posix.join(path.posix.dirname(target), `.${path.posix.basename(target)}.opsdeck-${randomBytes(6).toString('hex')}`);
  await host.run(['cp', '-a', '--no-dereference', '--', absolute(from), temporary], options);
  await syncPath(host, temporary, options);
  await host.run(['mv', '-T', '-f', '--', temporary, target], options);
  await syncPath(host, path.posix.dirname(target), options);
}

/** Remove a file (a link itself, never what it points at); fine if it is already gone. */
export async function removeFile(host: Host, file: string, options: RunOptions = {}): Promise<void> {
  await host.run(['rm', '-f', '--', absolute(file)], options);
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

/** Bytes available to an unprivileged writer where `dir` lives. */
export async function freeSpace(host: Host, dir: string, options: RunOptions = {}): Promise<number> {
  const { stdout } = await host.run(['df', '-P', '-B1', '--', absolute(dir)], options);
  const fields = stdout.trim().split('\n').at(-1)?.trim().split(/\s+/) ?? [];
  const available = Number(fields[3]);
  if (!Number.isFinite(available)) throw new Error(`cannot read free space of ${dir} on host ${host.name}`);
  return available;
}
