// Overlays (help, palette, text, and the dialogs of an action) and an action's way through them:
// proposed (its preview, or a refusal in read-only mode), confirmed, running (Ctrl+C cancels
// it), its result. The executor runs and audits it; this slice only drives the dialogs.
import { killPidAction, type Confirmation } from '../core/ops/actions.js';
import { decideTarget, describeProcess } from '../core/ops/target.js';
import { describeError } from '../core/text/errors.js';
import { environmentHost } from './selectors.js';
import type { Canceller, NoticeActions, Overlay, OverlayActions, Slice, SliceContext } from './types.js';

export interface OverlaySlice extends Slice<'overlay', OverlayActions> {
  /** Cancels the running action, if one runs. */
  cancelJob: Canceller;
}

export function createOverlaySlice({ deps, set, get, now }: SliceContext): OverlaySlice {
  let jobAbort: AbortController | null = null;
  const notify: NoticeActions['notify'] = (text, level) => get().actions.notify(text, level);

  const actions: OverlayActions = {
    openOverlay(overlay) {
      set({ overlay, filterEditing: false });
    },
    closeOverlay() {
      if (get().overlay?.kind === 'running') return; // Ctrl+C cancels a running job
      set({ overlay: null });
    },
    updateOverlay(patch) {
      const overlay = get().overlay;
      if (overlay && overlay.kind !== 'help' && overlay.kind !== 'running' && overlay.kind !== 'result') set({ overlay: { ...overlay, ...patch } as Overlay });
    },
    propose(action) {
      if (deps.executor.isReadonly(action)) {
        const refusal = deps.executor.refuse(action, `read-only: ${action.title} is not allowed`, undefined, null);
        notify(describeError(refusal), 'warn');
        return;
      }
      const commands = action.steps.map((s) => s.argv.join(' '));
      let wrapped: string[];
      try {
        wrapped = deps.executor.wrapped(action).map((argv) => argv.join(' '));
      } catch (error) {
        // The host cannot even be addressed (e.g. the lab is down): say so instead of asking.
        notify(`cannot ${action.title}: ${describeError(error)}`, 'error');
        return;
      }
      set({ overlay: { kind: 'confirm', action, commands, wrapped, typed: '' } });
    },
    async proposeKill(host, pid) {
      try {
        const process = await describeProcess(deps.hosts.get(host), pid);
        if (!process) {
          notify(`PID ${pid} is gone from host ${host}`, 'warn');
          return;
        }
        const state = get();
        const target = decideTarget(state.config, (name) => environmentHost(state, name), { kind: 'pid', host, pid, unit: process.unit, ports: process.ports });
        actions.propose(killPidAction(pid, { ...target, process }));
      } catch (error) {
        notify(`cannot kill PID ${pid}: ${describeError(error)}`, 'error');
      }
    },
    async confirm() {
      const overlay = get().overlay;
      if (overlay?.kind !== 'confirm') return;
      const { action, typed } = overlay;
      const confirmation: Confirmation = action.protected ? { kind: 'typed-name', text: typed } : { kind: 'dialog' };
      jobAbort = new AbortController();
      set({ overlay: { kind: 'running', action, startedAt: now() } });
      try {
        const result = await deps.executor.run(action, confirmation, jobAbort.signal);
        set({ overlay: { kind: 'result', action, result } });
      } catch (error) {
        set({ overlay: null });
        notify(describeError(error), 'error');
      } finally {
        jobAbort = null;
        void get().actions.refresh();
      }
    },
  };

  return {
    state: { overlay: null },
    actions,
    cancelJob() {
      if (!jobAbort) return false;
      jobAbort.abort();
      notify('cancelling…', 'warn');
      return true;
    },
  };
}
