// The lab transport: commands run inside the embedded lab, through nsenter into its
// systemd's mount, PID and cgroup namespaces.
import { CommandError, trimStderr } from '../text/errors.js';
import { BaseHost, firstLine } from './host.js';
import { labProcessAlive, readLabState } from './lab-state.js';

/** Runs commands inside the embedded lab: `nsenter` into its systemd's mount, PID and cgroup namespaces. */
export class LabHost extends BaseHost {
  private pid: number | undefined;
  constructor(
    name: string,
    readonly labDir: string,
  ) {
    super(name, 'lab');
  }

  private labPid(): number {
    if (this.pid !== undefined && labProcessAlive(this.pid, this.labDir)) return this.pid;
    const state = readLabState(this.labDir);
    if (!state || !labProcessAlive(state.pid, this.labDir)) {
      throw new CommandError({
        kind: 'lab',
        host: this.name,
        argv: [],
        message: `the lab at ${this.labDir} is not running`,
        hint: `start it with \`opsdeck lab up --dir ${this.labDir}\``,
      });
    }
    this.pid = state.pid;
    return state.pid;
  }

  wrap(argv: readonly string[]): string[] {
    return ['nsenter', '-t', String(this.labPid()), '-m', '-p', '-C', '--', ...argv];
  }

  protected override transportFailure(argv: readonly string[], exitCode: number, stderr: string): CommandError | undefined {
    if (/^nsenter: /m.test(stderr) && exitCode !== 0) {
      return new CommandError({
        kind: 'lab',
        host: this.name,
        argv,
        exitCode,
        stderr: trimStderr(stderr),
        message: `could not enter the lab at ${this.labDir}: ${firstLine(trimStderr(stderr))}`,
        hint: `check \`opsdeck lab status --dir ${this.labDir}\``,
      });
    }
    return undefined;
  }
}
