// What every kind of step provides to the runner: its preview (the exact commands, a diff for
// files, how it is undone), what to record before it runs, running it, and undoing it.
import type { Host } from '../../host/host.js';
import { CommandError } from '../../text/errors.js';
import type { GateSample } from '../../status/gate.js';
import type { Operation, Step } from '../operation.js';
import type { ProgressUnit } from '../progress.js';

export type StepEvent =
  | { type: 'output'; line: string }
  | { type: 'progress'; done: number; total: number | null; unit: ProgressUnit; files?: { done: number; total: number | null } }
  | { type: 'gate-sample'; sample: GateSample };

export interface StepEnv {
  /** The step's own host. */
  host: Host;
  op: Operation;
  index: number;
  signal?: AbortSignal | undefined;
  emit: (event: StepEvent) => void;
}

export interface StepPreview {
  /** The commands, as argv, in the order they run. */
  commands: string[][];
  /** For a file: `diff -u` of what is there and what will be. */
  diff: string | null;
  /** How it is undone, in words, or why it cannot be. */
  undo: string;
  /** Anything else the operator should know (a file that is a link, a unit that is missing). */
  notes: string[];
}

export interface StepOutcome {
  exitCode: number | null;
  /** Kept in the journal with the step's end, for undo and resume. */
  data?: Record<string, unknown>;
}

/**
 * A step whose outcome is unknown: the host could not be reached, or the command did not end
 * in time (systemd may still be working on the job; a remote command may still run). The
 * operation is interrupted (resume asks the host, rollback is offered), never taken for
 * failed and rolled back while the step may still be going on.
 */
export class OutcomeUnknown extends Error {
  constructor(
    message: string,
    readonly why: 'lost-host' | 'timeout',
  ) {
    super(message);
    this.name = 'OutcomeUnknown';
  }
}

/** A command's error as a step's: a host that did not answer or a command that did not end is OutcomeUnknown, anything else a failure. */
export function stepError(error: unknown, unit: string | null = null): Error {
  if (error instanceof OutcomeUnknown || error instanceof StepFailure) return error;
  if (error instanceof CommandError) {
    if (error.kind === 'unreachable' || error.kind === 'lab') return new OutcomeUnknown(`lost host ${error.host}: ${error.message}`, 'lost-host');
    if (error.kind === 'timeout') return new OutcomeUnknown(`${error.message}: its outcome is unknown`, 'timeout');
    return new StepFailure(error.message, error.exitCode ?? null, error.stderr, unit);
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** A step that failed: what failed, its exit code and stderr; `unit`: whose journal explains it. */
export class StepFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null = null,
    readonly stderr = '',
    readonly unit: string | null = null,
  ) {
    super(message);
    this.name = 'StepFailure';
  }
}

export interface StepKind<S extends Step = Step> {
  /** The command the step stands for in the audit log (the exact argv where it is one). */
  argv(step: S): string[];
  preview(step: S, env: Omit<StepEnv, 'emit' | 'index'> & { index: number }): Promise<StepPreview>;
  /** What is there before it runs, journaled with its start (e.g. a unit's invocation). */
  before?(step: S, env: StepEnv): Promise<Record<string, unknown>>;
  /**
   * Run it. `resume`: it was started before and never recorded as finished (opsdeck died or
   * lost its connection): the kind decides from the host's state whether to run it again.
   */
  run(step: S, env: StepEnv, before: Record<string, unknown> | undefined, resume: boolean): Promise<StepOutcome>;
  /** Undo it, given what its start and end recorded; absent when it cannot be undone. */
  undo?(step: S, env: StepEnv, data: Record<string, unknown>): Promise<void>;
  /** How it is undone, or why it cannot be, in words. */
  undoText(step: S): string;
  /** Once its end is on disk in the journal, ended well or not (a detached command's transient unit is removed then). */
  afterRecorded?(step: S, env: StepEnv): Promise<void>;
  /** It changes nothing (a health gate): a rollback passes it by. */
  inert?: boolean;
  /** Cut off half-way, it can still be undone from what its start recorded (its undo checks the host). */
  undoesBegun?: boolean;
}
