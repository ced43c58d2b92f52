// Stopping a process by PID: TERM, then KILL after a grace period if it is still there. Only
// the process that was planned for: a PID is checked against its start time before every
// signal, so a PID the kernel has handed to another process meanwhile is left alone.
import { killPidArgv } from '../../systemd/units.js';
import { processStartTime } from '../../host/process-start.js';
import type { Step } from '../operation.js';
import { StepFailure, type StepEnv, type StepKind } from './kind.js';

type StopStep = Extract<Step, { kind: 'stop-pid' }>;

async function stillThere(env: StepEnv, step: StopStep): Promise<boolean> {
  return (await processStartTime(env.host, step.pid)) === step.startTime;
}

async function waitGone(env: StepEnv, step: StopStep, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (!(await stillThere(env, step))) return true;
    if (Date.now() >= deadline || env.signal?.aborted) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function signal(env: StepEnv, step: StopStep, name: 'TERM' | 'KILL'): Promise<void> {
  const { exitCode, stderr } = await env.host.run(killPidArgv(step.pid, name), { okExitCodes: [0, 1] });
  if (exitCode !== 0 && (await stillThere(env, step))) throw new StepFailure(`cannot send ${name} to PID ${step.pid}: ${stderr.trim()}`, exitCode, stderr);
}

export const stopPidStep: StepKind<StopStep> = {
  argv: (step) => killPidArgv(step.pid, 'TERM'),
  async preview(step) {
    return {
      commands: [killPidArgv(step.pid, 'TERM'), killPidArgv(step.pid, 'KILL')],
      diff: null,
      undo: this.undoText(step),
      notes: [`KILL only if PID ${step.pid} is still running ${Math.round(step.graceMs / 1000)} s after TERM; nothing at all if the PID is no longer the process planned for`],
    };
  },
  async run(step, env) {
    if (!(await stillThere(env, step))) return { exitCode: 0, data: { note: `PID ${step.pid} was already gone` } };
    await signal(env, step, 'TERM');
    if (await waitGone(env, step, step.graceMs)) {
      env.emit({ type: 'output', line: `PID ${step.pid} exited after TERM: no KILL needed` });
      return { exitCode: 0, data: { signal: 'TERM' } };
    }
    if (env.signal?.aborted) throw new StepFailure(`stopped waiting for PID ${step.pid} to exit`);
    env.emit({ type: 'output', line: `PID ${step.pid} still running after ${Math.round(step.graceMs / 1000)} s: KILL` });
    await signal(env, step, 'KILL');
    if (await waitGone(env, step, 5000)) return { exitCode: 0, data: { signal: 'KILL' } };
    throw new StepFailure(`PID ${step.pid} is still running after KILL (stuck in the kernel?)`);
  },
  undoText() {
    return 'a stopped process cannot be brought back as it was; start its service';
  },
};
