// Errors a user can act on: what failed, where, and what to try. The CLI maps `kind`
// to exit codes (usage/config -> 2, everything else -> 1); the console shows `message`
// and `hint` and never a stack trace.
import { sanitizeBlock } from './sanitize.js';

export type ErrorKind = 'usage' | 'config' | 'command' | 'timeout' | 'unreachable' | 'missing-tool' | 'lab';

export class OpsdeckError extends Error {
  readonly kind: ErrorKind;
  readonly hint: string | undefined;

  constructor(kind: ErrorKind, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OpsdeckError';
    this.kind = kind;
    this.hint = hint;
  }
}

export class UsageError extends OpsdeckError {
  constructor(message: string, hint?: string) {
    super('usage', message, hint);
    this.name = 'UsageError';
  }
}

export class ConfigError extends OpsdeckError {
  constructor(message: string, hint?: string) {
    super('config', message, hint);
    this.name = 'ConfigError';
  }
}

/** A command run through a Host failed, timed out, or could not start. */
export class CommandError extends OpsdeckError {
  readonly host: string;
  readonly argv: readonly string[];
  readonly exitCode: number | undefined;
  readonly stderr: string;

  constructor(init: {
    kind?: ErrorKind;
    host: string;
    argv: readonly string[];
    exitCode?: number | undefined;
    stderr?: string;
    message: string;
    hint?: string;
  }) {
    super(init.kind ?? 'command', init.message, init.hint);
    this.name = 'CommandError';
    this.host = init.host;
    this.argv = init.argv;
    this.exitCode = init.exitCode;
    this.stderr = init.stderr ?? '';
  }
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof OpsdeckError && (error.kind === 'usage' || error.kind === 'config')) return 2;
  return 1;
}

/** Last lines of stderr, enough to see why without flooding the screen. */
export function trimStderr(stderr: string, maxLines = 6, maxChars = 600): string {
  // stderr is text from the system (ssh banners, shell rc files, tools): untrusted.
  const lines = sanitizeBlock(stderr.replace(/\r/g, '')).split('\n').map((l) => l.trimEnd()).filter((l) => l.length > 0);
  let text = lines.slice(-maxLines).join('\n');
  if (text.length > maxChars) text = '…' + text.slice(-maxChars);
  return text;
}

/** One line for an operator: the message, and the hint when there is one. */
export function describeError(error: unknown): string {
  if (error instanceof OpsdeckError) return error.hint ? `${error.message} (${error.hint})` : error.message;
  return error instanceof Error ? error.message : String(error);
}
