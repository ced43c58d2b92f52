// An operation is data: a change of one or more steps, planned from live state, that the runner
// previews, confirms, locks, journals on the host, runs, audits and can undo. Being data (not
// closures), a plan is written to the host before it runs and read back by `ops resume` or
// `ops rollback` from another opsdeck, after a crash, on another machine.
import { randomBytes } from 'node:crypto';
import type { HealthProbe } from '../status/health.js';
import type { UnitAction } from '../systemd/units.js';

export type Risk = 'low' | 'medium' | 'high';

/** What one step does; each kind is run, previewed and undone by ops/steps.ts. */
export type StepSpec =
  /** Run a command. `detach`: in a transient unit on the host (systemd-run), so a dropped
   *  connection cannot cut it in half; the runner reattaches to it. */
  | { kind: 'command'; argv: string[]; okExitCodes?: number[]; timeoutMs?: number; detach?: boolean; undoArgv?: string[] }
  /** Write a file atomically (temporary file, fsync, rename); the previous content is kept for undo. */
  | { kind: 'write-file'; path: string; content: string; mode: number }
  /** Remove a file; its content is kept for undo. */
  | { kind: 'remove-file'; path: string }
  /** systemctl VERB UNIT (kill with a signal). */
  | { kind: 'systemctl'; verb: UnitAction | 'kill'; unit: string; signal?: string }
  | { kind: 'daemon-reload' }
  /** TERM, then KILL after the grace period; only the process that started at `startTime` (a recycled PID is left alone).
   *  `restart`: how it was started is recorded first, and its undo starts it again (relaunch.ts) in the transient
   *  unit `unit` and waits, at most `waitMs`, until `port` is served again. */
  | { kind: 'stop-pid'; pid: number; startTime: string; command: string; graceMs: number; restart?: StopRestart }
  /** Wait until the service is well, and stays well for `settleMs`; fail at `timeoutMs`. */
  | { kind: 'health-gate'; probe?: HealthProbe | undefined; unit?: string | undefined; settleMs: number; timeoutMs: number; intervalMs: number }
  /** Archive `source` into `dir`/`name` (NAME.partial, fsync, rename; checksum and manifest beside it). */
  | { kind: 'backup-create'; environment: string; source: string; dir: string; name: string; compression: 'gzip' | 'zstd'; unit?: string | undefined }
  /** Extract an archive into a new directory `into` (a sibling of where it goes), its checksum checked first. */
  | { kind: 'extract'; archive: string; into: string; sha256: string | null }
  /** Put `replacement` in the place of `target` by rename, `target` (if there) kept as `keepAs`. */
  | { kind: 'swap-dir'; target: string; replacement: string; keepAs: string }
  /** Remove files for good (pruned archives and what is beside them). */
  | { kind: 'remove-files'; paths: string[] };

/** How a stopped process is started again on undo (the adoption of a hand-started process). */
export interface StopRestart {
  unit: string;
  port: number;
  waitMs: number;
}

export type StepKind = StepSpec['kind'];

export type Step = StepSpec & {
  /** The host it runs on (as named in the config): one operation can span two. */
  host: string;
  /** One line, as the operator reads it in the plan. */
  title: string;
};

/** Checked before the first step runs, and again before a resume. */
export type Check =
  | { kind: 'unit-exists'; host: string; unit: string }
  /** The PID is still the process that was planned for (same start time). */
  | { kind: 'pid-is'; host: string; pid: number; startTime: string; command: string };

export interface Operation {
  /** e.g. "20261129-161502-production-3fa9": sortable, names the environment, unique. */
  id: string;
  /** What made it: unit.restart, kill, unit.override… */
  kind: string;
  title: string;
  /** Where its lock and its journal live: the host of what it acts on. */
  host: string;
  environment: string | null;
  /** Every environment it touches: each is locked, and their protection and read-only apply. */
  environments: string[];
  /** What it acts on, named the way the operator knows it. */
  target: string;
  /** Facts the operator should see before confirming (a PID's command line, cwd, unit…). */
  details: string[];
  risk: Risk;
  protected: boolean;
  /** What must be typed to confirm, when protected. */
  phrase: string | null;
  createdAt: string;
  /** Who planned it and from where (the operator's login and machine). */
  createdBy: { user: string; from: string };
  preflight: Check[];
  steps: Step[];
  /** On a failed step or gate: undo what was done (automatic), or stop and offer it. */
  onFailure: 'rollback' | 'stop';
}

export function newOperationId(environment: string | null, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${(environment ?? 'host').replace(/[^A-Za-z0-9_.-]/g, '_')}-${randomBytes(2).toString('hex')}`;
}

/** An operation id as the CLI takes it: the same characters newOperationId makes, no path tricks. */
export function isOperationId(id: string): boolean {
  return /^\d{8}-\d{6}-[A-Za-z0-9_.-]{1,100}-[0-9a-f]{4}$/.test(id) && !id.includes('..');
}

/**
 * Steps that re-apply configuration (daemon-reload, restart, reload): undone by running them
 * again once the steps before them are undone, so a rollback reads "restore the file, reload,
 * restart" rather than "restart with the new file still there".
 */
export function reapplies(step: Step): boolean {
  return step.kind === 'daemon-reload' || (step.kind === 'systemctl' && (step.verb === 'restart' || step.verb === 'reload'));
}
