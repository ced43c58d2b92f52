// Every kind of step, by name.
import type { Step, StepKind as Kind } from '../operation.js';
import { commandStep, undoCommand } from './command.js';
import { removeFileStep, writeFileStep } from './files.js';
import { gateStep } from './gate.js';
import type { StepEnv, StepKind } from './kind.js';
import { stopPidStep } from './pid.js';
import { daemonReloadStep, systemctlStep } from './systemd.js';

const KINDS: { [K in Kind]: StepKind<Extract<Step, { kind: K }>> } = {
  command: { ...commandStep, undo: (step: Extract<Step, { kind: 'command' }>, env: StepEnv) => undoCommand(step, env) },
  'write-file': writeFileStep,
  'remove-file': removeFileStep,
  systemctl: systemctlStep,
  'daemon-reload': daemonReloadStep,
  'stop-pid': stopPidStep,
  'health-gate': gateStep,
};

export function kindOf(step: Step): StepKind {
  return KINDS[step.kind] as unknown as StepKind;
}

/** Whether a step has an undo (or, re-applying, is undone by running again). */
export function canUndo(step: Step): boolean {
  if (step.kind === 'command') return Boolean(step.undoArgv);
  return Boolean(kindOf(step).undo);
}

/** Called once a step's end is journaled (a detached command's transient unit is removed then). */
export async function afterRecorded(step: Step, env: StepEnv): Promise<void> {
  if (step.kind === 'command') await commandStep.cleanup(step, env);
}

export { HostLost, StepFailure, type StepEnv, type StepEvent, type StepPreview, type StepOutcome } from './kind.js';
