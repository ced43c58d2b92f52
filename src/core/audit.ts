// The audit log: one JSON line per mutating action that ran (or was refused), appended to a
// file only its owner can read (mode 0600). Path: config `auditLog`, else $OPSDECK_AUDIT_LOG,
// else $XDG_STATE_HOME/opsdeck/audit.jsonl (~/.local/state/opsdeck/audit.jsonl).
import { appendFileSync, chmodSync, mkdirSync, openSync, closeSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OpsdeckError } from './errors.js';

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
  /** abandoned: Ctrl+C stopped the wait; systemd may still have completed the job. */
  outcome: 'ok' | 'failed' | 'abandoned' | 'refused';
  stderr?: string;
  confirmedBy: 'typed-name' | 'dialog' | '--yes' | 'prompt' | 'none';
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

export class AuditLog {
  constructor(readonly file: string = defaultAuditPath()) {}

  /** Fail before acting, not after: an action that cannot be logged does not run. */
  ensureWritable(): void {
    try {
      mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
      // Create with 0600 before the first write; tighten an existing file that is looser.
      closeSync(openSync(this.file, 'a', 0o600));
      if ((statSync(this.file).mode & 0o077) !== 0) chmodSync(this.file, 0o600);
    } catch (error) {
      throw new OpsdeckError('usage', `cannot write the audit log ${this.file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'set auditLog: in the config or $OPSDECK_AUDIT_LOG to a file you can write; nothing was done');
    }
  }

  append(record: AuditRecord): void {
    this.ensureWritable();
    appendFileSync(this.file, JSON.stringify(record) + '\n');
  }
}
