// The audit trail of an operation: each step's intent before it runs and its result after,
// each undo, each refusal, with the operation's id, the exact argv and how this machine runs it.
import type { Host } from '../host/host.js';
import { describeError, trimStderr } from '../text/errors.js';
import { currentUser, type AuditLog, type AuditRecord } from './audit.js';
import type { Operation } from './operation.js';

export type Confirmation = { kind: 'typed-name'; text: string } | { kind: 'dialog' } | { kind: 'yes-flag' } | { kind: 'prompt' };

export interface StepFacts {
  argv: string[];
  exitCode: number | null;
  stderr: string;
  durationMs: number;
}

export function confirmedBy(confirmation: Confirmation | null): AuditRecord['confirmedBy'] {
  if (!confirmation) return 'none';
  return confirmation.kind === 'typed-name' ? 'typed-name' : confirmation.kind === 'yes-flag' ? '--yes' : confirmation.kind === 'prompt' ? 'prompt' : 'dialog';
}

/** The phrase a protected operation needs typed (give it an operation `guarded` by the runner). */
export function requiredPhrase(op: Pick<Operation, 'protected' | 'phrase' | 'environment' | 'host'>): string | null {
  return op.protected ? (op.phrase ?? op.environment ?? op.host) : null;
}

export class OperationRecorder {
  constructor(
    private readonly audit: AuditLog,
    private readonly hostFor: (name: string) => Host,
  ) {}

  /** A record that must go in (an intent): an AuditError when it cannot. `step`: null for the operation as a whole. */
  record(op: Operation, step: number | null, facts: StepFacts, outcome: AuditRecord['outcome'], by: AuditRecord['confirmedBy']): void {
    const hostName = step === null ? op.host : op.steps[step]!.host;
    let wrappedArgv: string[] = [];
    try {
      wrappedArgv = this.hostFor(hostName).wrap(facts.argv);
    } catch {
      /* the host cannot be addressed (e.g. the lab is down): the record still goes in */
    }
    this.audit.append({
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

  /** A record of what already happened: why it could not be written, or null. */
  tryRecord(op: Operation, step: number | null, facts: StepFacts, outcome: AuditRecord['outcome'], by: AuditRecord['confirmedBy']): string | null {
    try {
      this.record(op, step, facts, outcome, by);
      return null;
    } catch (error) {
      return describeError(error);
    }
  }
}
