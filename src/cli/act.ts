// `opsdeck unit ACTION ENV|UNIT` and `opsdeck kill PID`: the console's actions, from a script
// or a shell. Same executor, same preview, same audit log. On a TTY they ask (a protected
// environment wants its name typed); `--yes` answers for scripts; with neither they refuse.
import { createInterface } from 'node:readline/promises';
import { ActionExecutor, daemonReloadAction, describeSteps, killPidAction, killUnitAction, requiredPhrase, unitAction, type Action, type Confirmation } from '../core/ops/actions.js';
import { UsageError } from '../core/text/errors.js';
import { auditLogFor, readonlyPolicy } from '../core/ops/policy.js';
import { quoteUntrusted } from '../core/text/sanitize.js';
import { resolveHostTarget, resolvePidTarget, resolveUnitTarget } from '../core/ops/target.js';
import { MAX_PID, parseNumberArg } from './args.js';
import { UNIT_VERB_ACTIONS, isUnitAction } from '../core/systemd/units.js';
import { loadContext, requireEnvironment, type CliContext, type GlobalOptions } from './context.js';
import { MARK, paint } from './format.js';

interface ActOptions extends GlobalOptions {
  yes?: boolean;
  readonly?: boolean;
  json?: boolean;
  grace?: string;
  signal?: string;
}

export async function unitCommand(verb: string, target: string, options: ActOptions): Promise<number> {
  if (verb !== 'daemon-reload' && verb !== 'kill' && !isUnitAction(verb)) {
    throw new UsageError(`unknown unit action ${quoteUntrusted(verb)}`, `one of: ${UNIT_VERB_ACTIONS.join(', ')}`);
  }
  const ctx = loadContext({ ...(options.config ? { config: options.config } : {}), ...(options.host ? { host: options.host } : {}) });
  try {
    // What the target is (its host, the environments it touches) is asked of the host itself.
    let action: Action;
    if (verb === 'daemon-reload') action = daemonReloadAction(await resolveHostTarget(ctx.config, ctx.hosts, target, ctx.file));
    else {
      const where = await resolveUnitTarget(ctx.config, ctx.hosts, target, ctx.file);
      action = verb === 'kill' ? killUnitAction(where.unit, where, options.signal ?? 'SIGTERM') : unitAction(verb, where.unit, where);
    }
    return await execute(ctx, action, options);
  } finally {
    await ctx.hosts.closeAll();
  }
}

export async function killCommand(pidText: string, options: ActOptions & { env?: string; force?: boolean }): Promise<number> {
  const pid = parseNumberArg(pidText, 'PID', { min: 2, max: MAX_PID });
  const graceSec = options.grace === undefined ? 5 : parseNumberArg(options.grace, '--grace', { min: 0, max: 600, whole: false, unit: 'seconds' });
  const ctx = loadContext({ ...(options.config ? { config: options.config } : {}), ...(options.host ? { host: options.host } : {}) });
  try {
    if (options.env) requireEnvironment(ctx.config, options.env, ctx.file);
    const where = await resolvePidTarget(ctx.config, ctx.hosts, pid, { env: options.env, force: options.force });
    return await execute(ctx, killPidAction(pid, where, graceSec * 1000), options);
  } finally {
    await ctx.hosts.closeAll();
  }
}

async function execute(ctx: CliContext, action: Action, options: ActOptions): Promise<number> {
  const executor = new ActionExecutor({
    hostFor: (name) => ctx.hosts.get(name),
    audit: auditLogFor(ctx.config),
    readonly: readonlyPolicy(ctx.config, Boolean(options.readonly)),
  });
  // Every refusal is recorded in the audit log, like every action that runs.
  if (executor.isReadonly(action)) throw executor.refuse(action, `read-only mode: ${action.title} is not allowed${action.environments.length > 0 ? ` (it touches ${action.environments.join(', ')})` : ''}`, 'drop --readonly (or readonly: true in the config) to act', null);
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  let confirmation: Confirmation;
  if (options.yes) confirmation = { kind: 'yes-flag' };
  else if (!interactive) {
    throw executor.refuse(action, `refusing to ${action.title} on host ${action.host} without confirmation: there is no terminal to ask on`, 'pass --yes to confirm from a script', null);
  } else {
    const answer = await ask(action, executor);
    if (answer === null) {
      const refusal = executor.refuse(action, `${action.title}: not confirmed at the prompt`, undefined, null);
      process.stderr.write(`cancelled: nothing was done${refusal.hint ? ` (${refusal.hint})` : ''}\n`);
      return 1;
    }
    confirmation = answer;
  }
  const result = await executor.run(action, confirmation);
  if (options.json) {
    process.stdout.write(JSON.stringify({ action: action.title, host: action.host, environment: action.environment, environments: action.environments, ...result }, null, 2) + '\n');
  } else {
    const mark = result.ok ? paint.good(MARK.ok) : paint.bad(MARK.critical);
    process.stdout.write(`${mark} ${result.summary}\n`);
    for (const step of result.steps) {
      if (step.skipped) process.stdout.write(paint.dim(`  skipped ${step.argv.join(' ')}: ${step.skipped}\n`));
      // The summary carries stderr's first line; show the rest, if any.
      else if (step.exitCode !== 0 && step.stderr.includes('\n')) process.stdout.write(`  ${step.stderr.split('\n').slice(1).join('\n  ')}\n`);
    }
    if (result.ok && !('impossible' in action.undo)) process.stdout.write(paint.dim(`  undo: ${action.undo.description}\n`));
    if (result.auditError) process.stderr.write(`${paint.bad('opsdeck:')} the audit log is missing this action's record: ${result.auditError}\n`);
  }
  return result.ok ? 0 : 1;
}

async function ask(action: Action, executor: ActionExecutor): Promise<Confirmation | null> {
  const wrapped = executor.wrapped(action);
  const lines = [
    `${paint.head(action.title)}  on host ${action.host}${action.environment ? `, environment ${action.protected ? paint.prod(` ${action.environment} `) : action.environment}` : ''}`,
    `  target: ${action.target}   risk: ${action.risk}`,
    ...(action.details ?? []).map((d) => `  ${d}`),
    ...(action.environments.length > 1 || (action.environments.length === 1 && action.environments[0] !== action.environment) ? [`  touches environments: ${action.environments.join(', ')}`] : []),
    '  will run:',
    ...describeSteps(action).map((c, i) => `    $ ${c}${wrapped[i] && wrapped[i]!.join(' ') !== action.steps[i]!.argv.join(' ') ? paint.dim(`\n      (as ${wrapped[i]!.join(' ')})`) : ''}`),
    `  undo: ${action.undo.description}`,
  ];
  process.stderr.write(lines.join('\n') + '\n');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const phrase = requiredPhrase(action);
    if (phrase) {
      const typed = await rl.question(`Type ${paint.bad(phrase)} to confirm: `);
      return typed.trim() === phrase ? { kind: 'typed-name', text: phrase } : null;
    }
    const answer = await rl.question('Proceed? [y/N] ');
    return /^y(es)?$/i.test(answer.trim()) ? { kind: 'prompt' } : null;
  } finally {
    rl.close();
  }
}
