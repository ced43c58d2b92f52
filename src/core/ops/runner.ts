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
import { OpsdeckError, describeError } from '../text/errors.js';
import { currentUser, type AuditLog } from './audit.js';
import { LockError, acquireLocks, currentOwner, operationLockNames, operationOwnerAlive, readLocks, type HeldLocks } from './lock.js';
import type { Check, Operation } from './operation.js';
import { operationResult, type OperationEvent, type OperationResult } from './outcome.js';
import { confirmedBy, OperationRecorder, requiredPhrase, type Confirmation } from './recorder.js';
import type { Protection, PolicySubject } from './policy.js';
import { ProgressMeter } from './progress.js';
import { planRollback, type RollbackFacts } from './rollback.js';
import { IN_PROGRESS, RESUMABLE, StateJournal, progressOf, readStoredOperations, rollbackFacts, stepData, type JournalEvent, type OperationProgress, type OperationStatus, type StoredOperation } from './state.js';

export { requiredPhrase, type Confirmation } from './recorder.js';
export type { OperationEvent, OperationResult } from './outcome.js';
import { endMayWait, kindOf, OutcomeUnknown, ROLLBACK_KINDS, StepFailure, stepError, type StepEnv, type StepEvent, type StepPreview } from './steps/index.js';
import { processStartTime } from '../host/process-start.js';

export interface RunnerDeps {
  hostFor: (name: string) => Host;
  audit: AuditLog;
  readonly: (op: PolicySubject) => boolean;
  /** Protection from the config (policy.ts): the plan's own word is not taken for it. */
  protection: (op: Pick<Operation, 'host' | 'environments'>) => Protection;
  /** Every environment a stored plan may touch (policy.ts): its own list is not trusted. */
  storedScope: (plan: Operation) => string[];
}

export interface RunOptions {
  /** Abort: stop here (the operation is left interrupted, to resume or roll back later). */
  signal?: AbortSignal;
  onEvent?: (event: OperationEvent) => void;
  /**
   * Rolling back what this very process just ran (Ctrl+C, then "roll back"): the environments
   * are the ones it was confirmed for, not every one on its hosts as for a plan read back.
   */
  ranAs?: Operation;
}

/** A step's events as the operation's: its index added, its progress metered (rate, time left, a few a second). */
function stepEvents(index: number, emit: (e: OperationEvent) => void): (e: StepEvent) => void {
  const meter = new ProgressMeter();
  return (e) => {
    if (e.type !== 'progress') return emit({ ...e, index });
    const progress = meter.report(e.done, e.total, e.unit, Date.now(), e.files);
    if (progress) emit({ type: 'progress', index, ...progress });
  };
}

/** Why a run was told to stop: the operator, or a lock taken from it. */
function stopReason(signal: AbortSignal): string {
  return signal.reason instanceof Error ? signal.reason.message : 'stopped by the operator';
}

/** Why a step's outcome is unknown (the host did not answer, a command did not end in time), or null when it plainly failed. */
function unknownOutcome(error: unknown): string | null {
  const step = stepError(error);
  return step instanceof OutcomeUnknown ? step.message : null;
}

const now = () => new Date().toISOString();

/** Where a run starts from: fresh (0) or resumed, and what the steps recorded so far. */
interface Start {
  start: number;
  unfinished: number | null;
  data: Map<number, Record<string, unknown>>;
  /** Where each step stands (rollbackFacts), kept up to date as the run goes. */
  done: Set<number>;
  cutOff: Set<number>;
  failed: Set<number>;
  undone: Set<number>;
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

  /**
   * A plan read back from a host, as it is acted on: over every environment it may touch (locked,
   * read-only and protection as for all of them), its protection from the config.
   */
  forStored(plan: Operation): Operation {
    return this.guarded({ ...plan, environments: this.deps.storedScope(plan) });
  }

  /** Every step's preview (commands, diffs, undo), from the hosts' live state; nothing is written. */
  async preview(op: Operation): Promise<StepPreview[]> {
    return Promise.all(op.steps.map((step, index) => kindOf(step).preview(step, { host: this.deps.hostFor(step.host), op, index })));
  }

  /** Refuse (audited) an operation read-only mode forbids: the one wording for the runner, the CLI's prompt and the console's dialog. */
  refuseIfReadonly(op: Operation, what?: 'resume' | 'rollback', confirmation: Confirmation | null = null): void {
    if (!this.isReadonly(op)) return;
    throw this.refuse(op, `read-only mode: ${what ? `${what} of ` : ''}${op.title} is not allowed${op.environments.length > 0 ? ` (it touches ${op.environments.join(', ')})` : ''}`, 'drop --readonly, or readonly: true from the config, to act', confirmation);
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
    this.refuseIfReadonly(op, undefined, confirmation);
    const phrase = requiredPhrase({ ...op, ...protection });
    if (phrase && confirmation.kind !== 'yes-flag' && !(confirmation.kind === 'typed-name' && confirmation.text === phrase)) {
      throw this.refuse(op, `${op.title} on protected ${phrase} needs its name typed to confirm`, undefined, confirmation);
    }
    this.deps.audit.ensureWritable();
  }

  /**
   * Take the operation's locks and open its journal, with one signal for "stop here": the
   * operator's, or the lock's loss. A lock lost also fences the journal: it is the new
   * holder's now, and this one writes nothing more to it.
   */
  private async hold(op: Operation, confirmation: Confirmation, takeOver: boolean, options: RunOptions, emit: (e: OperationEvent) => void): Promise<{ stop: AbortController; journal: StateJournal; locks: HeldLocks }> {
    const stop = new AbortController();
    const stopped = () => stop.abort(new Error('stopped by the operator'));
    if (options.signal?.aborted) stopped();
    options.signal?.addEventListener('abort', stopped, { once: true });
    const journal = new StateJournal(this.deps.hostFor(op.host), op.id);
    const names = operationLockNames(op);
    const onLost = (why: string) => {
      journal.fence(why);
      stop.abort(new Error(why));
    };
    try {
      const locks = await acquireLocks(this.deps.hostFor(op.host), names, { ...currentOwner(currentUser()), op: op.id, title: op.title, since: now() }, { takeOver, onLost });
      emit({ type: 'locked', names });
      return { stop, journal, locks };
    } catch (error) {
      // Refused because another holds it: that is a refusal to record. A host that cannot be reached is not.
      if (error instanceof LockError) this.refuse(op, error.message, error.hint, confirmation);
      throw error;
    }
  }

  /** Plan -> host: lock, journal, preflight, every step; a failure rolls back or stops as the operation says. */
  async run(op: Operation, confirmation: Confirmation, options: RunOptions = {}): Promise<OperationResult> {
    return this.holding(op, 'run', confirmation, options, async ({ stop, journal }) => {
      await journal.create(op, currentOwner(currentUser()));
      return this.execute(op, journal, confirmation, { start: 0, unfinished: null, data: new Map(), done: new Set(), cutOff: new Set(), failed: new Set(), undone: new Set() }, { ...options, signal: stop.signal });
    });
  }

  /** Continue an interrupted operation from its first unfinished step, its preflight checked again. */
  async resume(seen: StoredOperation, confirmation: Confirmation, options: RunOptions = {}): Promise<OperationResult> {
    const op = this.forStored(seen.plan);
    const refuseUnless = (status: OperationStatus) => {
      if (RESUMABLE.includes(status)) return;
      const hint = IN_PROGRESS.includes(status) ? 'it is still going on (see opsdeck ops)' : status === 'rollback-interrupted' ? `its rollback was cut off: finish it with opsdeck ops rollback ${op.id}` : undefined;
      throw new OpsdeckError('usage', `operation ${op.id} is ${status}: there is nothing to resume`, hint);
    };
    return this.pickUp(seen, op, 'resume', refuseUnless, confirmation, options, async (stored, progress, { stop, journal }) => {
      await journal.append({ event: 'resumed', at: now(), by: currentOwner(currentUser()) });
      const start = op.steps.findIndex((_, i) => !progress.done.includes(i));
      return this.execute(op, journal, confirmation, { start: start < 0 ? op.steps.length : start, unfinished: progress.unfinished, data: stepData(stored), ...rollbackFacts(progress) }, { ...options, signal: stop.signal });
    });
  }

  /** Undo what an operation did, in reverse (re-applying steps run again once what they applied is put back). */
  async rollback(seen: StoredOperation, confirmation: Confirmation, options: RunOptions = {}): Promise<OperationResult> {
    const op = options.ranAs?.id === seen.plan.id ? this.guarded({ ...seen.plan, environments: options.ranAs.environments }) : this.forStored(seen.plan);
    const refuseUnless = (status: OperationStatus) => {
      if (IN_PROGRESS.includes(status)) throw new OpsdeckError('usage', `operation ${op.id} is still ${status}`, 'stop it first (Ctrl+C where it runs), or break its lock if its owner is dead: opsdeck lock ENV --break');
      if (status === 'rolled-back') throw new OpsdeckError('usage', `operation ${op.id} is rolled back already`);
    };
    return this.pickUp(seen, op, 'rollback', refuseUnless, confirmation, options, async (stored, progress, { stop, journal, emit }) => {
      const startedAt = Date.now();
      const outcome = await this.undoAll(op, journal, confirmation, rollbackFacts(progress), stepData(stored), stop.signal, emit);
      const result = operationResult(op, outcome.status, startedAt, { error: outcome.error, ok: outcome.status === 'rolled-back' });
      emit({ type: 'ended', result });
      return result;
    });
  }

  /** Allowed, announced, locked (released whatever happens): the frame of run, resume and rollback. */
  private async holding(
    op: Operation,
    mode: 'run' | 'resume' | 'rollback',
    confirmation: Confirmation,
    options: RunOptions,
    work: (held: { stop: AbortController; journal: StateJournal; emit: (e: OperationEvent) => void }) => Promise<OperationResult>,
  ): Promise<OperationResult> {
    this.checkAllowed(op, confirmation);
    const emit = options.onEvent ?? (() => undefined);
    emit({ type: 'planned', op, mode });
    const { stop, journal, locks } = await this.hold(op, confirmation, mode !== 'run', options, emit);
    try {
      return await work({ stop, journal, emit });
    } finally {
      await locks.release().catch(() => undefined);
    }
  }

  /**
   * A stored operation picked up: refused early by what it was seen to be (its owner's lock read,
   * unless this process just ran it), then, with the lock held, by what its journal says now.
   */
  private async pickUp(
    seen: StoredOperation,
    op: Operation,
    mode: 'resume' | 'rollback',
    refuseUnless: (status: OperationStatus) => void,
    confirmation: Confirmation,
    options: RunOptions,
    work: (stored: StoredOperation, progress: OperationProgress, held: { stop: AbortController; journal: StateJournal; emit: (e: OperationEvent) => void }) => Promise<OperationResult>,
  ): Promise<OperationResult> {
    const ranHere = options.ranAs?.id === seen.plan.id;
    refuseUnless(progressOf(seen, ranHere ? false : await this.ownerAlive(op)).status);
    return this.holding(op, mode, confirmation, options, async (held) => {
      // What it is now, with the lock held: another opsdeck may have resumed or rolled it back meanwhile.
      const stored = await this.storedNow(op, seen);
      const progress = progressOf(stored, false);
      refuseUnless(progress.status);
      return work(stored, progress, held);
    });
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
    return operationOwnerAlive(op, await readLocks(this.deps.hostFor(op.host)).catch(() => []));
  }

  /** The checks before the first step; on a resume, not those about a process its own step already stopped. */
  private async preflight(op: Operation, from: Start): Promise<string | null> {
    const touched = (i: number) => from.done.has(i) || from.cutOff.has(i) || from.failed.has(i);
    const stopped = new Set(op.steps.flatMap((s, i) => (s.kind === 'stop-pid' && touched(i) ? [s.pid] : [])));
    for (const check of op.preflight) {
      if (check.kind === 'pid-is' && stopped.has(check.pid)) continue;
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
    const end = async (result: OperationResult) => {
      // Failed with nothing a rollback could undo: it is over (not left open in every header and list).
      if (result.status === 'failed' && !this.undoable(op, from)) await journal.markEnded().catch(() => undefined);
      emit({ type: 'ended', result });
      return result;
    };
    let auditError: string | null = null;
    /** Stop here. `abandoned`: the step that was running, recorded as abandoned in the audit log. */
    const interrupted = async (reason: string, index: number, options: { abandoned?: { argv: string[]; since: number }; error?: string } = {}) => {
      await journal.append({ event: 'interrupted', at: now(), reason }).catch(() => undefined);
      const { abandoned } = options;
      if (abandoned) this.recorder.tryRecord(op, index, { argv: abandoned.argv, exitCode: null, stderr: reason, durationMs: Date.now() - abandoned.since }, 'abandoned', by);
      const step = op.steps[index];
      return end(operationResult(op, 'interrupted', startedAt, { error: options.error ?? `${reason}${step ? ` at step ${index + 1} (${step.title})` : ''}; resume or roll back later`, auditError }));
    };

    let problem: string | null;
    try {
      problem = await this.preflight(op, from);
    } catch (error) {
      const unknown = unknownOutcome(error);
      if (unknown) return interrupted(unknown, from.start);
      problem = describeError(error);
    }
    if (problem) {
      await journal.append({ event: 'failed', at: now(), step: null, error: `preflight: ${problem}` });
      return end(operationResult(op, 'failed', startedAt, { error: `preflight: ${problem}`, undoable: this.undoable(op, from) }));
    }
    for (let index = from.start; index < op.steps.length; index++) {
      const step = op.steps[index]!;
      const env: StepEnv = { host: this.deps.hostFor(step.host), op, index, signal, emit: stepEvents(index, emit) };
      const kind = kindOf(step);
      const argv = kind.argv(step);
      if (signal.aborted) return interrupted(stopReason(signal), index);
      const resumed = index === from.unfinished;
      let before: Record<string, unknown> | undefined;
      try {
        // What was there before the step's first try: a step run again keeps it (its undo must restore that, not its own half-way state).
        before = from.data.get(index) ?? (await kind.before?.(step, env));
      } catch (error) {
        const unknown = unknownOutcome(error);
        if (unknown) return interrupted(unknown, index);
        const message = describeError(error);
        await journal.append({ event: 'failed', at: now(), step: index, error: message });
        return end(await this.afterFailure(op, journal, confirmation, from, index, startedAt, message, '', null, signal, emit));
      }
      if (before) from.data.set(index, before);
      // The intent, in the audit log and then on the host, before anything changes.
      try {
        this.recorder.record(op, index, { argv, exitCode: null, stderr: '', durationMs: 0 }, 'started', by);
      } catch (error) {
        auditError = describeError(error);
        return interrupted(`the audit log cannot be written: ${auditError}`, index, { error: `step ${index + 1} was not run: the audit log could not take its intent` });
      }
      if (!resumed) await journal.append({ event: 'step-started', at: now(), step: index, ...(before ? { data: before } : {}) });
      from.cutOff.add(index);
      from.failed.delete(index);
      emit({ type: 'step-started', index, step, resumed });
      const stepStart = Date.now();
      let outcome: Awaited<ReturnType<typeof kind.run>>;
      try {
        outcome = await kind.run(step, env, before, resumed);
      } catch (error) {
        const unknown = signal.aborted ? stopReason(signal) : unknownOutcome(error);
        // Stop here: the step may still be going on (a detached command, a systemd job); a resume asks the host.
        if (unknown) return interrupted(unknown, index, { abandoned: { argv, since: stepStart } });
        const failure = error instanceof StepFailure ? error : new StepFailure(describeError(error));
        await journal.append({ event: 'step-finished', at: now(), step: index, ok: false, exitCode: failure.exitCode, error: failure.message });
        from.cutOff.delete(index);
        from.failed.add(index);
        auditError = this.recorder.tryRecord(op, index, { argv, exitCode: failure.exitCode, stderr: failure.stderr || failure.message, durationMs: Date.now() - stepStart }, 'failed', by) ?? auditError;
        await kind.afterRecorded?.(step, env).catch(() => undefined);
        const journalLines = failure.unit ? await this.recentJournal(env.host, failure.unit, stepStart) : [];
        emit({ type: 'step-finished', index, ok: false, durationMs: Date.now() - stepStart, exitCode: failure.exitCode, error: failure.message, stderr: failure.stderr, journal: journalLines });
        await journal.append({ event: 'failed', at: now(), step: index, error: failure.message });
        return end(await this.afterFailure(op, journal, confirmation, from, index, startedAt, failure.message, failure.stderr, journalLines, signal, emit));
      }
      // Done on the host: from here on a failure to record it is not the step's failure.
      from.cutOff.delete(index);
      from.done.add(index);
      if (outcome.data) from.data.set(index, { ...from.data.get(index), ...outcome.data });
      const finished: JournalEvent = { event: 'step-finished', at: now(), step: index, ok: true, exitCode: outcome.exitCode, ...(outcome.data ? { data: outcome.data } : {}) };
      auditError = this.recorder.tryRecord(op, index, { argv, exitCode: outcome.exitCode, stderr: '', durationMs: Date.now() - stepStart }, 'ok', by) ?? auditError;
      emit({ type: 'step-finished', index, ok: true, durationMs: Date.now() - stepStart, exitCode: outcome.exitCode });
      if (endMayWait(step, op.steps[index + 1])) journal.defer(finished);
      else {
        // Not safe to run twice: its end is on disk before anything else happens (and before a detached command's unit is removed).
        try {
          await journal.append(finished);
        } catch (error) {
          return interrupted(`step ${index + 1} ran, but its end could not be written to host ${op.host}: ${describeError(error)}`, index);
        }
        await kind.afterRecorded?.(step, env).catch(() => undefined);
      }
    }
    try {
      await journal.append({ event: 'finished', at: now() });
      await journal.markEnded();
    } catch (error) {
      // Every step is done; only the record of it is missing (what was deferred stays for the retry of that write).
      return interrupted(`every step is done, but the end could not be written to host ${op.host}: ${describeError(error)}`, op.steps.length - 1);
    }
    return end(operationResult(op, 'finished', startedAt, { auditError }));
  }

  private async afterFailure(
    op: Operation,
    journal: StateJournal,
    confirmation: Confirmation,
    from: Start,
    failed: number,
    startedAt: number,
    error: string,
    stderr: string,
    journalLines: string[] | null,
    signal: AbortSignal,
    emit: (e: OperationEvent) => void,
  ): Promise<OperationResult> {
    const facts = { failedStep: failed, error, stderr, journal: journalLines ?? [] };
    if (op.onFailure !== 'rollback') return operationResult(op, 'failed', startedAt, { ...facts, undoable: this.undoable(op, from) });
    const outcome = await this.undoAll(op, journal, confirmation, from, from.data, signal, emit);
    const said = outcome.status === 'rolled-back' ? `${error} (rolled back)` : outcome.status === 'rollback-interrupted' ? `${error}; the rollback was cut off: ${outcome.error}` : `${error}; the rollback failed too: ${outcome.error}`;
    return operationResult(op, outcome.status, startedAt, { ...facts, error: said });
  }

  /** Whether a rollback would do anything. */
  private undoable(op: Operation, facts: Omit<RollbackFacts, keyof typeof ROLLBACK_KINDS>): boolean {
    return planRollback(op.steps, { ...facts, ...ROLLBACK_KINDS }).some((a) => a.how !== 'cannot');
  }

  /** Undo, in the order planRollback gives; each undo's intent audited and journaled before it runs. A lost lock stops it. */
  private async undoAll(
    op: Operation,
    journal: StateJournal,
    confirmation: Confirmation,
    facts: Omit<RollbackFacts, keyof typeof ROLLBACK_KINDS>,
    data: Map<number, Record<string, unknown>>,
    signal: AbortSignal,
    emit: (e: OperationEvent) => void,
  ): Promise<{ status: 'rolled-back' | 'rollback-failed' | 'rollback-interrupted'; error: string | null }> {
    const by = confirmedBy(confirmation);
    await journal.append({ event: 'rollback-started', at: now(), by: currentOwner(currentUser()) });
    let ok = true;
    let firstError: string | null = null;
    const fail = (index: number, message: string) => {
      ok = false;
      firstError ??= `step ${index + 1} (${op.steps[index]!.title}): ${message}`;
    };
    for (const action of planRollback(op.steps, { ...facts, ...ROLLBACK_KINDS })) {
      if (signal.aborted) {
        const reason = stopReason(signal);
        await journal.append({ event: 'interrupted', at: now(), reason }).catch(() => undefined);
        return { status: 'rollback-interrupted', error: `${reason} (roll back again to finish: opsdeck ops rollback ${op.id})` };
      }
      const index = action.index;
      const step = op.steps[index]!;
      const kind = kindOf(step);
      if (action.how === 'cannot') {
        fail(index, action.cutOff ? 'it was cut off and whether it changed anything is unknown: check it by hand' : `cannot be undone: ${kind.undoText(step)}`);
        continue;
      }
      const reapply = action.how === 'reapply';
      // Not the operator's signal: an undo, once begun, is finished (half an undo helps nobody).
      const env: StepEnv = { host: this.deps.hostFor(step.host), op, index, emit: stepEvents(index, emit) };
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
        emit({ type: 'undone', index, ok: true, reapply });
      } catch (error) {
        const message = describeError(error);
        fail(index, message);
        await journal.append({ event: 'undone', at: now(), step: index, ok: false, error: message }).catch(() => undefined);
        this.recorder.tryRecord(op, index, { argv, exitCode: null, stderr: message, durationMs: Date.now() - t }, 'undo-failed', by);
        emit({ type: 'undone', index, ok: false, reapply, error: message });
      }
    }
    await journal.append({ event: 'rolled-back', at: now(), ok, ...(firstError ? { error: firstError } : {}) });
    if (ok) await journal.markEnded();
    return { status: ok ? 'rolled-back' : 'rollback-failed', error: firstError };
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
