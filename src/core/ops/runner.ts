// The one runner of operations, for the console, the CLI and the wizard alike. It refuses in
// read-only mode and without the confirmation the target needs (and audits the refusal), takes
// the environments' locks on the host, writes the plan and then each step's start and end to
// the host's state journal (fsynced before going on), audits each step's intent and result,
// runs the steps, and on a failure stops, shows why (stderr and the unit's last journal lines)
// and rolls back where the operation says so. `resume` and `rollback` pick an operation up from
// its journal, after Ctrl+C, a crash, `kill -9` or a dropped connection.
import type { Host } from '../host/host.js';
import { readJournal } from '../journal/read.js';
import type { GateSample } from '../status/gate.js';
import { daemonReloadArgv, killPidArgv, killUnitArgv, unitActionArgv } from '../systemd/units.js';
import { CommandError, OpsdeckError, describeError, trimStderr } from '../text/errors.js';
import { AuditLog, currentUser, type AuditRecord } from './audit.js';
import { acquireLocks, currentOwner, lockName, ownerAliveHere, readLocks, type HeldLocks } from './lock.js';
import { reapplies, type Check, type Operation, type Step } from './operation.js';
import { StateJournal, progressOf, readStoredOperations, stepData, type OperationStatus, type StoredOperation } from './state.js';
import { afterRecorded, canUndo, HostLost, kindOf, StepFailure, type StepEnv, type StepEvent, type StepPreview } from './steps/index.js';
import { processStartTime } from './steps/pid.js';
import { showUnits } from '../systemd/units.js';

export type Confirmation = { kind: 'typed-name'; text: string } | { kind: 'dialog' } | { kind: 'yes-flag' } | { kind: 'prompt' };

export type OperationEvent =
  | { type: 'planned'; op: Operation; mode: 'run' | 'resume' | 'rollback' }
  | { type: 'locked'; names: string[] }
  | { type: 'step-started'; index: number; step: Step; resumed: boolean }
  | { type: 'output'; index: number; line: string }
  | { type: 'progress'; index: number; done: number; total: number | null; unit: 'bytes' | 'files' | 'steps' }
  | { type: 'gate-sample'; index: number; sample: GateSample }
  | { type: 'step-finished'; index: number; ok: boolean; durationMs: number; exitCode: number | null; error?: string; stderr?: string; journal?: string[] }
  | { type: 'undo-started'; index: number; step: Step }
  | { type: 'undone'; index: number; ok: boolean; error?: string }
  | { type: 'ended'; result: OperationResult };

export interface OperationResult {
  id: string;
  status: Exclude<OperationStatus, 'running'>;
  ok: boolean;
  /** One line for the result dialog and the CLI. */
  summary: string;
  failedStep: number | null;
  error: string | null;
  /** The failed step's stderr and the unit's journal lines of the last seconds. */
  stderr: string;
  journal: string[];
  /** A record the audit log could not take (the step ran, but is not recorded): why. */
  auditError: string | null;
  durationMs: number;
}

export interface RunnerDeps {
  hostFor: (name: string) => Host;
  audit: AuditLog;
  readonly: (op: Pick<Operation, 'host' | 'environments'>) => boolean;
}

export interface RunOptions {
  /** Abort: stop here (the operation is left interrupted, to resume or roll back later). */
  signal?: AbortSignal;
  onEvent?: (event: OperationEvent) => void;
}

/** The host did not answer (ssh down, lab gone): the step's outcome is unknown, not failed. */
function isHostLost(error: unknown): boolean {
  return error instanceof HostLost || (error instanceof CommandError && (error.kind === 'unreachable' || error.kind === 'lab'));
}

function confirmedBy(confirmation: Confirmation | null): AuditRecord['confirmedBy'] {
  if (!confirmation) return 'none';
  return confirmation.kind === 'typed-name' ? 'typed-name' : confirmation.kind === 'yes-flag' ? '--yes' : confirmation.kind === 'prompt' ? 'prompt' : 'dialog';
}

/** The command a step stands for in the audit log (the exact argv where it is one). */
export function stepArgv(step: Step): string[] {
  switch (step.kind) {
    case 'command':
      return step.argv;
    case 'systemctl':
      return step.verb === 'kill' ? killUnitArgv(step.unit, step.signal ?? 'SIGTERM') : unitActionArgv(step.verb, step.unit);
    case 'daemon-reload':
      return daemonReloadArgv();
    case 'stop-pid':
      return killPidArgv(step.pid, 'TERM');
    case 'write-file':
      return ['write-file', step.path, `mode=${step.mode.toString(8)}`];
    case 'remove-file':
      return ['remove-file', step.path];
    case 'health-gate':
      return ['health-gate', ...(step.probe ? [step.probe.url] : []), ...(step.unit ? [step.unit] : [])];
  }
}

/** The phrase a protected operation needs typed. */
export function requiredPhrase(op: Pick<Operation, 'protected' | 'phrase' | 'environment' | 'host'>): string | null {
  return op.protected ? (op.phrase ?? op.environment ?? op.host) : null;
}

export class OperationRunner {
  constructor(private readonly deps: RunnerDeps) {}

  isReadonly(op: Pick<Operation, 'host' | 'environments'>): boolean {
    return this.deps.readonly(op);
  }

  /** Every step's preview (commands, diffs, undo), from the hosts' live state; nothing is written. */
  async preview(op: Operation): Promise<StepPreview[]> {
    return Promise.all(op.steps.map((step, index) => kindOf(step).preview(step, { host: this.deps.hostFor(step.host), op, index })));
  }

  /** Record that an operation was refused and return the error to show (a refusal that cannot be recorded is still one). */
  refuse(op: Operation, why: string, hint: string | undefined, confirmation: Confirmation | null): OpsdeckError {
    try {
      this.record(op, null, { argv: stepArgv(op.steps[0]!), exitCode: null, stderr: why, durationMs: 0 }, 'refused', confirmedBy(confirmation));
    } catch (error) {
      return new OpsdeckError('usage', why, `${hint ? `${hint}; ` : ''}the refusal itself could not be recorded: ${describeError(error)}`);
    }
    return new OpsdeckError('usage', why, hint);
  }

  private checkAllowed(op: Operation, confirmation: Confirmation): void {
    if (this.isReadonly(op)) {
      throw this.refuse(op, `read-only mode: ${op.title} is not allowed${op.environments.length > 0 ? ` (it touches ${op.environments.join(', ')})` : ''}`, 'drop --readonly, or readonly: true from the config, to act', confirmation);
    }
    const phrase = requiredPhrase(op);
    if (phrase && confirmation.kind !== 'yes-flag' && !(confirmation.kind === 'typed-name' && confirmation.text === phrase)) {
      throw this.refuse(op, `${op.title} on protected ${phrase} needs its name typed to confirm`, undefined, confirmation);
    }
    this.deps.audit.ensureWritable();
  }

  private async lock(op: Operation, confirmation: Confirmation, takeOver: boolean, emit: (e: OperationEvent) => void): Promise<HeldLocks> {
    const names = (op.environments.length > 0 ? op.environments : [null]).map(lockName);
    try {
      const held = await acquireLocks(this.deps.hostFor(op.host), names, { ...currentOwner(currentUser()), op: op.id, title: op.title, since: new Date().toISOString() }, { takeOver });
      emit({ type: 'locked', names });
      return held;
    } catch (error) {
      if (error instanceof OpsdeckError) {
        this.refuse(op, error.message, error.hint, confirmation);
      }
      throw error;
    }
  }

  /** Plan -> host: lock, journal, preflight, every step; a failure rolls back or stops as the operation says. */
  async run(op: Operation, confirmation: Confirmation, options: RunOptions = {}): Promise<OperationResult> {
    this.checkAllowed(op, confirmation);
    const emit = options.onEvent ?? (() => undefined);
    emit({ type: 'planned', op, mode: 'run' });
    const locks = await this.lock(op, confirmation, false, emit);
    const journal = new StateJournal(this.deps.hostFor(op.host), op.id);
    try {
      await journal.create(op, currentOwner(currentUser()));
      return await this.execute(op, journal, confirmation, { start: 0, unfinished: null, data: new Map(), started: new Set() }, options);
    } finally {
      await locks.release().catch(() => undefined);
    }
  }

  /** Continue an interrupted operation from its first unfinished step, its preflight checked again. */
  async resume(stored: StoredOperation, confirmation: Confirmation, options: RunOptions = {}): Promise<OperationResult> {
    const op = stored.plan;
    const progress = progressOf(stored, await this.ownerAlive(op));
    if (progress.status !== 'interrupted' && progress.status !== 'failed') {
      throw new OpsdeckError('usage', `operation ${op.id} is ${progress.status}: there is nothing to resume`, progress.status === 'running' ? 'it is still running (see opsdeck ops)' : undefined);
    }
    this.checkAllowed(op, confirmation);
    const emit = options.onEvent ?? (() => undefined);
    emit({ type: 'planned', op, mode: 'resume' });
    const locks = await this.lock(op, confirmation, true, emit);
    const journal = new StateJournal(this.deps.hostFor(op.host), op.id);
    try {
      await journal.append({ event: 'resumed', at: new Date().toISOString(), by: currentOwner(currentUser()) });
      const start = op.steps.findIndex((_, i) => !progress.done.includes(i));
      const started = new Set<number>();
      for (const e of stored.events) if (e.event === 'step-started') started.add(e.step);
      return await this.execute(op, journal, confirmation, { start: start < 0 ? op.steps.length : start, unfinished: progress.unfinished, data: stepData(stored), started }, options);
    } finally {
      await locks.release().catch(() => undefined);
    }
  }

  /** Undo the finished steps of an operation, in reverse (re-applying steps run again after what they applied is undone). */
  async rollback(stored: StoredOperation, confirmation: Confirmation, options: RunOptions = {}): Promise<OperationResult> {
    const op = stored.plan;
    const progress = progressOf(stored, await this.ownerAlive(op));
    if (progress.status === 'running') throw new OpsdeckError('usage', `operation ${op.id} is still running`, 'stop it first (Ctrl+C where it runs), or break its lock if its owner is dead: opsdeck lock ENV --break');
    if (progress.status === 'rolled-back') throw new OpsdeckError('usage', `operation ${op.id} is rolled back already`);
    this.checkAllowed(op, confirmation);
    const emit = options.onEvent ?? (() => undefined);
    emit({ type: 'planned', op, mode: 'rollback' });
    const locks = await this.lock(op, confirmation, true, emit);
    const journal = new StateJournal(this.deps.hostFor(op.host), op.id);
    const started = Date.now();
    try {
      const begun = new Set<number>();
      for (const e of stored.events) if (e.event === 'step-started') begun.add(e.step);
      const outcome = await this.undoAll(op, journal, confirmation, new Set(progress.done), begun, stepData(stored), emit);
      const result = this.result(op, outcome.ok ? 'rolled-back' : 'rollback-failed', started, { error: outcome.error, ok: outcome.ok });
      emit({ type: 'ended', result });
      return result;
    } finally {
      await locks.release().catch(() => undefined);
    }
  }

  /** The operation as its host's journal has it now. */
  async stored(op: Pick<Operation, 'id' | 'host'>): Promise<StoredOperation | undefined> {
    return (await readStoredOperations(this.deps.hostFor(op.host), op.id))[0];
  }

  /** Whether the opsdeck that last ran an operation still runs it (its lock is held and not stale). */
  async ownerAlive(op: Operation): Promise<boolean> {
    const names = (op.environments.length > 0 ? op.environments : [null]).map(lockName);
    const locks = await readLocks(this.deps.hostFor(op.host)).catch(() => []);
    return locks.some((l) => names.includes(l.name) && l.owner?.op === op.id && !l.stale && ownerAliveHere(l.owner) !== false);
  }

  private async preflight(op: Operation): Promise<string | null> {
    for (const check of op.preflight) {
      const problem = await this.check(check);
      if (problem) return problem;
    }
    return null;
  }

  private async check(check: Check): Promise<string | null> {
    const host = this.deps.hostFor(check.host);
    if (check.kind === 'unit-exists') {
      const unit = (await showUnits(host, [check.unit])).get(check.unit);
      return !unit || unit.loadState === 'not-found' ? `${check.unit} does not exist on host ${check.host}` : null;
    }
    const start = await processStartTime(host, check.pid);
    if (start === null) return `PID ${check.pid} (${check.command}) is gone from host ${check.host}`;
    return start !== check.startTime ? `PID ${check.pid} is now another process than the one planned for (${check.command})` : null;
  }

  private async execute(
    op: Operation,
    journal: StateJournal,
    confirmation: Confirmation,
    from: { start: number; unfinished: number | null; data: Map<number, Record<string, unknown>>; started: Set<number> },
    options: RunOptions,
  ): Promise<OperationResult> {
    const startedAt = Date.now();
    const emit = options.onEvent ?? (() => undefined);
    const by = confirmedBy(confirmation);
    const done = new Set<number>(op.steps.map((_, i) => i).filter((i) => i < from.start));
    const end = (result: OperationResult) => {
      emit({ type: 'ended', result });
      return result;
    };
    const problem = await this.preflight(op);
    if (problem) {
      await journal.append({ event: 'failed', at: new Date().toISOString(), step: null, error: `preflight: ${problem}` });
      return end(this.result(op, 'failed', startedAt, { error: `preflight: ${problem}` }));
    }
    let auditError: string | null = null;
    for (let index = from.start; index < op.steps.length; index++) {
      const step = op.steps[index]!;
      const env: StepEnv = { host: this.deps.hostFor(step.host), op, index, signal: options.signal, emit: (e: StepEvent) => emit({ ...e, index } as OperationEvent) };
      const kind = kindOf(step);
      const resumed = index === from.unfinished;
      let before: Record<string, unknown> | undefined;
      try {
        before = resumed ? from.data.get(index) : await kind.before?.(step, env);
      } catch (error) {
        const message = describeError(error);
        await journal.append({ event: 'failed', at: new Date().toISOString(), step: index, error: message });
        return end(await this.afterFailure(op, journal, confirmation, done, from, index, startedAt, message, '', null, emit));
      }
      // The intent, on the host and in the audit log, before anything changes.
      if (!resumed) await journal.append({ event: 'step-started', at: new Date().toISOString(), step: index, ...(before ? { data: before } : {}) });
      from.started.add(index);
      const argv = stepArgv(step);
      try {
        this.record(op, index, { argv, exitCode: null, stderr: '', durationMs: 0 }, 'started', by);
      } catch (error) {
        auditError = describeError(error);
        await journal.append({ event: 'interrupted', at: new Date().toISOString(), reason: `the audit log cannot be written: ${auditError}` });
        return end(this.result(op, 'interrupted', startedAt, { error: `step ${index + 1} was not run: the audit log could not take its intent`, auditError }));
      }
      emit({ type: 'step-started', index, step, resumed });
      const stepStart = Date.now();
      try {
        const outcome = await kind.run(step, env, before, resumed);
        await journal.append({ event: 'step-finished', at: new Date().toISOString(), step: index, ok: true, exitCode: outcome.exitCode, ...(outcome.data ? { data: outcome.data } : {}) });
        done.add(index);
        auditError = this.tryRecord(op, index, { argv, exitCode: outcome.exitCode, stderr: '', durationMs: Date.now() - stepStart }, 'ok', by) ?? auditError;
        emit({ type: 'step-finished', index, ok: true, durationMs: Date.now() - stepStart, exitCode: outcome.exitCode });
        await afterRecorded(step, env).catch(() => undefined);
      } catch (error) {
        if (options.signal?.aborted || isHostLost(error)) {
          // Stop here: the step may still be going on (a detached command, a systemd job); a resume reattaches.
          // A lost host: its outcome is unknown, and the journal (on that host) may not be reachable either.
          const reason = options.signal?.aborted ? 'stopped by the operator' : `lost host ${env.host.name}: ${describeError(error)}`;
          await journal.append({ event: 'interrupted', at: new Date().toISOString(), reason }).catch(() => undefined);
          this.tryRecord(op, index, { argv, exitCode: null, stderr: reason, durationMs: Date.now() - stepStart }, 'abandoned', by);
          return end(this.result(op, 'interrupted', startedAt, { error: `${reason} at step ${index + 1} (${step.title}); resume or roll back later`, auditError }));
        }
        const failure = error instanceof StepFailure ? error : new StepFailure(describeError(error));
        await journal.append({ event: 'step-finished', at: new Date().toISOString(), step: index, ok: false, exitCode: failure.exitCode, error: failure.message });
        auditError = this.tryRecord(op, index, { argv, exitCode: failure.exitCode, stderr: failure.stderr || failure.message, durationMs: Date.now() - stepStart }, 'failed', by) ?? auditError;
        const journalLines = failure.unit ? await this.recentJournal(env.host, failure.unit, stepStart) : [];
        emit({ type: 'step-finished', index, ok: false, durationMs: Date.now() - stepStart, exitCode: failure.exitCode, error: failure.message, stderr: failure.stderr, journal: journalLines });
        await journal.append({ event: 'failed', at: new Date().toISOString(), step: index, error: failure.message });
        return end(await this.afterFailure(op, journal, confirmation, done, from, index, startedAt, failure.message, failure.stderr, journalLines, emit));
      }
    }
    await journal.append({ event: 'finished', at: new Date().toISOString() });
    await journal.markEnded();
    return end(this.result(op, 'finished', startedAt, { auditError }));
  }

  private async afterFailure(
    op: Operation,
    journal: StateJournal,
    confirmation: Confirmation,
    done: Set<number>,
    from: { data: Map<number, Record<string, unknown>>; started: Set<number> },
    failed: number,
    startedAt: number,
    error: string,
    stderr: string,
    journalLines: string[] | null,
    emit: (e: OperationEvent) => void,
  ): Promise<OperationResult> {
    const facts = { failedStep: failed, error, stderr, journal: journalLines ?? [] };
    if (op.onFailure !== 'rollback') return this.result(op, 'failed', startedAt, { ...facts, undoable: done.size > 0 });
    const data = await this.recordedData(op, journal, from.data);
    const outcome = await this.undoAll(op, journal, confirmation, done, from.started, data, emit);
    return this.result(op, outcome.ok ? 'rolled-back' : 'rollback-failed', startedAt, { ...facts, error: outcome.ok ? `${error} (rolled back)` : `${error}; the rollback failed too: ${outcome.error}` });
  }

  /** What the steps recorded (their start data and end data), as the journal on the host has it. */
  private async recordedData(op: Operation, journal: StateJournal, known: Map<number, Record<string, unknown>>): Promise<Map<number, Record<string, unknown>>> {
    const stored = (await readStoredOperations(journal.host, op.id))[0];
    return stored ? stepData(stored) : known;
  }

  private async undoAll(
    op: Operation,
    journal: StateJournal,
    confirmation: Confirmation,
    done: Set<number>,
    begun: Set<number>,
    data: Map<number, Record<string, unknown>>,
    emit: (e: OperationEvent) => void,
  ): Promise<{ ok: boolean; error: string | null }> {
    const by = confirmedBy(confirmation);
    await journal.append({ event: 'rollback-started', at: new Date().toISOString(), by: currentOwner(currentUser()) });
    let ok = true;
    let firstError: string | null = null;
    let pending: number[] = [];
    const undoOne = async (index: number, again: boolean) => {
      const step = op.steps[index]!;
      const env: StepEnv = { host: this.deps.hostFor(step.host), op, index, emit: (e: StepEvent) => emit({ ...e, index } as OperationEvent) };
      emit({ type: 'undo-started', index, step });
      await journal.append({ event: 'undo-started', at: new Date().toISOString(), step: index });
      const argv = stepArgv(step);
      const t = Date.now();
      try {
        if (again) await kindOf(step).run(step, env, undefined, false);
        else await kindOf(step).undo!(step, env, data.get(index) ?? {});
        await journal.append({ event: 'undone', at: new Date().toISOString(), step: index, ok: true });
        this.tryRecord(op, index, { argv, exitCode: 0, stderr: again ? 'run again to re-apply' : '', durationMs: Date.now() - t }, 'undone', by);
        emit({ type: 'undone', index, ok: true });
      } catch (error) {
        const message = describeError(error);
        ok = false;
        firstError ??= `step ${index + 1} (${step.title}): ${message}`;
        await journal.append({ event: 'undone', at: new Date().toISOString(), step: index, ok: false, error: message });
        this.tryRecord(op, index, { argv, exitCode: null, stderr: message, durationMs: Date.now() - t }, 'undo-failed', by);
        emit({ type: 'undone', index, ok: false, error: message });
      }
    };
    const flush = async () => {
      for (const index of pending.sort((a, b) => a - b)) await undoOne(index, true);
      pending = [];
    };
    for (let index = op.steps.length - 1; index >= 0; index--) {
      const step = op.steps[index]!;
      if (reapplies(step)) {
        // Re-applied after what it applied is undone (a restart that failed half-way counts too).
        if (done.has(index) || begun.has(index)) pending.push(index);
        continue;
      }
      if (!done.has(index) || kindOf(step).inert) continue;
      if (!canUndo(step)) {
        ok = false;
        firstError ??= `step ${index + 1} (${step.title}) cannot be undone: ${kindOf(step).undoText(step)}`;
        continue;
      }
      await undoOne(index, false);
      await flush();
    }
    await flush();
    await journal.append({ event: 'rolled-back', at: new Date().toISOString(), ok, ...(firstError ? { error: firstError } : {}) });
    if (ok) await journal.markEnded();
    return { ok, error: firstError };
  }

  /** The unit's journal since the step began (and a few seconds before): why it failed, in its own words. */
  private async recentJournal(host: Host, unit: string, since: number): Promise<string[]> {
    const lines: string[] = [];
    // Relative to the host's clock, not ours: a remote host's may differ.
    const seconds = Math.ceil((Date.now() - since) / 1000) + 5;
    await readJournal(host, { units: [unit], since: `-${seconds}s`, lines: 12 }, (entries) => {
      for (const e of entries) lines.push(`${new Date(e.timeUs / 1000).toISOString().slice(11, 19)} ${e.message}`);
    }).catch(() => undefined);
    return lines;
  }

  private result(op: Operation, status: OperationResult['status'], startedAt: number, facts: Partial<OperationResult> & { undoable?: boolean } = {}): OperationResult {
    const durationMs = Date.now() - startedAt;
    const error = facts.error ?? null;
    const summary =
      status === 'finished' ? `${op.title}: done in ${durationMs} ms`
        : status === 'rolled-back' ? `${op.title}: ${facts.failedStep !== undefined && facts.failedStep !== null ? `failed at step ${facts.failedStep + 1}, ` : ''}rolled back${error ? `: ${error}` : ''}`
          : status === 'interrupted' ? `${op.title}: interrupted${error ? `: ${error}` : ''} (opsdeck ops resume ${op.id}, or rollback)`
            : `${op.title}: ${status}${error ? `: ${error}` : ''}${status === 'failed' && facts.undoable ? ` (opsdeck ops rollback ${op.id} undoes what was done)` : ''}`;
    const auditError = facts.auditError ?? null;
    return {
      id: op.id,
      status,
      ok: (facts.ok ?? status === 'finished') && auditError === null,
      summary: auditError ? `${summary} — NOT RECORDED in the audit log: ${auditError}` : summary,
      failedStep: facts.failedStep ?? null,
      error,
      stderr: facts.stderr ?? '',
      journal: facts.journal ?? [],
      auditError,
      durationMs,
    };
  }

  private tryRecord(op: Operation, step: number | null, facts: { argv: string[]; exitCode: number | null; stderr: string; durationMs: number }, outcome: AuditRecord['outcome'], by: AuditRecord['confirmedBy']): string | null {
    try {
      this.record(op, step, facts, outcome, by);
      return null;
    } catch (error) {
      return describeError(error);
    }
  }

  private record(op: Operation, step: number | null, facts: { argv: string[]; exitCode: number | null; stderr: string; durationMs: number }, outcome: AuditRecord['outcome'], by: AuditRecord['confirmedBy']): void {
    const hostName = step === null ? op.host : op.steps[step]!.host;
    let wrappedArgv: string[] = [];
    try {
      wrappedArgv = this.deps.hostFor(hostName).wrap(facts.argv);
    } catch {
      /* the host cannot be addressed (e.g. the lab is down): the record still goes in */
    }
    this.deps.audit.append({
      time: new Date().toISOString(),
      user: currentUser(),
      host: hostName,
      environment: op.environment,
      action: step === null || op.steps.length === 1 ? op.title : `${op.title} — step ${step + 1}/${op.steps.length}: ${op.steps[step]!.title}`,
      target: op.target,
      argv: facts.argv,
      wrappedArgv,
      exitCode: facts.exitCode,
      durationMs: facts.durationMs,
      outcome,
      ...(facts.stderr ? { stderr: trimStderr(facts.stderr) } : {}),
      confirmedBy: by,
      operation: op.id,
      ...(step !== null ? { step: step + 1 } : {}),
    });
  }
}
