// systemctl verbs and daemon-reload as steps. A (re)start records the unit's invocation before
// it runs, so a resume after a lost connection can tell whether it happened (systemd keeps
// working on a job whose client died) instead of doing it twice.
import { daemonReloadArgv, killUnitArgv, showUnits, unitActionArgv, type UnitAction } from '../../systemd/units.js';
import type { Step } from '../operation.js';
import { stepError, type StepEnv, type StepKind } from './kind.js';

type SystemctlStep = Extract<Step, { kind: 'systemctl' }>;
type ReloadStep = Extract<Step, { kind: 'daemon-reload' }>;

const OPPOSITE: Partial<Record<UnitAction, UnitAction>> = { start: 'stop', stop: 'start', enable: 'disable', disable: 'enable' };
const RUNNING = ['active', 'activating', 'reloading'];

function argvOf(step: SystemctlStep): string[] {
  return step.verb === 'kill' ? killUnitArgv(step.unit, step.signal ?? 'SIGTERM') : unitActionArgv(step.verb, step.unit);
}

async function runSystemctl(env: StepEnv, argv: string[], unit: string | null): Promise<void> {
  try {
    await env.host.run(argv, { timeoutMs: 90_000, ...(env.signal ? { signal: env.signal } : {}) });
  } catch (error) {
    throw stepError(error, unit);
  }
}

/**
 * Whether undoing a step changes anything, given the state recorded before it ran: a start of a
 * unit that was running already, an enable of an enabled one, is undone by doing nothing.
 */
export function undoNeeded(step: SystemctlStep, before: Record<string, unknown>): boolean {
  const active = typeof before.activeState === 'string' ? before.activeState : null;
  const fileState = typeof before.unitFileState === 'string' ? before.unitFileState : null;
  switch (step.verb) {
    case 'start':
      return active === null || !RUNNING.includes(active);
    case 'stop':
      return active === null || RUNNING.includes(active);
    case 'enable':
      return fileState === null || fileState !== 'enabled';
    case 'disable':
      return fileState === null || fileState === 'enabled';
    default:
      return false;
  }
}

export const systemctlStep: StepKind<SystemctlStep> = {
  argv: argvOf,
  undoesBegun: true,
  async preview(step) {
    return { commands: [argvOf(step)], diff: null, undo: this.undoText(step), notes: [] };
  },
  async before(step, env) {
    if (step.verb === 'kill' || step.verb === 'reset-failed' || step.verb === 'reload') return {};
    const unit = (await showUnits(env.host, [step.unit])).get(step.unit);
    return { invocationId: unit?.invocationId ?? '', activeState: unit?.activeState ?? '', unitFileState: unit?.unitFileState ?? '' };
  },
  async run(step, env, before, resume) {
    if (resume && before) {
      const now = (await showUnits(env.host, [step.unit])).get(step.unit);
      // systemd finished the job the lost connection was waiting for: do not do it twice.
      if ((step.verb === 'start' || step.verb === 'restart') && now?.invocationId && now.invocationId !== before.invocationId) return { exitCode: 0, data: { resumedDone: true } };
      if (step.verb === 'stop' && now && now.activeState !== 'active' && now.activeState !== 'deactivating') return { exitCode: 0, data: { resumedDone: true } };
    }
    await runSystemctl(env, argvOf(step), step.unit);
    return { exitCode: 0 };
  },
  async undo(step, env, data) {
    const opposite = step.verb === 'kill' ? undefined : OPPOSITE[step.verb];
    if (!opposite || !undoNeeded(step, data)) {
      if (opposite) env.emit({ type: 'output', line: `${step.unit} was ${step.verb === 'start' || step.verb === 'stop' ? String(data.activeState) : String(data.unitFileState)} before: nothing to undo` });
      return;
    }
    await runSystemctl(env, unitActionArgv(opposite, step.unit), step.unit);
  },
  undoText(step) {
    if (step.verb === 'kill') return 'a signal cannot be taken back; start the unit again if it stopped';
    const opposite = OPPOSITE[step.verb];
    if (opposite) return `${opposite} ${step.unit}, if it was not ${step.verb === 'start' ? 'running' : step.verb === 'stop' ? 'stopped' : `${step.verb}d`} before`;
    if (step.verb === 'restart' || step.verb === 'reload') return `${step.verb} again once the steps before it are undone`;
    return 'nothing to undo (it only clears the failed state)';
  },
};

export const daemonReloadStep: StepKind<ReloadStep> = {
  argv: () => daemonReloadArgv(),
  async preview(step) {
    return { commands: [daemonReloadArgv()], diff: null, undo: this.undoText(step), notes: [] };
  },
  async run(_step, env) {
    await runSystemctl(env, daemonReloadArgv(), null);
    return { exitCode: 0 };
  },
  undoText() {
    return 'daemon-reload again once the unit files are put back';
  },
};
