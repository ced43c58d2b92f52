// The opsdeck command line: one verb per file, all sharing the config/host context.
// Exit codes: 0 all well, 1 problems found or a command failed, 2 usage or config error.
import { Command, CommanderError } from 'commander';
import { installSignalHandlers, runCleanups } from './lifecycle.js';
import { OpsdeckError, exitCodeFor } from '../core/text/errors.js';
import { DEFAULT_LAB_DIR, DEFAULT_PORT_BASE } from '../core/host/lab-state.js';
import { UNIT_VERB_ACTIONS } from '../core/systemd/units.js';
import { paint } from './format.js';
import { sanitizeBlock } from '../core/text/sanitize.js';

declare const OPSDECK_VERSION: string | undefined;
const VERSION = typeof OPSDECK_VERSION === 'string' ? OPSDECK_VERSION : '0.0.0-dev';

type Action = (...args: never[]) => Promise<number>;

/**
 * A verb's action, its code loaded only when it runs: `opsdeck status` does not start React,
 * and the console does not wait for the CLI's formatting. commander passes (args..., options,
 * command); global options are merged in.
 */
function run(load: () => Promise<Action>) {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const options = { ...command.optsWithGlobals() };
    const positional = args.slice(0, -2);
    const action = (await load()) as (...a: unknown[]) => Promise<number>;
    process.exitCode = await action(...positional, options);
  };
}

export function buildProgram(): Command {
  const program = new Command('opsdeck')
    .description('A terminal operations console for services under systemd, locally or over SSH.')
    .version(VERSION, '-V, --version')
    .option('-c, --config <file>', 'config file (default: $OPSDECK_CONFIG, ./opsdeck.yaml, ~/.config/opsdeck/opsdeck.yaml, /etc/opsdeck/opsdeck.yaml)')
    .option('--host <name>', 'run against this host instead of each environment\'s own (e.g. lab-ssh)')
    .option('--readonly', 'hide and refuse every mutating action')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.configureOutput({ outputError: (text, write) => write(paint.bad(text)) });

  // Every command, sub-commands too, answers -V with the version.
  const subcommand = (parent: Command, name: string, description: string) => parent.command(name).description(description).version(VERSION, '-V, --version');
  const verb = (name: string, description: string) => subcommand(program, name, description);

  verb('status', 'environments at a glance: unit state, restarts, health, ports and who holds them, backups')
    .argument('[env]', 'only this environment')
    .option('--json', 'machine-readable output')
    .action(run(async () => (await import('./status.js')).statusCommand as Action));

  verb('doctor', 'what is wrong and why: findings with their evidence and fixes (the same rules as status\'s problems)')
    .argument('[env]', 'only this environment')
    .option('--fix <id>', 'apply the fix of this finding (e.g. production/sandbox-path): previewed, confirmed, audited')
    .option('--dry-run', 'with --fix: print the plan (steps, commands, diffs, undo) and do nothing')
    .option('-y, --yes', 'with --fix: confirm without asking (for scripts)')
    .option('--json', 'machine-readable findings (with --fix: plan, events and result)')
    .action(run(async () => (await import('./doctor.js')).doctorCommand as Action));

  verb('units', 'every unit systemd knows on the environments\' hosts')
    .option('--type <types>', 'unit types, comma separated', 'service')
    .option('--json', 'machine-readable output')
    .action(run(async () => (await import('./units.js')).unitsCommand as Action));

  verb('health', 'probe an environment\'s health endpoint (and JSON-RPC tools/list)')
    .argument('<env>', 'environment name')
    .option('--json', 'machine-readable output')
    .action(run(async () => (await import('./health.js')).healthCommand as Action));

  verb('backups', 'the archives in an environment\'s backups dir, newest first (same as `backup list`)')
    .argument('<env>', 'environment name')
    .option('--json', 'machine-readable output')
    .action(run(async () => (await import('./backups.js')).backupListCommand as Action));

  const backup = verb('backup', 'backups of an environment\'s live data: create, list, verify, prune, restore, schedule');
  const backupVerb = (name: string, description: string, command: keyof typeof import('./backups.js'), changes: boolean) => {
    const cmd = subcommand(backup, name, description).argument('<env>', 'environment name');
    if (changes) cmd.option('--dry-run', 'print the plan (steps, exact commands, undo) and do nothing').option('-y, --yes', 'confirm without asking (for scripts and timers)');
    return cmd.option('--json', 'machine-readable output').action(run(async () => (await import('./backups.js'))[command] as Action));
  };
  backupVerb('create', 'archive the environment\'s data (source sanity checked first) with a checksum and a manifest', 'backupCreateCommand', true).option('--force', 'archive the source even though source sanity says it is not what the service writes');
  backupVerb('list', 'the archives, verified or not, sizes, alarms; the source-sanity verdict; the schedule', 'backupListCommand', false);
  subcommand(backup, 'verify', 'checksum, a test extraction, and the content against the manifest')
    .argument('<env>', 'environment name')
    .argument('[archive]', 'archive name (default: the newest)')
    .option('--json', 'machine-readable output')
    .action(run(async () => (await import('./backups.js')).backupVerifyCommand as Action));
  backupVerb('prune', 'remove the archives the retention policy lets go (never the newest verified)', 'backupPruneCommand', true).option('--force', 'prune even though the newest archive looks suspicious');
  subcommand(backup, 'restore', 'restore an archive (verified first; the current data archived first; swapped in by rename)')
    .argument('<env>', 'environment name')
    .argument('<archive>', 'archive name')
    .option('--to <dir>', 'restore into this directory instead of the environment\'s data dir')
    .option('--stop', 'stop the environment\'s unit around the swap, start it after, then the health gate')
    .option('--dry-run', 'print the plan (steps, exact commands, undo) and do nothing')
    .option('-y, --yes', 'confirm without asking (for scripts)')
    .option('--json', 'machine-readable output')
    .action(run(async () => (await import('./backups.js')).backupRestoreCommand as Action));
  backupVerb('schedule', 'install a systemd timer on the host that runs `opsdeck backup create` and `prune`', 'backupScheduleCommand', true);
  backupVerb('unschedule', 'remove the scheduled backup\'s timer and service', 'backupUnscheduleCommand', true);

  const collect = (value: string, previous: string[] = []) => [...previous, value];
  verb('logs', 'the journal of an environment (its unit and related units, merged in time order) or of a unit')
    .argument('<target>', 'an environment, or a unit name (on --host, else local)')
    .option('-f, --follow', 'keep following; survives journalctl or the connection dying (resumes, nothing lost)')
    .option('-n, --lines <n>', 'the newest N entries (that match), 0 to 1000000, or "all" (default: all; 10 with --follow)')
    .option('--since <time>', 'e.g. "1 hour ago", "30 min ago", today, yesterday, "2026-11-24 09:00", ISO time')
    .option('--until <time>', 'same forms as --since')
    .option('-p, --priority <p>', 'this priority and worse: emerg, alert, crit, err, warning, notice, info, debug, 0-7, or a range err..warning')
    .option('-g, --grep <re>', 'only messages matching this regular expression (RE2 syntax; all lower case: case-insensitive); repeatable', collect)
    .option('--exclude <re>', 'drop messages matching this regular expression (RE2 syntax); repeatable', collect)
    .option('--counts', 'count errors and warnings since --since (default today), per interval')
    .option('--json', 'JSON lines')
    .action(run(async () => (await import('./logs.js')).logsCommand as Action));

  verb('unit', `act on a unit: ${UNIT_VERB_ACTIONS.join(', ')}, override (an operation: previewed, confirmed, locked, journaled on the host, audited)`)
    .argument('<action>', `${UNIT_VERB_ACTIONS.join(' | ')} | override`)
    .argument('<target>', 'an environment (its unit) or a unit name (on --host, else the environment that has it, else local)')
    .option('--signal <name>', 'with kill: the signal for every process of the unit', 'SIGTERM')
    .option('--set <key=value>', 'with override: a setting for the drop-in (Key=Value or Section.Key=Value); repeatable', collect)
    .option('--unset', 'with override: remove opsdeck\'s drop-in')
    .option('--settle <seconds>', 'with override: how long the service must stay healthy after the restart', '5')
    .option('--gate-timeout <seconds>', 'with override: give up (and roll back) after this long', '60')
    .option('--dry-run', 'print the plan (steps, commands, diffs, undo) and do nothing')
    .option('-y, --yes', 'confirm without asking (for scripts)')
    .option('--json', 'machine-readable plan, events and result')
    .action(run(async () => (await import('./act.js')).unitCommand as Action));

  verb('kill', 'kill a process: TERM, then KILL after a grace period (previewed, confirmed, audited)')
    .argument('<pid>', 'process ID on the host')
    .option('--env <name>', 'the environment it belongs to (its host and protection apply)')
    .option('--grace <seconds>', 'wait this long after TERM before KILL', '5')
    .option('--force', 'kill it even though it is not part of --env\'s units or ports')
    .option('--dry-run', 'print the plan and do nothing')
    .option('-y, --yes', 'confirm without asking (for scripts)')
    .option('--json', 'machine-readable result')
    .action(run(async () => (await import('./act.js')).killCommand as Action));

  const ops = verb('ops', 'operations journaled on the hosts: list (open ones, and those of the last day), show, resume, roll back');
  ops.argument('[env]', 'only this environment\'s')
    .option('--all', 'every operation, however old')
    .option('--json', 'machine-readable output')
    .action(run(async () => (await import('./ops.js')).opsListCommand as Action));
  subcommand(ops, 'show', 'one operation: its steps, where it stands, its journal')
    .argument('<id>', 'operation id')
    .option('--json', 'machine-readable output')
    .action(run(async () => (await import('./ops.js')).opsShowCommand as Action));
  // resume and rollback: the same shape, only what they do differs.
  const opsRun = (name: string, description: string, dryRun: string, command: 'opsResumeCommand' | 'opsRollbackCommand') =>
    subcommand(ops, name, description)
      .argument('<id>', 'operation id')
      .option('--dry-run', dryRun)
      .option('-y, --yes', 'confirm without asking (for scripts)')
      .option('--json', 'JSON lines of events')
      .action(run(async () => (await import('./ops.js'))[command] as Action));
  opsRun('resume', 'continue an interrupted operation from its first unfinished step (preflight checked again)', 'say what would run, do nothing', 'opsResumeCommand');
  opsRun('rollback', 'undo the finished steps of an operation, in reverse', 'say what would be undone, do nothing', 'opsRollbackCommand');

  verb('lock', 'who holds an environment\'s lock; --break a stale one')
    .argument('<env>', 'environment name')
    .option('--break', 'remove a stale lock (its owner is dead), after confirmation')
    .option('--dry-run', 'with --break: say what would be removed, do nothing')
    .option('-y, --yes', 'confirm without asking (for scripts)')
    .option('--json', 'machine-readable output')
    .action(run(async () => (await import('./ops.js')).lockCommand as Action));

  const lab = verb('lab', 'the embedded lab: a real systemd reproducing the production incident');
  const labDir = '--dir <dir>';
  subcommand(lab, 'up', 'boot the lab (idempotent); prints the config path last')
    .option(labDir, 'lab directory', DEFAULT_LAB_DIR)
    .option('--port-base <n>', 'first port (production; development is +2, ssh +10)', String(DEFAULT_PORT_BASE))
    .option('--open', 'then open opsdeck on the lab')
    .option('--json', 'machine-readable output')
    .action(run(async () => (await import('./lab.js')).labUpCommand as Action));
  subcommand(lab, 'down', 'stop the lab: kill its systemd by PID, and with it every lab process')
    .option(labDir, 'lab directory', DEFAULT_LAB_DIR)
    .option('--json', 'machine-readable output')
    .action(run(async () => (await import('./lab.js')).labDownCommand as Action));
  subcommand(lab, 'status', 'is the lab running, and its units')
    .option(labDir, 'lab directory', DEFAULT_LAB_DIR)
    .option('--json', 'machine-readable output')
    .action(run(async () => (await import('./lab.js')).labStatusCommand as Action));

  program.action(run(async () => (await import('./console.js')).consoleCommand as Action));
  return program;
}

function reportError(error: unknown): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
    return 2;
  }
  if (error instanceof OpsdeckError) {
    // The one way out for every error: whatever text of the system or the user it quotes, it
    // reaches the terminal sanitized.
    process.stderr.write(`${paint.bad('opsdeck:')} ${sanitizeBlock(error.message)}\n`);
    if (error.hint) process.stderr.write(`  ${paint.dim('hint:')} ${sanitizeBlock(error.hint)}\n`);
    return exitCodeFor(error);
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`${paint.bad('opsdeck: unexpected error:')} ${sanitizeBlock(message)}\n`);
  return 1;
}

export async function main(argv: string[]): Promise<void> {
  installSignalHandlers();
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    process.exitCode = reportError(error);
  } finally {
    runCleanups();
  }
}
