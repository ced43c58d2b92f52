// A mutating action is data: a title, the host, the exact argv of each step, a risk, and how
// to undo it. One executor runs every action for the console, the CLI and the wizard alike:
// it refuses in read-only mode, checks the confirmation, runs the steps, writes the audit log
// and reports exit codes and stderr.
import { AuditLog, currentUser, type AuditRecord } from './audit.js';
import { CommandError, OpsdeckError, describeError, trimStderr } from '../text/errors.js';
import type { Host } from '../host/host.js';
import { daemonReloadArgv, killPidArgv, killUnitArgv, normalizeUnitName, unitActionArgv, type UnitAction } from '../systemd/units.js';
import type { ProcessDescription, Target } from './target.js';

export type Risk = 'low' | 'medium' | 'high';

export interface ActionStep {
  argv: string[];
  /** Run only if the PID is still alive after waiting this long (TERM, then KILL). */
  ifStillRunning?: { pid: number; afterMs: number };
}

export interface Action {
  title: string;
  /** Host name (as in the config). */
  host: string;
  /** The environment named or owning the target (shown, audited). */
  environment: string | null;
  /** Every environment it touches: their protection and read-only flags apply. */
  environments: string[];
  /** What it acts on, named the way the operator knows it. */
  target: string;
  /** Facts the operator should see before confirming (e.g. a PID's command line, cwd and unit). */
  details?: string[];
  steps: ActionStep[];
  risk: Risk;
  /** How to undo it, in words (and the action that does it), or why it cannot be undone. */
  undo: { description: string; action?: Action } | { description: string; impossible: true };
  /** A protected environment: the operator must type `phrase` to confirm. */
  protected: boolean;
  phrase: string | null;
}

export type Confirmation = { kind: 'typed-name'; text: string } | { kind: 'dialog' } | { kind: 'yes-flag' } | { kind: 'prompt' };

function confirmedBy(confirmation: Confirmation | null): AuditRecord['confirmedBy'] {
  if (!confirmation) return 'none';
  return confirmation.kind === 'typed-name' ? 'typed-name' : confirmation.kind === 'yes-flag' ? '--yes' : confirmation.kind === 'prompt' ? 'prompt' : 'dialog';
}

export interface StepResult {
  argv: string[];
  wrappedArgv: string[];
  exitCode: number | null;
  stderr: string;
  durationMs: number;
  skipped?: string;
}

export interface ActionResult {
  ok: boolean;
  cancelled: boolean;
  steps: StepResult[];
  durationMs: number;
  /** A one-line summary for the result dialog and the CLI. */
  summary: string;
  /** A result the audit log could not take (the action ran, but is not recorded): why. */
  auditError: string | null;
}

const RISK: Record<UnitAction, Risk> = {
  start: 'low',
  reload: 'low',
  'reset-failed': 'low',
  enable: 'low',
  restart: 'medium',
  stop: 'high',
  disable: 'medium',
};

const OPPOSITE: Partial<Record<UnitAction, UnitAction>> = { start: 'stop', stop: 'start', enable: 'disable', disable: 'enable' };

/** Where an action goes and whom it touches: see target.ts. */
type ActionTarget = Pick<Target, 'host' | 'environment' | 'environments' | 'protected' | 'phrase'>;

function placed(where: ActionTarget) {
  return { host: where.host, environment: where.environment, environments: [...where.environments], protected: where.protected, phrase: where.phrase };
}

export function unitAction(action: UnitAction, unit: string, where: ActionTarget): Action {
  const name = normalizeUnitName(unit);
  const opposite = OPPOSITE[action];
  const base = { ...placed(where), target: name };
  return {
    ...base,
    title: `${action} ${name}`,
    steps: [{ argv: unitActionArgv(action, name) }],
    risk: RISK[action],
    undo: opposite
      ? { description: `${opposite} ${name}`, action: { ...base, title: `${opposite} ${name}`, steps: [{ argv: unitActionArgv(opposite, name) }], risk: RISK[opposite], undo: { description: `${action} ${name}` } } }
      : { description: action === 'restart' ? 'a restart cannot be undone; the unit is running again afterwards' : `${action} cannot be undone`, impossible: true },
  };
}

export function daemonReloadAction(where: ActionTarget): Action {
  return {
    ...placed(where),
    target: `systemd on ${where.host}${where.environments.length > 0 ? ` (environments ${where.environments.join(', ')})` : ''}`,
    title: `daemon-reload on ${where.host}`,
    steps: [{ argv: daemonReloadArgv() }],
    risk: 'medium',
    undo: { description: 'daemon-reload reads unit files as they are on disk; revert the files and reload again', impossible: true },
  };
}

export function killUnitAction(unit: string, where: ActionTarget, signal = 'SIGTERM'): Action {
  const name = normalizeUnitName(unit);
  return {
    ...placed(where),
    target: name,
    title: `kill ${name} (${signal})`,
    steps: [{ argv: killUnitArgv(name, signal) }],
    risk: 'high',
    undo: { description: `start ${name} again if it stopped`, impossible: true },
  };
}

export function killPidAction(pid: number, where: ActionTarget & { process?: ProcessDescription | undefined; command?: string | undefined }, graceMs = 5000): Action {
  const process = where.process;
  const command = process?.command ?? where.command;
  return {
    ...placed(where),
    target: `PID ${pid}${command ? ` (${command})` : ''}`,
    ...(process
      ? {
          details: [
            `command: ${process.command}`,
            `cwd: ${process.cwd ?? '(not readable)'}`,
            `unit: ${process.unit ?? 'none (started by hand?)'}`,
            `listens on: ${process.ports.length > 0 ? process.ports.join(', ') : 'no port'}`,
            `environments: ${where.environments.length > 0 ? where.environments.join(', ') : 'none'}`,
          ],
        }
      : {}),
    title: `kill PID ${pid}`,
    steps: [{ argv: killPidArgv(pid, 'TERM') }, { argv: killPidArgv(pid, 'KILL'), ifStillRunning: { pid, afterMs: graceMs } }],
    risk: 'high',
    undo: { description: 'a killed process cannot be brought back; start its service again', impossible: true },
  };
}

/** The exact commands, as the operator should read them before confirming. */
export function describeSteps(action: Action): string[] {
  return action.steps.map((step) => {
    const command = step.argv.join(' ');
    return step.ifStillRunning ? `${command}   (after ${Math.round(step.ifStillRunning.afterMs / 1000)} s, only if PID ${step.ifStillRunning.pid} is still running)` : command;
  });
}

/** The phrase a protected action needs typed: the environment's name. */
export function requiredPhrase(action: Action): string | null {
  return action.protected ? (action.phrase ?? action.environment ?? action.host) : null;
}

export interface ExecutorOptions {
  hostFor: (name: string) => Host;
  audit: AuditLog;
  readonly: boolean | ((action: Action) => boolean);
}

export class ActionExecutor {
  constructor(private readonly options: ExecutorOptions) {}

  isReadonly(action: Action): boolean {
    const ro = this.options.readonly;
    return typeof ro === 'function' ? ro(action) : ro;
  }

  /** The argv each step runs on this machine (nsenter/ssh included), for the preview. */
  wrapped(action: Action): string[][] {
    const host = this.options.hostFor(action.host);
    return action.steps.map((s) => host.wrap(s.argv));
  }

  /**
   * Record that an action was refused (read-only, not confirmed) and return the error to show.
   * A refusal that cannot be recorded is still a refusal: the error says both.
   */
  refuse(action: Action, why: string, hint: string | undefined, confirmation: Confirmation | null): OpsdeckError {
    try {
      this.record(action, { argv: action.steps[0]?.argv ?? [], wrappedArgv: [], exitCode: null, stderr: why, durationMs: 0 }, 'refused', confirmedBy(confirmation));
    } catch (error) {
      return new OpsdeckError('usage', why, `${hint ? `${hint}; ` : ''}the refusal itself could not be recorded: ${describeError(error)}`);
    }
    return new OpsdeckError('usage', why, hint);
  }

  async run(action: Action, confirmation: Confirmation, signal?: AbortSignal): Promise<ActionResult> {
    const started = performance.now();
    const by = confirmedBy(confirmation);
    if (this.isReadonly(action)) throw this.refuse(action, `read-only mode: ${action.title} is not allowed`, 'drop --readonly, or readonly: true from the config, to act', confirmation);
    const phrase = requiredPhrase(action);
    if (phrase && confirmation.kind !== 'yes-flag' && !(confirmation.kind === 'typed-name' && confirmation.text === phrase)) {
      throw this.refuse(action, `${action.title} on protected ${phrase} needs its name typed to confirm`, undefined, confirmation);
    }
    this.options.audit.ensureWritable();
    const host = this.options.hostFor(action.host);
    const steps: StepResult[] = [];
    let ok = true;
    let cancelled = false;
    let auditError: string | null = null;
    for (const step of action.steps) {
      if (step.ifStillRunning) {
        const alive = await this.waitForExit(host, step.ifStillRunning.pid, step.ifStillRunning.afterMs, signal);
        if (!alive) {
          steps.push({ argv: step.argv, wrappedArgv: host.wrap(step.argv), exitCode: null, stderr: '', durationMs: 0, skipped: `PID ${step.ifStillRunning.pid} exited after TERM` });
          continue;
        }
      }
      const wrappedArgv = host.wrap(step.argv);
      // The intent first: a step that cannot be recorded does not run.
      try {
        this.record(action, { argv: step.argv, wrappedArgv, exitCode: null, stderr: '', durationMs: 0 }, 'started', by);
      } catch (error) {
        auditError = describeError(error);
        ok = false;
        break;
      }
      const stepStarted = performance.now();
      let result: StepResult;
      try {
        const run = await host.run(step.argv, { timeoutMs: 90_000, okExitCodes: Array.from({ length: 256 }, (_, i) => i).filter((c) => c !== 127), ...(signal ? { signal } : {}) });
        result = { argv: step.argv, wrappedArgv, exitCode: run.exitCode, stderr: trimStderr(run.stderr), durationMs: run.durationMs };
      } catch (error) {
        cancelled = signal?.aborted ?? false;
        const stderr = error instanceof CommandError ? error.stderr || error.message : (error as Error).message;
        result = { argv: step.argv, wrappedArgv, exitCode: error instanceof CommandError ? (error.exitCode ?? null) : null, stderr, durationMs: Math.round(performance.now() - stepStarted) };
      }
      steps.push(result);
      try {
        this.record(action, result, cancelled ? 'abandoned' : result.exitCode === 0 ? 'ok' : 'failed', by);
      } catch (error) {
        // The step ran; only its record is missing. The next step's intent would fail the same way.
        auditError = describeError(error);
      }
      if (result.exitCode !== 0) {
        ok = false;
        break;
      }
    }
    const durationMs = Math.round(performance.now() - started);
    const last = steps.filter((s) => !s.skipped).at(-1);
    // Killing our systemctl does not take back a job systemd has queued: say so.
    let summary = cancelled
      ? `${action.title}: stopped waiting; systemd may still complete it (check the unit's state)`
      : ok
        ? `${action.title}: done in ${durationMs} ms`
        : last && last.exitCode !== 0
          ? `${action.title}: failed (exit code ${last.exitCode ?? '?'})${last.stderr ? `: ${last.stderr.split('\n')[0]}` : ''}`
          : `${action.title}: stopped before running a step`;
    if (auditError) summary += ` — NOT RECORDED in the audit log: ${auditError}`;
    return { ok: ok && auditError === null, cancelled, steps, durationMs, summary, auditError };
  }

  /** Poll `kill -0` until the PID is gone or the grace period ends; true if still alive. */
  private async waitForExit(host: Host, pid: number, graceMs: number, signal?: AbortSignal): Promise<boolean> {
    const deadline = Date.now() + graceMs;
    for (;;) {
      const probe = await host.run(['kill', '-0', '--', String(pid)], { okExitCodes: [0, 1], ...(signal ? { signal } : {}) });
      if (probe.exitCode !== 0) return false;
      if (Date.now() >= deadline) return true;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  private record(action: Action, step: Omit<StepResult, 'skipped'>, outcome: AuditRecord['outcome'], confirmedBy: AuditRecord['confirmedBy']): void {
    this.options.audit.append({
      time: new Date().toISOString(),
      user: currentUser(),
      host: action.host,
      environment: action.environment,
      action: action.title,
      target: action.target,
      argv: step.argv,
      wrappedArgv: step.wrappedArgv,
      exitCode: step.exitCode,
      durationMs: step.durationMs,
      outcome,
      ...(step.stderr ? { stderr: step.stderr } : {}),
      confirmedBy,
    });
  }
}
