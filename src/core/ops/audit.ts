// The audit log: JSON lines, appended to a file only its owner can read (mode 0600). Every
// mutating step is recorded twice: its intent before it runs (a step that cannot be recorded
// does not run) and its result after; refused actions are recorded too. Path: config
// `auditLog`, else $OPSDECK_AUDIT_LOG, else $XDG_STATE_HOME/opsdeck/audit.jsonl
// (~/.local/state/opsdeck/audit.jsonl).
//
// opsdeck often runs as root, so the file is opened without following a symbolic link, and
// only a regular file owned by the user is written to or has its mode tightened: never a
// link's target, a device, or a FIFO (opened non-blocking, so one cannot hang opsdeck).
import { closeSync, constants, fchmodSync, fstatSync, ftruncateSync, lstatSync, mkdirSync, openSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OpsdeckError } from '../text/errors.js';

export interface AuditRecord {
  time: string;
  user: string;
  host: string;
  environment: string | null;
  action: string;
  target: string;
  /** The command as opsdeck asked for it, and as it ran on this machine (nsenter/ssh wrapped). */
  argv: string[];
  wrappedArgv: string[];
  exitCode: number | null;
  durationMs: number;
  /**
   * started: written before the step runs (its intent); then one of
   * ok / failed / abandoned (Ctrl+C stopped the wait; systemd may still have completed the job);
   * refused: it never ran (read-only, not confirmed); the reason is in `stderr`.
   */
  outcome: 'started' | 'ok' | 'failed' | 'abandoned' | 'refused' | 'undo-started' | 'undone' | 'undo-failed';
  stderr?: string;
  confirmedBy: 'typed-name' | 'dialog' | '--yes' | 'prompt' | 'none';
  /** The operation this step belongs to, and the step's number in it (from 1). */
  operation?: string;
  step?: number;
}

export function defaultAuditPath(): string {
  if (process.env.OPSDECK_AUDIT_LOG) return path.resolve(process.env.OPSDECK_AUDIT_LOG);
  const state = process.env.XDG_STATE_HOME ?? path.join(os.homedir(), '.local', 'state');
  return path.join(state, 'opsdeck', 'audit.jsonl');
}

/** Who ran it: the login behind sudo when there is one. */
export function currentUser(): string {
  const name = os.userInfo().username;
  const sudo = process.env.SUDO_USER;
  return sudo && sudo !== name ? `${sudo} (as ${name})` : name;
}

const OPEN_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;

const CODES: Record<string, string> = {
  ELOOP: 'it is a symbolic link (opsdeck does not follow links for its audit log)',
  ENXIO: 'it is a FIFO or socket',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EROFS: 'the file system is read-only',
  EISDIR: 'it is a directory',
};

/** The audit log could not be written: what, where, and what to do. */
export class AuditError extends OpsdeckError {
  constructor(file: string, reason: string, hint: string) {
    super('command', `cannot write the audit log ${file}: ${reason}`, hint);
    this.name = 'AuditError';
  }
}

function why(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return (code && CODES[code]) ?? code ?? (error as Error).message;
}

export class AuditLog {
  constructor(readonly file: string = defaultAuditPath()) {}

  /** Opened for appending, checked to be a regular file of ours with mode 0600. */
  private open(): number {
    const dir = path.dirname(this.file);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Its directory is a real one that only we (or root) can change: no link to elsewhere, no one else's files swapped in.
    const dirStat = lstatSync(dir);
    const me = process.getuid?.();
    if (dirStat.isSymbolicLink()) throw new Error(`its directory ${dir} is a symbolic link`);
    if (!dirStat.isDirectory()) throw new Error(`${dir} is not a directory`);
    if (me !== undefined && dirStat.uid !== me && dirStat.uid !== 0) throw new Error(`its directory ${dir} belongs to uid ${dirStat.uid}, not to this user (uid ${me}) or root`);
    if ((dirStat.mode & 0o022) !== 0 && (dirStat.mode & 0o1000) === 0) throw new Error(`its directory ${dir} can be written by others (mode ${(dirStat.mode & 0o7777).toString(8)})`);
    const fd = openSync(this.file, OPEN_FLAGS, 0o600);
    try {
      const stat = fstatSync(fd);
      const uid = process.getuid?.();
      if (!stat.isFile()) throw new Error(`it is ${kindOf(stat)}, not a regular file`);
      if (uid !== undefined && stat.uid !== uid) throw new Error(`it belongs to uid ${stat.uid}, not to this user (uid ${uid})`);
      // Tighten what is ours (the fd is the regular file just checked, not whatever a path names now).
      if ((stat.mode & 0o077) !== 0) fchmodSync(fd, 0o600);
      return fd;
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  /** Fail before acting, not after: an action that cannot be logged does not run. */
  ensureWritable(): void {
    try {
      closeSync(this.open());
    } catch (error) {
      throw new AuditError(this.file, why(error), 'set auditLog: in the config or $OPSDECK_AUDIT_LOG to a regular file you own and can write; nothing was done');
    }
  }

  /** Append one record; an AuditError says why it could not be written. */
  append(record: AuditRecord): void {
    let fd: number | undefined;
    try {
      fd = this.open();
      const line = Buffer.from(JSON.stringify(record) + '\n');
      // One write with O_APPEND: a record is never interleaved with another writer's. A full
      // disk can take part of it: that part (at the end, where O_APPEND put it) is taken back,
      // so no half line is left for the next record to be glued to.
      const written = writeSync(fd, line);
      if (written !== line.length) {
        if (written > 0) ftruncateSync(fd, Math.max(0, fstatSync(fd).size - written));
        throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
      }
    } catch (error) {
      throw new AuditError(this.file, why(error), 'free space or fix the file, then check what the action did (it may have run)');
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}

function kindOf(stat: import('node:fs').Stats): string {
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  if (stat.isDirectory()) return 'a directory';
  return 'something else';
}
