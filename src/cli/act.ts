// `opsdeck unit ACTION ENV|UNIT`, `opsdeck unit override ENV|UNIT --set K=V…` and `opsdeck kill
// PID`: operations from a script or a shell, with the console's runner, preview and audit log
// (see operate.ts for confirming, running and --dry-run).
import { GATE_SETTLE_MS, GATE_TIMEOUT_MS, daemonReloadOperation, dropInDirectory, killPidOperation, killUnitOperation, parseSetting, unitOperation, unitOverrideOperation } from '../core/ops/plans.js';
import { resolveHostTarget, resolvePidTarget, resolveUnitTarget } from '../core/ops/target.js';
import { UNIT_VERB_ACTIONS, isUnitAction } from '../core/systemd/units.js';
import { UsageError } from '../core/text/errors.js';
import { quoteUntrusted } from '../core/text/sanitize.js';
import { MAX_PID, parseNumberArg } from './args.js';
import { loadContext, requireEnvironment, type GlobalOptions } from './context.js';
import { operate, type OperateOptions } from './operate.js';

interface ActOptions extends GlobalOptions, OperateOptions {
  grace?: string;
  signal?: string;
}

export async function unitCommand(verb: string, target: string, options: ActOptions & OverrideOptions): Promise<number> {
  if (verb === 'override') return overrideCommand(target, options);
  if (options.set?.length || options.unset) throw new UsageError('--set and --unset are for `opsdeck unit override`');
  if (verb !== 'daemon-reload' && verb !== 'kill' && !isUnitAction(verb)) {
    throw new UsageError(`unknown unit action ${quoteUntrusted(verb)}`, `one of: ${UNIT_VERB_ACTIONS.join(', ')}, override`);
  }
  const ctx = loadContext(options);
  try {
    // What the target is (its host, the environments it touches) is asked of the host itself.
    if (verb === 'daemon-reload') return await operate(ctx, daemonReloadOperation(await resolveHostTarget(ctx.config, ctx.hosts, target, ctx.file)), options);
    const where = await resolveUnitTarget(ctx.config, ctx.hosts, target, ctx.file);
    const op = verb === 'kill' ? killUnitOperation(where.unit, where, options.signal ?? 'SIGTERM') : unitOperation(verb, where.unit, where);
    return await operate(ctx, op, options);
  } finally {
    await ctx.hosts.closeAll();
  }
}

export async function killCommand(pidText: string, options: ActOptions & { env?: string; force?: boolean }): Promise<number> {
  const pid = parseNumberArg(pidText, 'PID', { min: 2, max: MAX_PID });
  const graceSec = options.grace === undefined ? 5 : parseNumberArg(options.grace, '--grace', { min: 0, max: 600, whole: false, unit: 'seconds' });
  const ctx = loadContext(options);
  try {
    if (options.env) requireEnvironment(ctx.config, options.env, ctx.file);
    const where = await resolvePidTarget(ctx.config, ctx.hosts, pid, { env: options.env, force: options.force });
    return await operate(ctx, killPidOperation(pid, where, graceSec * 1000), options);
  } finally {
    await ctx.hosts.closeAll();
  }
}

export interface OverrideOptions extends ActOptions {
  set?: string[];
  unset?: boolean;
  settle?: string;
  gateTimeout?: string;
}

/** A drop-in where `systemctl edit` would put it, daemon-reload, restart, health gate; rolled back by itself if the gate fails. */
export async function overrideCommand(target: string, options: OverrideOptions): Promise<number> {
  const sets = options.set ?? [];
  if (options.unset && sets.length > 0) throw new UsageError('--set and --unset do not go together', '--unset removes opsdeck\'s override; --set writes one');
  if (!options.unset && sets.length === 0) throw new UsageError('nothing to override', 'give one or more --set Key=Value (e.g. --set ReadWritePaths=/srv/app/data), or --unset');
  const settleMs = options.settle === undefined ? GATE_SETTLE_MS : parseNumberArg(options.settle, '--settle', { min: 0, max: 600, whole: false, unit: 'seconds' }) * 1000;
  const gateTimeoutMs = options.gateTimeout === undefined ? GATE_TIMEOUT_MS : parseNumberArg(options.gateTimeout, '--gate-timeout', { min: 1, max: 3600, whole: false, unit: 'seconds' }) * 1000;
  const ctx = loadContext(options);
  try {
    const where = await resolveUnitTarget(ctx.config, ctx.hosts, target, ctx.file);
    const settings = options.unset ? null : sets.map((s) => parseSetting(s, where.unit));
    const env = where.environment ? ctx.config.environments[where.environment] : undefined;
    const op = unitOverrideOperation(where, {
      unit: where.unit,
      settings,
      dropInDir: await dropInDirectory(ctx.hosts.get(where.host)),
      probe: env?.health,
      settleMs,
      gateTimeoutMs: Math.max(gateTimeoutMs, settleMs + 5000),
    });
    return await operate(ctx, op, options);
  } finally {
    await ctx.hosts.closeAll();
  }
}
