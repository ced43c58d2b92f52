// Every kind of step, by name.
import type { Step, StepKind as Kind } from '../operation.js';
import { backupCreateStep, extractStep, removeFilesStep, swapDirStep } from './backup.js';
import { commandStep } from './command.js';
import { removeFileStep, writeFileStep } from './files.js';
import { gateStep } from './gate.js';
import type { StepKind } from './kind.js';
import { stopPidStep } from './pid.js';
import { daemonReloadStep, systemctlStep } from './systemd.js';

const KINDS: { [K in Kind]: StepKind<Extract<Step, { kind: K }>> } = {
  command: commandStep,
  'write-file': writeFileStep,
  'remove-file': removeFileStep,
  systemctl: systemctlStep,
  'daemon-reload': daemonReloadStep,
  'stop-pid': stopPidStep,
  'health-gate': gateStep,
  'backup-create': backupCreateStep,
  extract: extractStep,
  'swap-dir': swapDirStep,
  'remove-files': removeFilesStep,
};

export function kindOf(step: Step): StepKind {
  return KINDS[step.kind] as unknown as StepKind;
}

/** Whether a step has an undo (or, re-applying, is undone by running again). */
export function canUndo(step: Step): boolean {
  if (step.kind === 'command') return Boolean(step.undoArgv);
  if (step.kind === 'systemctl' && step.verb === 'kill') return false;
  if (step.kind === 'stop-pid') return Boolean(step.restart);
  return Boolean(kindOf(step).undo);
}

/** It changes nothing a rollback could put back (a health gate; clearing a unit's failed state). */
export function isInert(step: Step): boolean {
  return Boolean(kindOf(step).inert) || (step.kind === 'systemctl' && step.verb === 'reset-failed');
}

/** What the rollback planner needs to know of the kinds of step. */
// A stop that re-starts on undo is undone from what its start recorded, cut off or not (its undo asks whether the PID still runs).
export const ROLLBACK_KINDS = { canUndo, inert: isInert, undoesBegun: (step: Step) => Boolean(kindOf(step).undoesBegun) || (step.kind === 'stop-pid' && Boolean(step.restart)) };


export { OutcomeUnknown, stepError, StepFailure, type StepEnv, type StepEvent, type StepPreview, type StepOutcome } from './kind.js';

/**
 * Whether a step's successful end may wait for the next journal record (StateJournal.defer),
 * given the step after it. A crash before that record makes resume run the step again, so it
 * waits only when that is harmless, or when nothing runs on any host before the next record
 * anyway (the next step asks nothing first, or there is none): then it costs no window at all.
 * A detached command's end is on disk before its transient unit is removed.
 */
export function endMayWait(step: Step, next: Step | undefined): boolean {
  if (step.kind === 'command' && step.detach) return false;
  const harmlessTwice = step.kind !== 'command' && !(step.kind === 'systemctl' && step.verb === 'kill');
  return harmlessTwice || !next || !kindOf(next).before;
}
