// Stopping a process by PID: TERM, then KILL after a grace period if it is still there. Only
// the process that was planned for: a PID is checked against its start time before every
// signal, so a PID the kernel has handed to another process meanwhile is left alone.
// Marked `restart` (an adoption), it records how the process was started before stopping it, and
// its undo starts it again from that record (relaunch.ts) and waits until its port is served.
import { killPidArgv, showUnits } from '../../systemd/units.js';
import { processStartTime } from '../../host/process-start.js';
import { writeFileAtomic } from '../../host/files.js';
import { listListeners } from '../../systemd/listeners.js';
import type { Step } from '../operation.js';
import { backupPath } from '../state.js';
import { environmentFile, launchFromData, launchRecord, readLaunch, relaunchArgv } from '../relaunch.js';
import { stepError, StepFailure, type StepEnv, type StepKind } from './kind.js';

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

/** The recorded environment's file on the host: in the operation's own directory (root-only), never in a journal line. */
const envFileOf = (env: StepEnv) => backupPath(env.op.id, env.index);

/** Until something listens on the port again (the transient unit failing ends the wait at once). */
async function waitServed(env: StepEnv, step: StopStep & { restart: NonNullable<StopStep['restart']> }): Promise<number | null> {
  const { unit, port, waitMs } = step.restart;
  const deadline = Date.now() + waitMs;
  for (;;) {
    const holder = (await listListeners(env.host)).find((l) => l.port === port);
    if (holder) return holder.pid;
    const state = (await showUnits(env.host, [unit])).get(unit);
    if (state && (state.activeState === 'failed' || (state.activeState === 'inactive' && state.loadState !== 'not-found'))) {
      throw new StepFailure(`${unit} ended (${state.activeState}, result ${state.result || '-'}) before port ${port} was served: see journalctl -u ${unit}`, null, '', unit);
    }
    if (Date.now() >= deadline) throw new StepFailure(`port ${port} was not served within ${Math.round(waitMs / 1000)} s of starting ${unit}: see journalctl -u ${unit}`, null, '', unit);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export const stopPidStep: StepKind<StopStep> = {
  argv: (step) => killPidArgv(step.pid, 'TERM'),
  async preview(step, env) {
    const notes = [`KILL only if PID ${step.pid} is still running ${Math.round(step.graceMs / 1000)} s after TERM; nothing at all if the PID is no longer the process planned for`];
    if (step.restart) {
      notes.push(
        `first recorded: its command line (/proc/${step.pid}/cmdline), cwd, user, group, and environment (/proc/${step.pid}/environ: its values only in ${backupPath(env.op.id, env.index)} on host ${step.host}, mode 0600, never shown)`,
        `undo: systemd-run --unit=${step.restart.unit} --property=WorkingDirectory=CWD --property=EnvironmentFile=${backupPath(env.op.id, env.index)} --uid=UID --gid=GID -- ARGV, then wait until port ${step.restart.port} is served`,
      );
    }
    return { commands: [killPidArgv(step.pid, 'TERM'), killPidArgv(step.pid, 'KILL')], diff: null, undo: this.undoText(step), notes };
  },
  async before(step, env) {
    if (!step.restart) return {};
    const launch = await readLaunch(env.host, step.pid);
    if (!launch || !(await stillThere(env, step))) return { gone: true };
    const { content, skipped } = environmentFile(launch.environ);
    const file = envFileOf(env);
    try {
      await writeFileAtomic(env.host, file, Buffer.from(content, 'latin1'), 0o600);
    } catch (error) {
      throw stepError(error);
    }
    env.emit({ type: 'output', line: `recorded PID ${step.pid}: ${launch.argv.length} arguments, cwd ${launch.cwd}, uid ${launch.uid} gid ${launch.gid}, environment of ${launch.environ.length} variables (their values kept on the host only)` });
    if (skipped.length > 0) env.emit({ type: 'output', line: `not kept (names systemd refuses): ${skipped.join(' ')}` });
    return launchRecord(launch, file) as unknown as Record<string, unknown>;
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
  async undo(step, env, data) {
    if (!step.restart) return;
    // Cut off before the TERM: it is still running, nothing to start.
    if (await stillThere(env, step)) {
      env.emit({ type: 'output', line: `PID ${step.pid} is still running: nothing to start again` });
      return;
    }
    const launch = launchFromData(data);
    if (!launch) throw new StepFailure(`how PID ${step.pid} was started was not recorded before it was stopped: start it again by hand (${step.command})`);
    const unit = step.restart.unit;
    // A rollback cut off after starting it (then run again): not twice.
    const now = (await showUnits(env.host, [unit])).get(unit);
    if (!now || !['active', 'activating'].includes(now.activeState)) {
      const file = typeof data.environmentFile === 'string' ? envFileOf(env) : null;
      try {
        await env.host.run(relaunchArgv(launch, unit, file), { timeoutMs: 30_000 });
      } catch (error) {
        throw stepError(error, unit);
      }
    }
    const pid = await waitServed(env, step as StopStep & { restart: NonNullable<StopStep['restart']> });
    env.emit({ type: 'output', line: `port ${step.restart.port} is served again${pid !== null ? ` by PID ${pid}` : ''} (${unit})` });
  },
  undoText(step) {
    if (step.restart) return `start it again from its recorded command line, cwd, user and environment, detached from opsdeck in the transient unit ${step.restart.unit} (systemd-run), and wait until port ${step.restart.port} is served again (at most ${Math.round(step.restart.waitMs / 1000)} s)`;
    return 'a stopped process cannot be brought back as it was; start its service';
  },
};
