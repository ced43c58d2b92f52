// Operations in the console: the one in view (its steps pending / running / done / failed /
// undone, the running step's output, a progress bar or the health gate's last sample, the
// unit's journal beside it, and why a step failed), Ctrl+C's question while it runs (stop here
// and resume later, roll back, keep waiting), and the operations left open on the hosts (shown
// in the header until resumed or rolled back). The runner does the work; this slice turns its
// events into state, batching output so a chatty step is not one render per line.
import { JournalFollower } from '../core/journal/follow.js';
import { IN_PROGRESS, readStoredOperations, progressOf, type StoredOperation } from '../core/ops/state.js';
import { listOperations } from '../core/ops/catalog.js';
import type { Operation } from '../core/ops/operation.js';
import type { Confirmation, OperationEvent } from '../core/ops/runner.js';
import { operationHostNames } from '../core/ops/target.js';
import { describeError } from '../core/text/errors.js';
import { sanitizeLine } from '../core/text/sanitize.js';
import type { Canceller, OpenOperation, OperationMode, OperationView, OperationsActions, Slice, SliceContext } from './types.js';

const OUTPUT_LINES = 200;
const JOURNAL_LINES = 40;
const FLUSH_MS = 100;
const OPEN_EVERY_MS = 10_000;

export interface OperationsSlice extends Slice<'operation' | 'openOperations', OperationsActions> {
  /** Ctrl+C while an operation runs: ask what to do (it is never just dropped). */
  interruptOperation: Canceller;
}

/** The unit an operation is about (its journal is shown beside it), if any. */
function unitOf(op: Operation): string | null {
  for (const step of op.steps) {
    if (step.kind === 'systemctl') return step.unit;
    if (step.kind === 'health-gate' && step.unit) return step.unit;
  }
  return null;
}

export function createOperationsSlice({ deps, set, get, now, notify }: SliceContext): OperationsSlice {
  let abort: AbortController | null = null;
  let rollbackAfter = false;
  let openAskedAt = -Infinity;
  let follower: JournalFollower | null = null;
  // Hot data, outside the store until flushed: output and journal lines.
  let output: string[] = [];
  let journal: string[] = [];
  let flushTimer: NodeJS.Timeout | undefined;
  /** Output or journal lines came (or the output was cleared) since the last flush. */
  let unflushed = false;

  const patch = (change: Partial<OperationView> | ((view: OperationView) => Partial<OperationView>)) => {
    const view = get().operation;
    if (view) set({ operation: { ...view, ...(typeof change === 'function' ? change(view) : change) } });
  };
  /** The batched lines as a part of the view, when there are new ones: merged into the caller's own update. */
  const flushed = (): Partial<OperationView> => {
    clearTimeout(flushTimer);
    flushTimer = undefined;
    if (!unflushed) return {};
    unflushed = false;
    return { output: output.slice(-OUTPUT_LINES), unitJournal: journal.slice(-JOURNAL_LINES) };
  };
  const flush = () => {
    const lines = flushed();
    if (lines.output) patch(lines);
  };
  const soon = () => {
    unflushed = true;
    flushTimer ??= setTimeout(flush, FLUSH_MS);
  };
  const withStep = (view: OperationView, index: number, state: OperationView['steps'][number]['state'], extra: Partial<OperationView['steps'][number]> = {}): Pick<OperationView, 'steps'> => ({
    steps: view.steps.map((s, i) => (i === index ? { ...s, state, ...extra } : s)),
  });

  // Each event is one store update.
  const onEvent = (event: OperationEvent) => {
    switch (event.type) {
      case 'step-started': {
        output = [];
        unflushed = true;
        const lines = flushed();
        patch((view) => ({ ...lines, ...withStep(view, event.index, 'running'), current: event.index, gate: null, progress: null }));
        break;
      }
      case 'output':
        output.push(sanitizeLine(event.line));
        if (output.length > OUTPUT_LINES * 2) output = output.slice(-OUTPUT_LINES);
        soon();
        break;
      case 'progress':
        patch({ progress: { done: event.done, total: event.total, unit: event.unit, rate: event.rate, etaSeconds: event.etaSeconds, ...(event.files ? { files: event.files } : {}) } });
        break;
      case 'gate-sample':
        patch((view) => ({ gate: { sample: event.sample, samples: (view.gate?.samples ?? 0) + 1 } }));
        break;
      case 'step-finished': {
        const lines = flushed();
        const failure = event.ok ? {} : { failure: { step: event.index, error: sanitizeLine(event.error ?? 'failed'), stderr: sanitizeLine(event.stderr ?? ''), journal: (event.journal ?? []).map(sanitizeLine) } };
        patch((view) => ({ ...lines, ...withStep(view, event.index, event.ok ? 'done' : 'failed', { durationMs: event.durationMs, error: event.error ?? null }), ...failure }));
        break;
      }
      case 'undo-started':
        patch((view) => ({ ...withStep(view, event.index, 'undoing'), current: event.index }));
        break;
      case 'undone':
        patch((view) => withStep(view, event.index, event.ok ? 'undone' : 'undo-failed', { error: event.error ?? null }));
        break;
      default:
        break;
    }
  };

  /** Follow the unit's journal beside the steps while the operation runs. */
  const followUnit = (op: Operation) => {
    const unit = unitOf(op);
    if (!unit) return;
    follower = new JournalFollower(deps.hosts.get(op.host), { units: [unit], lines: 10, retryInitialFailure: true });
    follower.onBatch((entries) => {
      for (const e of entries) journal.push(`${new Date(e.timeUs / 1000).toTimeString().slice(0, 8)} ${e.message}`);
      if (journal.length > JOURNAL_LINES * 2) journal = journal.slice(-JOURNAL_LINES);
      soon();
    });
    follower.start();
  };
  const stopFollowing = () => {
    void follower?.stop();
    follower = null;
  };

  const findStored = async (id: string): Promise<StoredOperation | null> => {
    for (const name of operationHostNames(get().config, deps.hosts)) {
      const found = await readStoredOperations(deps.hosts.get(name), id).then((s) => s[0], () => undefined);
      if (found) return found;
    }
    return null;
  };

  const actions: OperationsActions = {
    async startOperation(op, mode, confirmation: Confirmation) {
      abort = new AbortController();
      rollbackAfter = false;
      output = [];
      journal = [];
      unflushed = false;
      const fresh = (m: OperationMode): OperationView => ({
        op,
        mode: m,
        steps: op.steps.map(() => ({ state: 'pending', durationMs: null, error: null })),
        current: null,
        output: [],
        unitJournal: [],
        gate: null,
        progress: null,
        failure: null,
        result: null,
        asking: false,
        startedAt: now(),
      });
      set({ overlay: { kind: 'operation' }, operation: fresh(mode) });
      followUnit(op);
      try {
        let result;
        if (mode === 'run') result = await deps.runner.run(op, confirmation, { signal: abort.signal, onEvent });
        else {
          const stored = await deps.runner.stored(op);
          if (!stored) throw new Error(`operation ${op.id} is no longer on its host`);
          if (JSON.stringify(deps.runner.forStored(stored.plan)) !== JSON.stringify(op)) throw new Error(`the plan of operation ${op.id} changed on its host since it was shown: look again`);
          // Steps already done show as done; the runner goes on from there.
          const progress = progressOf(stored, false);
          patch((view) => ({ steps: view.steps.map((s, i) => (progress.undone.includes(i) ? { ...s, state: 'undone' } : progress.done.includes(i) ? { ...s, state: 'done' } : s)) }));
          result = mode === 'resume' ? await deps.runner.resume(stored, confirmation, { signal: abort.signal, onEvent }) : await deps.runner.rollback(stored, confirmation, { onEvent });
        }
        if (rollbackAfter && result.status === 'interrupted') {
          // Ctrl+C, then "roll back": stopped here, now undone from here.
          const stored = await deps.runner.stored(op);
          if (stored) {
            patch({ mode: 'rollback' });
            result = await deps.runner.rollback(stored, confirmation, { onEvent, ranAs: op });
          }
        }
        patch({ ...flushed(), result, current: null, asking: false });
      } catch (error) {
        // Refused (read-only, a lock held by another operation) or the host gone: say so in the view.
        patch({ ...flushed(), result: { id: op.id, status: 'failed', ok: false, summary: `${op.title}: ${describeError(error)}`, failedStep: null, error: describeError(error), stderr: '', journal: [], auditError: null, durationMs: now() - (get().operation?.startedAt ?? now()) }, current: null, asking: false });
      } finally {
        abort = null;
        stopFollowing();
        void get().actions.refresh({ slow: true });
        void actions.refreshOpenOperations(true);
      }
    },
    answerInterrupt(answer) {
      if (!get().operation?.asking) return;
      patch({ asking: false });
      if (answer === 'wait') return;
      if (answer === 'rollback') rollbackAfter = true;
      abort?.abort();
      notify(answer === 'rollback' ? 'stopping, then rolling back…' : 'stopping here: the operation can be resumed or rolled back later', 'warn');
    },
    closeOperation() {
      const view = get().operation;
      if (view && !view.result) return; // it runs: Ctrl+C asks what to do
      set({ operation: null, overlay: null });
    },
    async proposeStored(id, mode) {
      try {
        const stored = await findStored(id);
        if (!stored) {
          notify(`operation ${id} is not on any host of the config`, 'warn');
          return;
        }
        // Confirmed as the config protects everything it may touch now, whatever the stored plan says.
        get().actions.propose(deps.runner.forStored(stored.plan), mode);
      } catch (error) {
        notify(`cannot ${mode} ${id}: ${describeError(error)}`, 'error');
      }
    },
    async refreshOpenOperations(force = false) {
      if (!force && now() - openAskedAt < OPEN_EVERY_MS) return;
      openAskedAt = now();
      // An unreachable host says so in the status; its operations wait.
      const { found } = await listOperations(operationHostNames(get().config, deps.hosts).map((name) => deps.hosts.get(name)), { open: true });
      const open: OpenOperation[] = [];
      for (const { host, stored, alive } of found) {
        const progress = progressOf(stored, alive);
        // The one running in this console is in view already.
        if (IN_PROGRESS.includes(progress.status) && stored.plan.id === get().operation?.op.id) continue;
        open.push({ id: stored.plan.id, host: host.name, title: stored.plan.title, environment: stored.plan.environment, status: progress.status, reason: progress.reason, done: progress.done.length, steps: stored.plan.steps.length });
      }
      set({ openOperations: open.sort((a, b) => a.id.localeCompare(b.id)) });
    },
  };

  return {
    state: { operation: null, openOperations: [] },
    actions,
    interruptOperation() {
      const view = get().operation;
      if (!view || view.result || !abort) return false;
      if (view.mode === 'rollback') {
        notify('rolling back: it finishes first (undoing half of an undo helps nobody)', 'warn');
        return true;
      }
      // A second Ctrl+C at the question keeps waiting: never a destructive answer by default.
      patch({ asking: !view.asking });
      return true;
    },
  };
}
