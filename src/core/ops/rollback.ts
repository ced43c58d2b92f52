// The order of a rollback, decided from the plan alone (pure, so it is tested on its own):
// steps are undone last first; steps that re-apply configuration (daemon-reload, restart,
// reload) are not "undone" but run again once what they applied has been put back, so a
// rollback reads "restore the file, reload, restart", never "restart with the new file still
// there". A re-applying step is run again only when something before it was undone after it
// ran (it is dirty), right before the next undo that is not a file (a start must see the old
// configuration) and at the end, lowest first; it stays registered, so a second file undone
// further back makes it dirty again.
import { reapplies, type Step } from './operation.js';

export type RollbackAction =
  | { how: 'undo'; index: number }
  | { how: 'reapply'; index: number }
  /** It cannot be undone; `cutOff`: it was cut off half-way and whether it changed anything is unknown. */
  | { how: 'cannot'; index: number; cutOff: boolean };

export interface RollbackFacts {
  /** Steps that finished well and are not undone yet. */
  done: ReadonlySet<number>;
  /** Steps that started and never ended (cut off: whether they changed anything is unknown). */
  cutOff: ReadonlySet<number>;
  /** Steps whose last try failed (ended: a kind that can tell from the host undoes what it left). */
  failed: ReadonlySet<number>;
  /** Steps a rollback undid already (a second rollback does not undo them again). */
  undone?: ReadonlySet<number>;
  /** Whether a kind of step can be undone at all. */
  canUndo: (step: Step) => boolean;
  /** Whether it changes nothing (a health gate). */
  inert: (step: Step) => boolean;
  /** Whether a step cut off or failed half-way can still be undone from what its start recorded (files, systemctl). */
  undoesBegun: (step: Step) => boolean;
}

const touchesOnlyFiles = (step: Step) => step.kind === 'write-file' || step.kind === 'remove-file';

export function planRollback(steps: readonly Step[], facts: RollbackFacts): RollbackAction[] {
  const actions: RollbackAction[] = [];
  const registered: number[] = [];
  const dirty = new Set<number>();
  const flush = () => {
    for (const index of [...dirty].sort((a, b) => a - b)) actions.push({ how: 'reapply', index });
    dirty.clear();
  };
  for (let index = steps.length - 1; index >= 0; index--) {
    const step = steps[index]!;
    const done = facts.done.has(index);
    const undone = facts.undone?.has(index) ?? false;
    const cutOff = !done && !undone && facts.cutOff.has(index);
    const failed = !done && !undone && facts.failed.has(index);
    if (reapplies(step)) {
      // A restart that failed or was cut off half-way counts too: it is run again once things are put back.
      // Run again by an earlier rollback (undone) too: a file put back now makes it dirty again.
      if (done || undone || facts.cutOff.has(index) || facts.failed.has(index)) registered.push(index);
      continue;
    }
    if (facts.inert(step) || !(done || cutOff || failed)) continue;
    const fromStart = facts.undoesBegun(step);
    // A failed step that cannot tell from the host what it left is taken to have changed nothing.
    if (failed && !fromStart) continue;
    if (!facts.canUndo(step) || (cutOff && !fromStart)) {
      actions.push({ how: 'cannot', index, cutOff });
      continue;
    }
    if (!touchesOnlyFiles(step)) flush();
    actions.push({ how: 'undo', index });
    for (const r of registered) dirty.add(r);
  }
  flush();
  return actions;
}
