// The doctor in the console: its last report (every environment's findings, most severe first,
// with their evidence and fixes), run by core's runDoctor on the config's hosts when the pane
// is entered (unless the report is recent), again on `r`, and after an operation ends while the
// pane is shown; cancelled through its AbortSignal when the pane is left, when it is run again,
// and on Esc or Ctrl+C. A fix is built as `opsdeck doctor --fix ID` builds it (core's
// buildFixOperation, from a report at most FRESH_MS old: the doctor runs again first otherwise)
// and proposed: the confirm dialog and the runner do the rest (preview, confirmation, lock,
// journal, audit).
import { runDoctor } from '../core/doctor/doctor.js';
import type { Finding } from '../core/doctor/finding.js';
import { buildFixOperation } from '../core/doctor/fix.js';
import { describeError } from '../core/text/errors.js';
import { sanitizeLine } from '../core/text/sanitize.js';
import { doctorRows, selectedFinding } from './selectors.js';
import type { AppState, AppStore, Canceller, DoctorActions, DoctorRun, DoctorState, Slice, SliceContext } from './types.js';

/** A report younger than this is shown as it is when the pane is entered, and a fix is planned from it. */
export const FRESH_MS = 10_000;

export interface DoctorSlice extends Slice<'doctor', DoctorActions> {
  /** Ctrl+C while the doctor runs (or a fix is planned): stops it. */
  stopJob: Canceller;
}

type Doctor = DoctorState['doctor'];

export function createDoctorSlice({ deps, set, get, now, notify }: SliceContext, subscribe: AppStore['subscribe']): DoctorSlice {
  /** The run going on (the doctor, or a fix being planned); a newer one replaces it. */
  let current: AbortController | null = null;

  const doctor = () => get().doctor;
  const patch = (change: Partial<Doctor>) => set({ doctor: { ...doctor(), ...change } });

  const begin = (run: Omit<DoctorRun, 'startedAt'>): AbortController => {
    current?.abort();
    const mine = new AbortController();
    current = mine;
    patch({ running: { ...run, startedAt: now() } });
    return mine;
  };
  const end = (mine: AbortController) => {
    if (current !== mine) return;
    current = null;
    patch({ running: null });
  };
  /** Whatever runs is cancelled: what it was, or null. */
  const cancel = () => {
    const running = doctor().running;
    if (!current || !running) return null;
    current.abort();
    current = null;
    patch({ running: null });
    return running;
  };
  const fresh = () => {
    const { ranAt, error } = doctor();
    return ranAt !== null && error === null && now() - ranAt < FRESH_MS;
  };

  /** Runs the doctor and keeps its report, the cursor on the finding it was on; false when it failed or was cancelled. */
  const run = async (mine: AbortController): Promise<boolean> => {
    try {
      const report = await runDoctor(get().config, deps.hosts, undefined, { signal: mine.signal, previous: get().status });
      if (mine.signal.aborted) return false;
      // The finding selected now (the operator may have moved while the doctor ran).
      const followed = selectedFinding(get())?.id;
      patch({ report, ranAt: now(), error: null });
      const index = Math.max(0, followed ? report.findings.findIndex((f) => f.id === followed) : 0);
      // Moving the cursor in the pane also selects the finding's environment (the production cue).
      if (get().pane === 'doctor') get().actions.setCursor('doctor', index);
      else set({ cursor: { ...get().cursor, doctor: index } });
      return true;
    } catch (error) {
      if (mine.signal.aborted) return false;
      // What was found before stays on screen, with why the doctor could not run again (an error may quote a host's words).
      patch({ error: sanitizeLine(describeError(error)) });
      return false;
    }
  };

  const noFix = (f: Finding) => notify(`${f.id} has no fix opsdeck can apply${f.note ? `: ${f.note}` : ''}`, 'warn');

  const actions: DoctorActions = {
    async runDoctor() {
      const mine = begin({ kind: 'run', finding: null });
      try {
        await run(mine);
      } finally {
        end(mine);
      }
    },

    stopDoctor() {
      const running = cancel();
      if (!running) return false;
      notify(running.kind === 'fix' ? `planning the fix of ${running.finding} stopped: nothing was proposed` : 'the doctor stopped: the findings shown are from its last whole run');
      return true;
    },

    toggleDoctorDetails(show) {
      patch({ expanded: show ?? !doctor().expanded, scroll: 0 });
    },

    scrollDoctorDetails(delta) {
      patch({ scroll: Math.max(0, doctor().scroll + delta) });
    },

    async proposeFix() {
      const picked = selectedFinding(get());
      if (!picked) return notify(doctor().report ? 'no finding selected' : 'the doctor has not run yet: r runs it', 'warn');
      if (!picked.fix) return noFix(picked);
      const mine = begin({ kind: 'fix', finding: picked.id });
      try {
        let finding = picked;
        // As `opsdeck doctor --fix` does: the fix of the problem as it is now, not as it was minutes ago.
        if (!fresh()) {
          if (!(await run(mine))) {
            if (!mine.signal.aborted) notify(`cannot plan the fix of ${picked.id}: the doctor could not run again: ${doctor().error ?? 'unknown error'}`, 'error');
            return;
          }
          const again = doctorRows(get()).find((f) => f.id === picked.id);
          if (!again) return notify(`${picked.id} is not found any more (the doctor just ran again): nothing to fix`);
          if (!again.fix) return noFix(again);
          finding = again;
        }
        const op = await buildFixOperation(get().config, deps.hosts, finding, get().configFile);
        if (mine.signal.aborted) return;
        get().actions.propose(op);
      } catch (error) {
        if (!mine.signal.aborted) notify(`cannot plan the fix of ${picked.id}: ${sanitizeLine(describeError(error))}`, 'error');
      } finally {
        end(mine);
      }
    },
  };

  subscribe((state: AppState, previous: AppState) => {
    // Entered: run unless the report is recent (the finding in view selects its environment
    // again, as moving to it does); left: whatever runs is cancelled.
    if (state.pane === 'doctor' && previous.pane !== 'doctor') {
      if (state.doctor.report) get().actions.setCursor('doctor', state.cursor.doctor);
      if (state.doctor.running?.kind !== 'run' && !fresh()) void actions.runDoctor();
    } else if (state.pane !== 'doctor' && previous.pane === 'doctor') {
      cancel();
    }
    // An operation ended (a fix, or any other): what the doctor finds may have changed.
    if (state.pane === 'doctor' && state.operation?.result && !previous.operation?.result) void actions.runDoctor();
    // Another finding: its evidence from the top.
    if (state.cursor.doctor !== previous.cursor.doctor && state.doctor.scroll !== 0) patch({ scroll: 0 });
  });

  return {
    state: { doctor: { report: null, ranAt: null, error: null, running: null, expanded: false, scroll: 0 } },
    actions,
    stopJob: () => actions.stopDoctor(),
  };
}
