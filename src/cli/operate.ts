// Running an operation from the command line: the same runner, preview and audit log as the
// console. --dry-run prints the plan and writes nothing on any host (no lock, no journal).
// On a TTY it asks (a protected environment wants its name typed), shows a live line per step,
// and Ctrl+C asks whether to stop here (resume later), roll back, or keep waiting; --yes answers
// for scripts; with neither it refuses. Without a TTY: plain lines; --json: JSON lines of events.
import { createInterface } from 'node:readline/promises';
import type { Operation } from '../core/ops/operation.js';
import { runnerPolicies } from '../core/ops/policy.js';
import { previewLines, undoSummary, type PreviewLine } from '../core/ops/preview.js';
import { describeProgress } from '../core/ops/progress.js';
import { OperationRunner, requiredPhrase, type Confirmation, type OperationEvent, type OperationResult } from '../core/ops/runner.js';
import type { StoredOperation } from '../core/ops/state.js';
import { hostResolver } from '../core/ops/target.js';
import { sanitizeLine } from '../core/text/sanitize.js';
import type { CliContext } from './context.js';
import { MARK, paint, printJson } from './format.js';
import { handInterrupts } from './lifecycle.js';

export interface OperateOptions {
  yes?: boolean;
  readonly?: boolean;
  json?: boolean;
  dryRun?: boolean;
}

export function runnerFor(ctx: CliContext, options: { readonly?: boolean | undefined }): OperationRunner {
  return new OperationRunner({ hostFor: (name) => ctx.hosts.get(name), ...runnerPolicies(ctx.config, Boolean(options.readonly), hostResolver(ctx.config, ctx.hosts)) });
}

const STYLE: Record<PreviewLine['style'], (s: string) => string> = {
  head: paint.head,
  plain: (s) => s,
  muted: paint.dim,
  command: (s) => s,
  added: paint.good,
  removed: paint.bad,
  hunk: paint.dim,
  warn: paint.warn,
};

/** Preview lines, coloured by their style (their text is already safe to print: preview.ts). */
export function printLines(lines: readonly PreviewLine[], out: NodeJS.WritableStream): void {
  for (const line of lines) out.write(STYLE[line.style](line.text) + '\n');
}

export async function printPlan(ctx: CliContext, runner: OperationRunner, op: Operation, out: NodeJS.WriteStream): Promise<void> {
  printLines(previewLines(op, await runner.preview(op), (name) => ctx.hosts.get(name)), out);
}

/** Plan, confirm, run, report: the exit code (0 done, 1 failed/rolled back/interrupted). */
export async function operate(ctx: CliContext, op: Operation, options: OperateOptions): Promise<number> {
  const runner = runnerFor(ctx, options);
  if (options.dryRun) {
    if (options.json) printJson({ dryRun: true, operation: op, steps: await runner.preview(op) });
    else {
      await printPlan(ctx, runner, op, process.stdout);
      process.stdout.write(paint.dim('dry run: nothing was done, nothing was written on any host\n'));
    }
    return 0;
  }
  const confirmation = await confirm(ctx, runner, op, options);
  if (!confirmation) return 1;
  const result = await runWithInterrupts(runner, (signal, onEvent) => runner.run(op, confirmation, { signal, onEvent }), op, confirmation, options);
  const code = report(result, options);
  const undo = result.ok && !options.json ? undoSummary(op) : null;
  if (undo) process.stdout.write(paint.dim(`  undo: ${sanitizeLine(undo)}\n`));
  return code;
}

/** resume / rollback of a stored operation, with the same confirmation and reporting. */
export async function operateStored(ctx: CliContext, stored: StoredOperation, what: 'resume' | 'rollback', options: OperateOptions): Promise<number> {
  const runner = runnerFor(ctx, options);
  // Confirmed as the config protects everything it may touch now, whatever the stored plan says.
  const op = runner.forStored(stored.plan);
  const confirmation = await confirm(ctx, runner, op, options, what);
  if (!confirmation) return 1;
  const result = await runWithInterrupts(runner, (signal, onEvent) => (what === 'resume' ? runner.resume(stored, confirmation, { signal, onEvent }) : runner.rollback(stored, confirmation, { signal, onEvent })), op, confirmation, options);
  return report(result, options);
}

async function confirm(ctx: CliContext, runner: OperationRunner, op: Operation, options: OperateOptions, what?: 'resume' | 'rollback'): Promise<Confirmation | null> {
  // Every refusal is recorded in the audit log, like every step that runs.
  runner.refuseIfReadonly(op, what);
  if (options.yes) return { kind: 'yes-flag' };
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    throw runner.refuse(op, `refusing to ${what ? `${what} ` : ''}${op.title} on host ${op.host} without confirmation: there is no terminal to ask on`, 'pass --yes to confirm from a script (or --dry-run to see the plan)', null);
  }
  if (what) process.stderr.write(paint.head(`${what} of operation ${op.id}\n`));
  await printPlan(ctx, runner, op, process.stderr);
  const phrase = requiredPhrase(op);
  const answer = (await ask(phrase ? `Type ${paint.bad(phrase)} to confirm: ` : 'Proceed? [y/N] ')).trim();
  if (phrase ? answer === phrase : /^y(es)?$/i.test(answer)) return phrase ? { kind: 'typed-name', text: phrase } : { kind: 'prompt' };
  const refusal = runner.refuse(op, `${op.title}: not confirmed at the prompt`, undefined, null);
  process.stderr.write(`cancelled: nothing was done${refusal.hint ? ` (${refusal.hint})` : ''}\n`);
  return null;
}

/** One answer from the terminal; Ctrl+C or Ctrl+D at the question is no answer (''), never a crash. */
export async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  rl.on('SIGINT', () => {
    process.stderr.write('\n');
    rl.close();
  });
  try {
    return await rl.question(question);
  } catch {
    return '';
  } finally {
    rl.close();
  }
}

/**
 * Run with Ctrl+C taken over: on a TTY it asks (stop here / roll back / keep waiting); without
 * one it stops here. Events print as they come.
 */
async function runWithInterrupts(
  runner: OperationRunner,
  start: (signal: AbortSignal, onEvent: (e: OperationEvent) => void) => Promise<OperationResult>,
  op: Operation,
  confirmation: Confirmation,
  options: OperateOptions,
): Promise<OperationResult> {
  const abort = new AbortController();
  const printer = eventPrinter(op, options);
  let rollbackAfter = false;
  let asking = false;
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const giveBack = handInterrupts(() => {
    if (!interactive) return abort.abort();
    if (asking) return;
    asking = true;
    printer.pause();
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    void rl
      .question(paint.warn('\ninterrupt: [s]top here (resume later), [r]oll back, [k]eep waiting? '))
      .then((answer) => {
        const a = answer.trim().toLowerCase();
        if (a.startsWith('s')) abort.abort();
        else if (a.startsWith('r')) {
          rollbackAfter = true;
          abort.abort();
        }
      })
      // The question closed without an answer (Ctrl+D, the terminal gone): keep waiting.
      .catch(() => undefined)
      .finally(() => {
        rl.close();
        asking = false;
        printer.resume();
      });
  });
  try {
    let result = await start(abort.signal, printer.event);
    if (rollbackAfter && result.status === 'interrupted') {
      const stored = await runner.stored(op);
      // The operator chose it at the Ctrl+C question: the confirmation given for the run covers it.
      if (stored) result = await runner.rollback(stored, confirmation, { onEvent: printer.event, ranAs: op });
    }
    return result;
  } finally {
    giveBack();
  }
}

function eventPrinter(op: Operation, options: OperateOptions) {
  const tty = Boolean(process.stdout.isTTY) && !options.json;
  let paused = false;
  const held: string[] = [];
  const write = (text: string) => (paused ? held.push(text) : process.stdout.write(text));
  const total = op.steps.length;
  let live = '';
  let lastPlainProgress = 0;
  const event = (e: OperationEvent) => {
    if (options.json) {
      write(JSON.stringify({ operation: op.id, ...e }) + '\n');
      return;
    }
    const clear = () => {
      if (tty && live) write('\r\x1b[2K');
      live = '';
    };
    switch (e.type) {
      case 'locked':
        write(paint.dim(`locked ${e.names.join(', ')} on host ${op.host}\n`));
        break;
      case 'step-started':
        clear();
        live = `  ${MARK.running} ${e.index + 1}/${total} ${sanitizeLine(e.step.title)}${e.resumed ? ' (resumed)' : ''}`;
        write(tty ? live : `${live}\n`);
        break;
      case 'output':
        clear();
        write(paint.dim(`      ${sanitizeLine(e.line)}\n`));
        break;
      case 'progress':
        // On a terminal the step's live line shows it; in a log, a line now and then is enough.
        if (tty) {
          clear();
          live = `  ${MARK.running} ${e.index + 1}/${total} ${sanitizeLine(op.steps[e.index]!.title)}: ${describeProgress(e)}`;
          write(live);
        } else if (Date.now() - lastPlainProgress >= 5000 || (e.total !== null && e.done >= e.total)) {
          lastPlainProgress = Date.now();
          write(paint.dim(`      ${describeProgress(e)}\n`));
        }
        break;
      case 'gate-sample':
        if (tty) {
          clear();
          live = `  ${MARK.running} ${e.index + 1}/${total} health gate: ${e.sample.ok ? 'well' : sanitizeLine(e.sample.failures[0] ?? 'not yet')}`;
          write(live);
        } else if (!e.sample.ok) write(paint.dim(`      gate: ${sanitizeLine(e.sample.failures.join('; '))}\n`));
        break;
      case 'step-finished':
        clear();
        write(`${e.ok ? paint.good(`  ${MARK.ok}`) : paint.bad(`  ${MARK.critical}`)} ${e.index + 1}/${total} ${sanitizeLine(op.steps[e.index]!.title)} ${paint.dim(`${e.durationMs} ms`)}\n`);
        if (!e.ok) {
          if (e.error) write(paint.bad(`      ${sanitizeLine(e.error)}\n`));
          // stderr lines the error does not already quote.
          for (const line of (e.stderr ?? '').split('\n').filter((l) => l && !e.error?.includes(l))) write(`      ${sanitizeLine(line)}\n`);
          if (e.journal?.length) {
            write(paint.dim('      the unit\'s journal, last lines:\n'));
            for (const line of e.journal) write(`        ${sanitizeLine(line)}\n`);
          }
        }
        break;
      case 'undo-started':
        clear();
        live = `  ${e.reapply ? '↻ re-apply' : '↶ undo'} ${e.index + 1}/${total} ${sanitizeLine(e.step.title)}`;
        write(tty ? live : `${live}\n`);
        break;
      case 'undone':
        clear();
        write(`${e.ok ? paint.good(e.reapply ? '  ↻' : '  ↶') : paint.bad(`  ${MARK.critical}`)} ${e.reapply ? 're-applied' : 'undone'} ${e.index + 1}/${total} ${sanitizeLine(op.steps[e.index]!.title)}${e.error ? `: ${sanitizeLine(e.error)}` : ''}\n`);
        break;
      default:
        break;
    }
  };
  return {
    event,
    pause: () => {
      paused = true;
    },
    resume: () => {
      paused = false;
      for (const text of held.splice(0)) process.stdout.write(text);
    },
  };
}

function report(result: OperationResult, options: OperateOptions): number {
  if (options.json) process.stdout.write(JSON.stringify({ result }) + '\n');
  else {
    const mark = result.ok ? paint.good(MARK.ok) : paint.bad(MARK.critical);
    process.stdout.write(`${mark} ${sanitizeLine(result.summary)}\n`);
    if (result.auditError) process.stderr.write(`${paint.bad('opsdeck:')} the audit log is missing this operation's record: ${sanitizeLine(result.auditError)}\n`);
  }
  return result.ok ? 0 : 1;
}
