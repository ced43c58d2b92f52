// `opsdeck lab up|down|status`: the embedded lab.
import { parseNumberArg } from './args.js';
import { DEFAULT_LAB_DIR } from '../core/host/lab-state.js';
import { PORT_BASE_RANGE, labDown, labStatus, labUp } from '../lab/lab.js';
import { MARK, paint, printJson } from './format.js';
import { table } from './table.js';
import { statusCommand } from './status.js';

interface LabOptions {
  dir?: string;
  open?: boolean;
  portBase?: string;
  json?: boolean;
}

export async function labUpCommand(options: LabOptions): Promise<number> {
  const progress = options.json ? undefined : (line: string) => process.stderr.write(paint.dim(`· ${line}\n`));
  const result = await labUp({
    ...(options.dir ? { dir: options.dir } : {}),
    ...(options.portBase ? { portBase: parseNumberArg(options.portBase, '--port-base', PORT_BASE_RANGE) } : {}),
    ...(progress ? { progress } : {}),
  });
  const { state } = result;
  if (options.json) {
    process.stdout.write(JSON.stringify({ config: state.config, pid: state.pid, ports: state.ports, dir: state.dir, alreadyRunning: result.alreadyRunning, warnings: result.warnings }) + '\n');
    return 0;
  }
  for (const warning of result.warnings) process.stderr.write(paint.warn(`${MARK.warning} ${warning}\n`));
  process.stdout.write(
    [
      result.alreadyRunning ? `The lab in ${state.dir} is already running (systemd PID ${state.pid}).` : `The lab is up in ${state.dir} (systemd PID ${state.pid}).`,
      `  production  http://127.0.0.1:${state.ports.production}  (incident: crash-looping unit, hand-started V1 holds the port)`,
      `  development http://127.0.0.1:${state.ports.development}  (V2, healthy)`,
      `  ssh         root@127.0.0.1 -p ${state.ports.ssh}  (host lab-ssh in the config)`,
      `Try: opsdeck status --config ${state.config}`,
      `Stop: opsdeck lab down${state.dir === DEFAULT_LAB_DIR ? '' : ` --dir ${state.dir}`}`,
      state.config,
    ].join('\n') + '\n',
  );
  if (options.open) {
    process.stdout.write('\n');
    return openOn(state.config);
  }
  return 0;
}

/** What `lab up --open` shows: the console on the lab's config (status when not on a terminal). */
async function openOn(config: string): Promise<number> {
  if (process.stdin.isTTY && process.stdout.isTTY) return (await import('./console.js')).consoleCommand({ config });
  return statusCommand(undefined, { config });
}

export async function labDownCommand(options: LabOptions): Promise<number> {
  const result = await labDown(options.dir ? { dir: options.dir } : {});
  if (options.json) process.stdout.write(JSON.stringify(result) + '\n');
  else process.stdout.write(result.wasRunning ? `The lab in ${result.dir} is stopped (killed systemd PID ${result.pid} and every process in the lab).\n` : `The lab in ${result.dir} was not running.\n`);
  return 0;
}

export async function labStatusCommand(options: LabOptions): Promise<number> {
  const status = await labStatus(options.dir ? { dir: options.dir } : {});
  if (options.json) {
    printJson(status);
    return status.running ? 0 : 1;
  }
  if (!status.running) {
    process.stdout.write(`The lab in ${status.dir} is not running. Start it: opsdeck lab up${status.dir === DEFAULT_LAB_DIR ? '' : ` --dir ${status.dir}`}\n`);
    return 1;
  }
  process.stdout.write(`The lab in ${status.dir} is running: systemd PID ${status.pid}, system ${status.systemState}, since ${status.startedAt}\n`);
  process.stdout.write(table(['UNIT', 'ACTIVE', 'SUB'], status.units.map((u) => [u.name, u.activeState, u.subState])) + '\n');
  process.stdout.write(`${status.config}\n`);
  return 0;
}
