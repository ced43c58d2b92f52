// What a run of an operation tells its caller: the events as they happen (the console's view
// and the CLI's printer follow them) and the result at the end, with a summary that says what
// to do next.
import type { GateSample } from '../status/gate.js';
import type { Operation, Step } from './operation.js';
import type { Progress } from './progress.js';
import type { OperationStatus } from './state.js';

export type OperationEvent =
  | { type: 'planned'; op: Operation; mode: 'run' | 'resume' | 'rollback' }
  | { type: 'locked'; names: string[] }
  | { type: 'step-started'; index: number; step: Step; resumed: boolean }
  | { type: 'output'; index: number; line: string }
  | ({ type: 'progress'; index: number } & Progress)
  | { type: 'gate-sample'; index: number; sample: GateSample }
  | { type: 'step-finished'; index: number; ok: boolean; durationMs: number; exitCode: number | null; error?: string; stderr?: string; journal?: string[] }
  | { type: 'undo-started'; index: number; step: Step; reapply: boolean }
  | { type: 'undone'; index: number; ok: boolean; reapply: boolean; error?: string }
  | { type: 'ended'; result: OperationResult };

export interface OperationResult {
  id: string;
  status: Exclude<OperationStatus, 'running' | 'rolling-back'>;
  ok: boolean;
  /** One line for the result dialog and the CLI. */
  summary: string;
  failedStep: number | null;
  error: string | null;
  /** The failed step's stderr and the unit's journal lines of the last seconds. */
  stderr: string;
  journal: string[];
  /** A record the audit log could not take (the step ran, but is not recorded): why. */
  auditError: string | null;
  durationMs: number;
}

/** The result of a run, with its one-line summary (what to do next included). */
export function operationResult(op: Operation, status: OperationResult['status'], startedAt: number, facts: Partial<OperationResult> & { undoable?: boolean } = {}): OperationResult {
  const durationMs = Date.now() - startedAt;
  const error = facts.error ?? null;
  const summary =
    status === 'finished' ? `${op.title}: done in ${durationMs} ms`
      : status === 'rolled-back' ? `${op.title}: ${facts.failedStep !== undefined && facts.failedStep !== null ? `failed at step ${facts.failedStep + 1}, ` : ''}rolled back${error ? `: ${error}` : ''}`
        : status === 'interrupted' ? `${op.title}: interrupted${error ? `: ${error}` : ''} (opsdeck ops resume ${op.id}, or rollback)`
          : `${op.title}: ${status}${error ? `: ${error}` : ''}${status === 'failed' && facts.undoable ? ` (opsdeck ops rollback ${op.id} undoes what was done)` : ''}`;
  const auditError = facts.auditError ?? null;
  return {
    id: op.id,
    status,
    ok: (facts.ok ?? status === 'finished') && auditError === null,
    summary: auditError ? `${summary} — NOT RECORDED in the audit log: ${auditError}` : summary,
    failedStep: facts.failedStep ?? null,
    error,
    stderr: facts.stderr ?? '',
    journal: facts.journal ?? [],
    auditError,
    durationMs,
  };
}
