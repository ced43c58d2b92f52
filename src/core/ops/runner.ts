// The one runner of operations, for the console, the CLI and the wizard alike. It refuses in
// read-only mode and without the confirmation the target needs (protection as the config says
// it now, never as a stored plan says it; the refusal audited), takes the environments' locks
// on the host, writes the plan and then each step's start and end to the host's state journal
// (fsynced before going on), audits each step's intent before it and its result after it,
// runs the steps, and on a failure stops, shows why (stderr and the unit's last journal lines)
// and rolls back where the operation says so. `resume` and `rollback` pick an operation up from
// its journal, after Ctrl+C, a crash, `kill -9` or a dropped connection. A holder whose lock is
// broken under it stops at once (interrupted), whatever step it is in.
import type { Host } from '../host/host.js';
import { readJournal } from '../journal/read.js';
import { showUnits } from '../systemd/units.js';
import { CommandError, OpsdeckError, describeError } from '../text/errors.js';
import { currentUser, type AuditLog } from './audit.js';
import { LockError, acquireLocks, currentOwner, operationLockNames, operationOwnerAlive, readLocks, type HeldLocks, type LockInfo } from './lock.js';
import type { Check, Operation } from './operation.js';
import { operationResult, type OperationEvent, type OperationResult } from './outcome.js';
import { confirmedBy, OperationRecorder, requiredPhrase, type Confirmation } from './recorder.js';
import type { Protection, PolicySubject } from './policy.js';
import { planRollback } from './rollback.js';
import { IN_PROGRESS, RESUMABLE, StateJournal, progressOf, readStoredOperations, stepData, type OperationStatus, type StoredOperation } from './state.js';

export { requiredPhrase, type Confirmation } from './recorder.js';
export type { OperationEvent, OperationResult } from './outcome.js';
import { HostLost, kindOf, ROLLBACK_KINDS, StepFailure, type StepEnv, type StepEvent, type StepPreview } from './steps/index.js';
import { processStartTime } from './steps/pid.js';

export interface RunnerDeps {
  hostFor: (name: string) => Host;
  audit: AuditLog;
  readonly: (op: PolicySubject) => boolean;
  /** Protection from the config (policy.ts): the plan's own word is not taken for it. */
  protection: (op: Pick<Operation, 'host' | 'environments'>) => Protection;
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

const now = () => new Date().toISOString();

/** Steps the journal says were started (finished or not). */
function begunSteps(stored: StoredOperation): Set<number> {
  const begun = new Set<number>();
  for (const e of stored.events) if (e.event === 'step-started') begun.add(e.step);
  return begun;
}

/** Where a run starts from: fresh (0) or resumed, and what the steps recorded so far. */
interface Start {
  start: number;
  unfinished: number | null;
  data: Map<number, Record<string, unknown>>;
  begun: Set<number>;
}

export class OperationRunner {
  private readonly recorder: OperationRecorder;

  constructor(private readonly deps: RunnerDeps) {
    this.recorder = new OperationRecorder(deps.audit, deps.hostFor);
  }

  isReadonly(op: PolicySubject): boolean {
    return this.deps.readonly(op);
  }

  /** The operation with its protection as the config says it now (what the confirm dialog and the prompt ask for). */
  guarded(op: Operation): Operation {
    const { protected: isProtected, phrase } = this.deps.protection(op);
    return { ...op, protected: isProtected, phrase };
  }

  /** Every step's preview (commands, diffs, undo), from the hosts' live state; nothing is written. */
  async preview(op: Operation): Promise<StepPreview[]> {
    return Promise.all(op.steps.map((step, index) => kindOf(step).preview(step, { host: this.deps.hostFor(step.host), op, index })));
  }

  /** Record that an operation was refused and return the error to show (a refusal that cannot be recorded is still one). */
  refuse(op: Operation, why: string, hint: string | undefined, confirmation: Confirmation | null): OpsdeckError {
    try {
      this.recorder.record(op, null, { argv: op.steps[0] ? kindOf(op.steps[0]).argv(op.steps[0]) : [], exitCode: null, stderr: why, durationMs: 0 }, 'refused', confirmedBy(confirmation));
    } catch (error) {
      return new OpsdeckError('usage', why, `${hint ? `${hint}; ` : ''}the refusal itself could not be recorded: ${describeError(error)}`);
    }
    return new OpsdeckError('usage', why, hint);
  }

  private checkAllowed(op: Operation, confirmation: Confirmation): void {
    const protection = this.deps.protection(op);
    if (protection.unknown.length > 0) {
      throw this.refuse(op, `operation ${op.id} touches ${protection.unknown.join(', ')}, which the config does not have`, 'run it with the config it was made with', confirmation);
    }
    if (this.isReadonly(op)) {
      throw this.refuse(op, `read-only mode: ${op.title} is not allowed${op.environments.length > 0 ? ` (it touches ${op.environments.join(', ')})` : ''}`, 'drop --readonly, or readonly: true from the config, to act', confirmation);
    }
    const phrase = requiredPhrase({ ...op, ...protection });
    if (phrase && confirmation.kind !== 'yes-flag' && !(confirmation.kind === 'typed-name' && confirmation.text === phrase)) {
      throw this.refuse(op, `${op.title} on protected ${phrase} needs its name typed to confirm`, undefined, confirmation);
    }
    this.deps.audit.ensureWritable();
  }

  /** Take the operation's locks; a lock lost later aborts `stop` (the holder must not go on). */
  private async lock(op: Operation, confirmation: Confirmation, takeOver: boolean, stop: AbortController, emit: (e: OperationEvent) => void): Promise<HeldLocks> {
    const names = operationLockNames(op);
    try {
      const held = await acquireLocks(this.deps.hostFor(op.host), names, { ...currentOwner(currentUser()), op: op.id, title: op.title, since: now() }, { takeOver, onLost: (why) => stop.abort(new Error(why)) });
      emit({ type: 'locked', names });
      return held;
    } catch (error) {
      // Refused because another holds it: that is a refusal to record. A host that cannot be reached is not.
      if (error instanceof LockError) this.refuse(op, error.message, error.hint, confirmation);
      throw error;
    }
  }

  /** One signal for "stop here": the operator's, or the lock's loss. */
  private stopper(options: RunOptions): AbortController {
    const stop = new AbortController();
    if (options.signal?.aborted) stop.abort(options.signal.reason);
    options.signal?.addEventListener('abort', () => stop.abort(new Error('stopped by the operator')), { once: true });
    return stop;
  }

  /** Plan -> host: lock, journal, preflight, every step; a failure rolls back or stops as the operation says. */
  async run(op: Operation, confirmation: Confirmation, options: RunOptions = {}): Promise<OperationResult> {
    this.checkAllowed(op, confirmation);
    const emit = options.onEvent ?? (() => undefined);
    emit({ type: 'planned', op, mode: 'run' });
    const stop = this.stopper(options);
    const locks = await this.lock(op, confirmation, false, stop, emit);
    const journal = new StateJournal(this.deps.hostFor(op.host), op.id);
    try {
      await journal.create(op, currentOwner(currentUser()));
      return await this.execute(op, journal, confirmation, { start: 0, unfinished: null, data: new Map(), begun: new Set() }, { ...options, signal: stop.signal });
    } finally {
      await locks.release().catch(() => undefined);
    }
  }

  /** Continue an interrupted operation from its first unfinished step, its preflight checked again. */
  async resume(seen: StoredOperation, confirmation: Confirmation, options: RunOptions = {}): Promise<OperationResult> {
    const op = seen.plan;
    const refuseUnless = (status: OperationStatus) => {
      if (RESUMABLE.includes(status)) return;
      const hint = IN_PROGRESS.includes(status) ? 'it is still going on (see opsdeck ops)' : status === 'rollback-interrupted' ? `its rollback was cut off: finish it with opsdeck ops rollback ${op.id}` : undefined;
      throw new OpsdeckError('usage', `operation ${op.id} is ${status}: there is nothing to resume`, hint);
    };
    refuseUnless(progressOf(seen, await this.ownerAlive(op)).status);
    this.checkAllowed(op, confirmation);
    const emit = options.onEvent ?? (() => undefined);
    emit({ type: 'planned', op, mode: 'resume' });
    const stop = this.stopper(options);
    const locks = await this.lock(op, confirmation, true, stop, emit);
    const journal = new StateJournal(this.deps.hostFor(op.host), op.id);
    try {
      // What it is now, with the lock held: another opsdeck may have resumed or rolled it back meanwhile.
      const stored = await this.storedNow(op, seen);
      const progress = progressOf(stored, true);
      refuseUnless(progress.status === 'running' ? 'interrupted' : progress.status);
      await journal.append({ event: 'resumed', at: now(), by: currentOwner(currentUser()) });
      const start = op.steps.findIndex((_, i) => !progress.done.includes(i));
      return await this.execute(op, journal, confirmation, { start: start < 0 ? op.steps.length : start, unfinished: progress.unfinished, data: stepData(stored), begun: begunSteps(stored) }, { ...options, signal: stop.signal });
    } finally {
      await locks.release().catch(() => undefined);
    }
  }

  /** Undo what an operation did, in reverse (re-applying steps run again once what they applied is put back). */
  async rollback(seen: StoredOperation, confirmation: Confirmation, options: RunOptions = {}): Promise<OperationResult> {
    const op = seen.plan;
    const refuseUnless = (status: OperationStatus) => {
      if (IN_PROGRESS.includes(status)) throw new OpsdeckError('usage', `operation ${op.id} is still ${status}`, 'stop it first (Ctrl+C where it runs), or break its lock if its owner is dead: opsdeck lock ENV --break');
      if (status === 'rolled-back') throw new OpsdeckError('usage', `operation ${op.id} is rolled back already`);
    };
    refuseUnless(progressOf(seen, await this.ownerAlive(op)).status);
    this.checkAllowed(op, confirmation);
    const emit = options.onEvent ?? (() => undefined);
    emit({ type: 'planned', op, mode: 'rollback' });
    const stop = this.stopper(options);
    const locks = await this.lock(op, confirmation, true, stop, emit);
    const journal = new StateJournal(this.deps.hostFor(op.host), op.id);
    const startedAt = Date.now();
    try {
      const stored = await this.storedNow(op, seen);
      const progress = progressOf(stored, false);
      refuseUnless(progress.status);
      const outcome = await this.undoAll(op, journal, confirmation, new Set(progress.done), begunSteps(stored), stepData(stored), emit);
      const result = operationResult(op, outcome.ok ? 'rolled-back' : 'rollback-failed', startedAt, { error: outcome.error, ok: outcome.ok });
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

  private async storedNow(op: Operation, seen: StoredOperation): Promise<StoredOperation> {
    const stored = await this.stored(op);
    if (!stored) throw new OpsdeckError('command', `operation ${op.id} is gone from host ${op.host} (its journal cannot be read)`);
    // The plan acted on is the one the operator confirmed: a plan changed on the host meanwhile is not run.
    if (JSON.stringify(stored.plan) !== JSON.stringify(seen.plan)) throw new OpsdeckError('command', `the plan of operation ${op.id} changed on host ${op.host} since it was shown`, 'look again: opsdeck ops show ' + op.id);
    return stored;
  }

  /** Whether the opsdeck that runs an operation still holds its lock, alive. */
  async ownerAlive(op: Operation): Promise<boolean> {
    return (await this.liveOwners(op.host))(op);
  }

  /** The host's locks, read once, as a test of whether an operation's owner is alive (for lists of them). */
  async liveOwners(hostName: string): Promise<(op: Pick<Operation, 'id' | 'environments'>) => boolean> {
    const locks: LockInfo[] = await readLocks(this.deps.hostFor(hostName)).catch(() => []);
    return (op) => operationOwnerAlive(op, locks);
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

  private async execute(op: Operation, journal: StateJournal, confirmation: Confirmation, from: Start, options: RunOptions & { signal: AbortSignal }): Promise<OperationResult> {
    const startedAt = Date.now();
    const emit = options.onEvent ?? (() => undefined);
    const by = confirmedBy(confirmation);
    const signal = options.signal;
    const done = new Set<number>(op.steps.map((_, i) => i).filter((i) => i < from.start));
    const end = async (result: OperationResult) => {
      // Failed with nothing a rollback could undo: it is over (not left open in every header and list).
      if (result.status === 'failed' && !this.undoable(op, done, from.begun)) await journal.markEnded().catch(() => undefined);
      emit({ type: 'ended', result });
      return result;
    };
    const interrupted = async (reason: string, index: number, argv: string[] | null, stepStart: number, auditError: string | null, error?: string) => {
      await journal.append({ event: 'interrupted', at: now(), reason }).catch(() => undefined);
      if (argv) this.recorder.tryRecord(op, index, { argv, exitCode: null, stderr: reason, durationMs: Date.now() - stepStart }, 'abandoned', by);
      const step = op.steps[index];
      return end(operationResult(op, 'interrupted', startedAt, { error: error ?? `${reason}${step ? ` at step ${index + 1} (${step.title})` : ''}; resume or roll back later`, auditError }));
    };
    const stopReason = () => (signal.reason instanceof Error ? signal.reason.message : 'stopped by the operator');

    let problem: string | null;
    try {
      problem = await this.preflight(op);
    } catch (error) {
      if (isHostLost(error)) return interrupted(`lost host: ${describeError(error)}`, from.start, null, Date.now(), null);
      problem = describeError(error);
    }
    if (problem) {
      await journal.append({ event: 'failed', at: now(), step: null, error: `preflight: ${problem}` });
      return end(operationResult(op, 'failed', startedAt, { error: `preflight: ${problem}`, undoable: this.undoable(op, done, from.begun) }));
    }
    let auditError: string | null = null;
    for (let index = from.start; index < op.steps.length; index++) {
      const step = op.steps[index]!;
      const env: StepEnv = { host: this.deps.hostFor(step.host), op, index, signal, emit: (e: StepEvent) => emit({ ...e, index } as OperationEvent) };
      const kind = kindOf(step);
      const argv = kind.argv(step);
      if (signal.aborted) return interrupted(stopReason(), index, null, Date.now(), auditError);
      const resumed = index === from.unfinished;
      let before: Record<string, unknown> | undefined;
      try {
        before = resumed ? from.data.get(index) : await kind.before?.(step, env);
      } catch (error) {
        if (isHostLost(error)) return interrupted(`lost host ${env.host.name}: ${describeError(error)}`, index, null, Date.now(), auditError);
        const message = describeError(error);
        await journal.append({ event: 'failed', at: now(), step: index, error: message });
        return end(await this.afterFailure(op, journal, confirmation, done, from, index, startedAt, message, '', null, emit));
      }
      if (before) from.data.set(index, before);
      // The intent, in the audit log and then on the host, before anything changes.
      try {
        this.recorder.record(op, index, { argv, exitCode: null, stderr: '', durationMs: 0 }, 'started', by);
      } catch (error) {
        auditError = describeError(error);
        return interrupted(`the audit log cannot be written: ${auditError}`, index, null, Date.now(), auditError, `step ${index + 1} was not run: the audit log could not take its intent`);
      }
      if (!resumed) await journal.append({ event: 'step-started', at: now(), step: index, ...(before ? { data: before } : {}) });
      from.begun.add(index);
      emit({ type: 'step-started', index, step, resumed });
      const stepStart = Date.now();
      let outcome: Awaited<ReturnType<typeof kind.run>>;
      try {
        outcome = await kind.run(step, env, before, resumed);
      } catch (error) {
        if (signal.aborted || isHostLost(error)) {
          // Stop here: the step may still be going on (a detached command, a systemd job); a resume reattaches.
          // A lost host: its outcome is unknown, and the journal (on that host) may not be reachable either.
          return interrupted(signal.aborted ? stopReason() : `lost host ${env.host.name}: ${describeError(error)}`, index, argv, stepStart, auditError);
        }
        const failure = error instanceof StepFailure ? error : new StepFailure(describeError(error));
        await journal.append({ event: 'step-finished', at: now(), step: index, ok: false, exitCode: failure.exitCode, error: failure.message });
        auditError = this.recorder.tryRecord(op, index, { argv, exitCode: failure.exitCode, stderr: failure.stderr || failure.message, durationMs: Date.now() - stepStart }, 'failed', by) ?? auditError;
        await kind.afterRecorded?.(step, env).catch(() => undefined);
        const journalLines = failure.unit ? await this.recentJournal(env.host, failure.unit, stepStart) : [];
        emit({ type: 'step-finished', index, ok: false, durationMs: Date.now() - stepStart, exitCode: failure.exitCode, error: failure.message, stderr: failure.stderr, journal: journalLines });
        await journal.append({ event: 'failed', at: now(), step: index, error: failure.message });
        return end(await this.afterFailure(op, journal, confirmation, done, from, index, startedAt, failure.message, failure.stderr, journalLines, emit));
      }
      // Done on the host: from here on a failure to record it is not the step's failure.
      done.add(index);
      if (outcome.data) from.data.set(index, { ...from.data.get(index), ...outcome.data });
      journal.defer({ event: 'step-finished', at: now(), step: index, ok: true, exitCode: outcome.exitCode, ...(outcome.data ? { data: outcome.data } : {}) });
      auditError = this.recorder.tryRecord(op, index, { argv, exitCode: outcome.exitCode, stderr: '', durationMs: Date.now() - stepStart }, 'ok', by) ?? auditError;
      emit({ type: 'step-finished', index, ok: true, durationMs: Date.now() - stepStart, exitCode: outcome.exitCode });
      if (kind.afterRecorded) {
        // e.g. a detached command's transient unit: removed once its end is on disk (a resume reads it till then).
        const flushed = await journal.flush().then(() => true, () => false);
        if (flushed) await kind.afterRecorded(step, env).catch(() => undefined);
      }
    }
    try {
      await journal.append({ event: 'finished', at: now() });
      await journal.markEnded();
    } catch (error) {
      // Every step is done; only the record of it is missing (a resume finds nothing left to do).
      return end(operationResult(op, 'interrupted', startedAt, { error: `every step is done, but the end could not be written to host ${op.host}: ${describeError(error)}`, auditError }));
    }
    return end(operationResult(op, 'finished', startedAt, { auditError }));
  }

  private async afterFailure(
    op: Operation,
    journal: StateJournal,
    confirmation: Confirmation,
    done: Set<number>,
    from: Start,
    failed: number,
    startedAt: number,
    error: string,
    stderr: string,
    journalLines: string[] | null,
    emit: (e: OperationEvent) => void,
  ): Promise<OperationResult> {
    const facts = { failedStep: failed, error, stderr, journal: journalLines ?? [] };
    if (op.onFailure !== 'rollback') return operationResult(op, 'failed', startedAt, { ...facts, undoable: this.undoable(op, done, from.begun) });
    const outcome = await this.undoAll(op, journal, confirmation, done, from.begun, from.data, emit);
    return operationResult(op, outcome.ok ? 'rolled-back' : 'rollback-failed', startedAt, { ...facts, error: outcome.ok ? `${error} (rolled back)` : `${error}; the rollback failed too: ${outcome.error}` });
  }

  /** Whether a rollback would do anything. */
  private undoable(op: Operation, done: ReadonlySet<number>, begun: ReadonlySet<number>): boolean {
    return planRollback(op.steps, { done, begun, ...ROLLBACK_KINDS }).some((a) => a.how !== 'cannot');
  }

  /** Undo, in the order planRollback gives; each undo's intent audited and journaled before it runs. */
  private async undoAll(
    op: Operation,
    journal: StateJournal,
    confirmation: Confirmation,
    done: ReadonlySet<number>,
    begun: ReadonlySet<number>,
    data: Map<number, Record<string, unknown>>,
    emit: (e: OperationEvent) => void,
  ): Promise<{ ok: boolean; error: string | null }> {
    const by = confirmedBy(confirmation);
    await journal.append({ event: 'rollback-started', at: now(), by: currentOwner(currentUser()) });
    let ok = true;
    let firstError: string | null = null;
    const fail = (index: number, message: string) => {
      ok = false;
      firstError ??= `step ${index + 1} (${op.steps[index]!.title}): ${message}`;
    };
    for (const action of planRollback(op.steps, { done, begun, ...ROLLBACK_KINDS })) {
      const index = action.index;
      const step = op.steps[index]!;
      const kind = kindOf(step);
      if (action.how === 'cannot') {
        fail(index, `cannot be undone: ${kind.undoText(step)}`);
        continue;
      }
      const reapply = action.how === 'reapply';
      const env: StepEnv = { host: this.deps.hostFor(step.host), op, index, emit: (e: StepEvent) => emit({ ...e, index } as OperationEvent) };
      const argv = kind.argv(step);
      const note = reapply ? 'run again to re-apply' : `undo: ${kind.undoText(step)}`;
      try {
        this.recorder.record(op, index, { argv, exitCode: null, stderr: note, durationMs: 0 }, 'undo-started', by);
      } catch (error) {
        fail(index, `not undone: the audit log could not take its intent: ${describeError(error)}`);
        break;
      }
      emit({ type: 'undo-started', index, step, reapply });
      await journal.append({ event: 'undo-started', at: now(), step: index });
      const t = Date.now();
      try {
        if (reapply) await kind.run(step, env, undefined, false);
        else await kind.undo!(step, env, data.get(index) ?? {});
        await journal.append({ event: 'undone', at: now(), step: index, ok: true });
        this.recorder.tryRecord(op, index, { argv, exitCode: 0, stderr: note, durationMs: Date.now() - t }, 'undone', by);
        emit({ type: 'undone', index, ok: true });
      } catch (error) {
        const message = describeError(error);
        fail(index, message);
        await journal.append({ event: 'undone', at: now(), step: index, ok: false, error: message }).catch(() => undefined);
        this.recorder.tryRecord(op, index, { argv, exitCode: null, stderr: message, durationMs: Date.now() - t }, 'undo-failed', by);
        emit({ type: 'undone', index, ok: false, error: message });
      }
    }
    await journal.append({ event: 'rolled-back', at: now(), ok, ...(firstError ? { error: firstError } : {}) });
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
}
