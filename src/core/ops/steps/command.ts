// A command step. Run directly (collected), or detached: in a transient unit on the host
// (systemd-run), so a dropped SSH connection or a killed opsdeck cannot cut it in half; the
// runner reattaches by the unit's name, which is the operation's and the step's.
import type { Step } from '../operation.js';
import { readJournal } from '../../journal/read.js';
import { showUnits, type UnitStatus } from '../../systemd/units.js';
import { trimStderr } from '../../text/errors.js';
import { OutcomeUnknown, StepFailure, stepError, type StepEnv, type StepKind } from './kind.js';

/** How long a detached step waits for its host to answer again before leaving it to a resume. */
const REATTACH_MS = 30_000;

type CommandStep = Extract<Step, { kind: 'command' }>;

const ANY_EXIT = Array.from({ length: 256 }, (_, i) => i).filter((c) => c !== 127);

/** The transient unit a detached step runs in: named after the operation and the step. */
export function transientUnit(opId: string, index: number): string {
  return `opsdeck-op-${opId}-s${index}.service`;
}

function systemdRunArgv(step: CommandStep, opId: string, index: number): string[] {
  // RemainAfterExit: the unit stays (active or failed) with its exit status until opsdeck has
  // journaled the result and cleaned it up, so a resume can still read it.
  return ['systemd-run', `--unit=${transientUnit(opId, index)}`, `--description=opsdeck ${opId} step ${index + 1}: ${step.title.replace(/[\x00-\x1f\x7f]/g, ' ')}`, '--quiet', '--property=RemainAfterExit=yes', '--', ...step.argv];
}

function lines(text: string): string[] {
  return text.split(/\r?\n|\r/).map((l) => trimStderr(l, 1, 2000)).filter(Boolean);
}

async function runDirect(step: CommandStep, env: StepEnv) {
  const ok = step.okExitCodes ?? [0];
  try {
    const result = await env.host.run(step.argv, { timeoutMs: step.timeoutMs ?? 90_000, okExitCodes: ANY_EXIT, ...(env.signal ? { signal: env.signal } : {}) });
    for (const line of [...lines(result.stdout), ...lines(result.stderr)]) env.emit({ type: 'output', line });
    if (!ok.includes(result.exitCode)) throw new StepFailure(`\`${step.argv.join(' ')}\` exited with ${result.exitCode}`, result.exitCode, trimStderr(result.stderr));
    return { exitCode: result.exitCode };
  } catch (error) {
    throw error instanceof StepFailure ? error : stepError(error);
  }
}

/** Stop and forget a step's transient unit (RemainAfterExit keeps it until then). */
async function removeTransient(env: StepEnv, unit: string): Promise<void> {
  await env.host.run(['systemctl', 'stop', '--no-ask-password', '--', unit], { okExitCodes: [0, 1, 5] });
  await env.host.run(['systemctl', 'reset-failed', '--no-ask-password', '--', unit], { okExitCodes: [0, 1, 5] });
}

async function runDetached(step: CommandStep, env: StepEnv, resume: boolean) {
  const unit = transientUnit(env.op.id, env.index);
  // Fresh: a unit of that name left by an earlier attempt (a run rolled back, then resumed) would make systemd-run refuse.
  if (!resume) await removeTransient(env, unit).catch((error: unknown) => { throw stepError(error); });
  const current = resume ? (await showUnits(env.host, [unit])).get(unit) : undefined;
  // Resumed: if the host still has the unit, it ran (or runs): wait for it rather than run it twice.
  if (!current || current.loadState === 'not-found') {
    try {
      await env.host.run(systemdRunArgv(step, env.op.id, env.index), { timeoutMs: 30_000 });
    } catch (error) {
      throw stepError(error);
    }
  }
  const deadline = Date.now() + (step.timeoutMs ?? 600_000);
  let lostSince: number | null = null;
  for (;;) {
    let state: UnitStatus | undefined;
    try {
      state = (await showUnits(env.host, [unit], env.signal ? { signal: env.signal } : {})).get(unit);
      lostSince = null;
    } catch (error) {
      // The host did not answer (a dropped connection): the unit goes on there; ask again for a
      // while (ssh reconnects by itself), then leave it to a resume.
      if (!(stepError(error) instanceof OutcomeUnknown) || env.signal?.aborted) throw stepError(error);
      lostSince ??= Date.now();
      if (Date.now() - lostSince > REATTACH_MS) throw stepError(error);
      await new Promise((r) => setTimeout(r, 1000));
      continue;
    }
    if (state && (state.activeState === 'failed' || state.activeState === 'inactive' || (state.activeState === 'active' && state.subState === 'exited'))) {
      const exitCode = state.execMainStatus ?? (state.result === 'success' ? 0 : null);
      const output: string[] = [];
      await readJournal(env.host, { units: [unit], lines: 500 }, (entries) => {
        for (const e of entries) if (e.origin === 'unit') output.push(e.message);
      }).catch(() => undefined);
      for (const line of output) env.emit({ type: 'output', line });
      if (exitCode === null || !(step.okExitCodes ?? [0]).includes(exitCode)) {
        throw new StepFailure(`\`${step.argv.join(' ')}\` (in ${unit}) ${exitCode === null ? `ended with result ${state.result}` : `exited with ${exitCode}`}`, exitCode, output.slice(-6).join('\n'), unit);
      }
      return { exitCode, data: { transientUnit: unit } };
    }
    if (Date.now() > deadline) {
      await env.host.run(['systemctl', 'stop', '--no-ask-password', '--', unit], { okExitCodes: [0, 1, 5] }).catch(() => undefined);
      throw new StepFailure(`\`${step.argv.join(' ')}\` (in ${unit}) did not finish within ${Math.round((step.timeoutMs ?? 600_000) / 1000)} s and was stopped`, null, '', unit);
    }
    if (env.signal?.aborted) throw new StepFailure('stopped waiting (the command goes on on the host; resume picks it up)');
    await new Promise((r) => setTimeout(r, 250));
  }
}

export const commandStep: StepKind<CommandStep> = {
  argv: (step) => step.argv,
  async preview(step, env) {
    const commands = step.detach ? [systemdRunArgv(step, env.op.id, env.index)] : [step.argv];
    return { commands, diff: null, undo: this.undoText(step), notes: step.detach ? ['runs in a transient unit on the host: a lost connection does not stop it'] : [] };
  },
  run(step, env, _before, resume) {
    return step.detach ? runDetached(step, env, resume) : runDirect(step, env);
  },
  /** After its end is journaled: the transient unit is removed (not before, so a resume can read it). */
  async afterRecorded(step, env) {
    if (step.detach) await removeTransient(env, transientUnit(env.op.id, env.index));
  },
  async undo(step, env) {
    if (step.undoArgv) await runDirect({ ...step, argv: step.undoArgv, detach: false }, env);
  },
  undoText(step) {
    return step.undoArgv ? `run ${step.undoArgv.join(' ')}` : 'a command cannot be undone unless the operation says how';
  },
};
