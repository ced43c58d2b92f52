// Overlays (help, palette, text, prompt, the confirm dialog and the operation view) and an
// operation's way to the runner: proposed (refused at once, and audited, in read-only mode;
// else previewed from the hosts' live state: commands, diffs, undo), confirmed (a protected
// target wants its name typed), then run in the operation view (operations-slice.ts).
import { dropInDirectory, killPidOperation, parseSetting, unitOverrideOperation } from '../core/ops/plans.js';
import { previewLines, storedActionLines } from '../core/ops/preview.js';
import { requiredPhrase, type Confirmation } from '../core/ops/runner.js';
import { describeProcess } from '../core/ops/target.js';
import { progressOf } from '../core/ops/state.js';
import { describeError } from '../core/text/errors.js';
import { targetOf } from './selectors.js';
import type { Overlay, OverlayActions, Slice, SliceContext } from './types.js';

export function createOverlaySlice({ deps, set, get, notify }: SliceContext): Slice<'overlay', OverlayActions> {
  const actions: OverlayActions = {
    openOverlay(overlay) {
      set({ overlay, filterEditing: false });
    },
    closeOverlay() {
      if (get().overlay?.kind === 'operation') return get().actions.closeOperation();
      set({ overlay: null });
    },
    updateOverlay(patch) {
      const overlay = get().overlay;
      if (overlay && overlay.kind !== 'help' && overlay.kind !== 'operation') set({ overlay: { ...overlay, ...patch } as Overlay });
    },
    propose(op, mode = 'run') {
      try {
        deps.runner.refuseIfReadonly(op, mode === 'run' ? undefined : mode);
      } catch (refusal) {
        notify(describeError(refusal), 'warn');
        return;
      }
      set({ overlay: { kind: 'confirm', op, mode, preview: null, typed: '', scroll: 0 } });
      const still = () => {
        const overlay = get().overlay;
        return overlay?.kind === 'confirm' && overlay.op.id === op.id ? overlay : null;
      };
      void (async () => {
        try {
          let lines;
          if (mode === 'run') lines = previewLines(op, await deps.runner.preview(op), (name) => deps.hosts.get(name));
          else {
            const stored = await deps.runner.stored(op);
            if (!stored) throw new Error(`operation ${op.id} is no longer on host ${op.host}`);
            lines = storedActionLines({ ...stored, plan: op }, progressOf(stored, await deps.runner.ownerAlive(op)), mode);
          }
          const overlay = still();
          if (overlay) set({ overlay: { ...overlay, preview: lines } });
        } catch (error) {
          // The host cannot be asked (e.g. the lab is down): say so instead of asking.
          if (still()) set({ overlay: null });
          notify(`cannot ${op.title}: ${describeError(error)}`, 'error');
        }
      })();
    },
    async proposeKill(host, pid) {
      try {
        const process = await describeProcess(deps.hosts.get(host), pid);
        if (!process) {
          notify(`PID ${pid} is gone from host ${host}`, 'warn');
          return;
        }
        const target = targetOf(get(), { kind: 'pid', host, pid, unit: process.unit, ports: process.ports });
        actions.propose(killPidOperation(pid, { ...target, process }));
      } catch (error) {
        notify(`cannot kill PID ${pid}: ${describeError(error)}`, 'error');
      }
    },
    async proposeOverride(host, unit, line) {
      try {
        const state = get();
        const target = targetOf(state, { kind: 'unit', host, unit });
        // One setting per line: a value may hold spaces and "Key=" of its own (Environment=A=1 B=2), so it is never split.
        const settings = line.trim() === '-' ? null : [parseSetting(line.trim(), unit)];
        const env = target.environment ? state.config.environments[target.environment] : undefined;
        actions.propose(unitOverrideOperation(target, { unit, settings, dropInDir: await dropInDirectory(deps.hosts.get(host)), probe: env?.health }));
      } catch (error) {
        notify(describeError(error), 'error');
      }
    },
    async confirm() {
      const overlay = get().overlay;
      if (overlay?.kind !== 'confirm' || !overlay.preview) return;
      const { op, typed, mode } = overlay;
      const confirmation: Confirmation = requiredPhrase(op) ? { kind: 'typed-name', text: typed } : { kind: 'dialog' };
      await get().actions.startOperation(op, mode, confirmation);
    },
  };

  return { state: { overlay: null }, actions };
}
