// One preview of an operation for every place that shows one (the confirm dialog, the CLI's
// prompt, --dry-run): what, where, whom it touches, the preflight checks, and per step the
// exact commands (and how they run on this machine), a diff for a file, and its undo.
import { shellQuote, type Host } from '../host/host.js';
import { sanitizeLine } from '../text/sanitize.js';
import { reapplies, type Check, type Operation } from './operation.js';
import { planRollback } from './rollback.js';
import { rollbackFacts, type OperationProgress, type StoredOperation } from './state.js';
import { canUndo, isInert, kindOf, ROLLBACK_KINDS, type StepPreview } from './steps/index.js';

export interface PreviewLine {
  text: string;
  /** How a renderer may colour it. */
  style: 'head' | 'plain' | 'muted' | 'command' | 'added' | 'removed' | 'hunk' | 'warn';
}

function describeCheck(check: Check): string {
  return check.kind === 'unit-exists' ? `${check.unit} exists on host ${check.host}` : `PID ${check.pid} is still ${check.command} (same start time)`;
}

/** How a finished operation is undone, in a line: the steps' own undo (last first), or null when none can be. */
export function undoSummary(op: Operation): string | null {
  const steps = [...op.steps].reverse().filter((s) => !isInert(s));
  // A step that re-applies configuration (daemon-reload, restart) is undone by running it again.
  if (steps.length === 0 || !steps.every((s) => canUndo(s) || reapplies(s))) return null;
  return `${steps.map((s) => kindOf(s).undoText(s)).join(', then ')} (opsdeck ops rollback ${op.id})`;
}

/** The plan as lines. `hostFor` shows each command as this machine runs it (nsenter/ssh). */
export function previewLines(op: Operation, previews: readonly StepPreview[], hostFor?: (name: string) => Host): PreviewLine[] {
  const out: PreviewLine[] = [];
  // Plans may come back from a host: every line is made safe to print here, once, for every renderer.
  const push = (text: string, style: PreviewLine['style'] = 'plain') => out.push({ text: sanitizeLine(text), style });
  push(`${op.title}   (operation ${op.id})`, 'head');
  push(`host ${op.host}${op.environment ? ` · environment ${op.environment}${op.protected ? ' (protected)' : ''}` : ''} · risk ${op.risk} · if a step fails: ${op.onFailure === 'rollback' ? 'roll back automatically' : 'stop (rollback offered)'}`);
  push(`target ${op.target}`);
  // How this machine reaches each host, once (nsenter into the lab, ssh to a remote host).
  for (const name of [...new Set(op.steps.map((s) => s.host))]) {
    const wrapped = hostFor?.(name).wrap(['COMMAND']).join(' ');
    if (wrapped && wrapped !== 'COMMAND') push(`on host ${name} every command runs as: ${wrapped}`, 'muted');
  }
  if (op.environments.length > 1 || (op.environments.length === 1 && op.environments[0] !== op.environment)) push(`touches environments ${op.environments.join(', ')} (each is locked)`);
  for (const detail of op.details) push(`  ${detail}`, 'muted');
  for (const check of op.preflight) push(`checked first: ${describeCheck(check)}`, 'muted');
  op.steps.forEach((step, i) => {
    const p = previews[i];
    push(`${i + 1}. ${step.title}${step.host !== op.host ? `   (on host ${step.host})` : ''}`, 'head');
    if (!p) return;
    for (const command of p.commands) push(`   $ ${command.map(shellQuote).join(' ')}`, 'command');
    for (const note of p.notes) push(`   note: ${note}`, 'warn');
    if (p.diff) {
      for (const line of p.diff.replace(/\n$/, '').split('\n')) {
        push(`   ${line}`, line.startsWith('+') && !line.startsWith('+++') ? 'added' : line.startsWith('-') && !line.startsWith('---') ? 'removed' : line.startsWith('@@') ? 'hunk' : 'muted');
      }
    }
    push(`   undo: ${p.undo}`, 'muted');
  });
  return out;
}

/** What `ops resume` or `ops rollback` of a stored operation would do, in the order it would, as lines. */
export function storedActionLines(stored: StoredOperation, progress: OperationProgress, mode: 'resume' | 'rollback'): PreviewLine[] {
  const op = stored.plan;
  const out: PreviewLine[] = [];
  const push = (text: string, style: PreviewLine['style'] = 'plain') => out.push({ text: sanitizeLine(text), style });
  push(`${mode} of ${op.title}   (operation ${op.id}, ${progress.status}${progress.reason ? `: ${progress.reason}` : ''})`, 'head');
  push(`host ${op.host}${op.environment ? ` · environment ${op.environment}${op.protected ? ' (protected)' : ''}` : ''}`);
  if (mode === 'resume') {
    push('runs, from the first unfinished step (its preflight checked again):');
    op.steps.forEach((step, i) => {
      if (!progress.done.includes(i)) push(`${i + 1}. ${step.title}${progress.unfinished === i ? '   (cut off: the host is asked first)' : ''}`, 'command');
    });
    return out;
  }
  const actions = planRollback(op.steps, { ...rollbackFacts(progress), ...ROLLBACK_KINDS });
  push(actions.length > 0 ? 'undoes, last first:' : 'nothing to undo: no step changed anything', actions.length > 0 ? 'plain' : 'warn');
  for (const a of actions) {
    const step = op.steps[a.index]!;
    const how = a.how === 'reapply' ? 'run again' : a.how === 'cannot' ? (a.cutOff ? 'cut off, its outcome unknown: CANNOT be undone safely' : 'CANNOT be undone') : kindOf(step).undoText(step);
    push(`${a.index + 1}. ${step.title}   → ${how}${progress.unfinished === a.index ? ' (cut off)' : ''}`, a.how === 'cannot' ? 'warn' : 'command');
  }
  return out;
}
