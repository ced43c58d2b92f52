// `opsdeck ops [ENV]`, `ops show ID`, `ops resume ID`, `ops rollback ID` and `opsdeck lock ENV
// [--break]`: operations as the hosts' journals have them, picked up after Ctrl+C, a crash,
// `kill -9` or a dropped connection; locks and their owners.
import type { Host } from '../core/host/host.js';
import { breakLock, describeHolder, lockName, lockPath, readLocks } from '../core/ops/lock.js';
import { currentUser } from '../core/ops/audit.js';
import { isOperationId } from '../core/ops/operation.js';
import { auditLogFor } from '../core/ops/policy.js';
import { listOperations, type Catalog } from '../core/ops/catalog.js';
import { OPS_DIR, RESUMABLE, progressOf, type StoredOperation } from '../core/ops/state.js';
import { storedActionLines } from '../core/ops/preview.js';
import { hostResolver, operationHostNames } from '../core/ops/target.js';
import { UsageError } from '../core/text/errors.js';
import { formatAge, secondsSince } from '../core/text/humanize.js';
import { quoteUntrusted, sanitizeLine } from '../core/text/sanitize.js';
import { loadContext, requireEnvironment, type CliContext, type GlobalOptions } from './context.js';
import { MARK, paint, printJson } from './format.js';
import { ask, operateStored, printLines, type OperateOptions } from './operate.js';
import { table } from './table.js';

interface OpsOptions extends GlobalOptions, OperateOptions {
  all?: boolean;
}

/** The hosts operations may live on: an environment's, or every one opsdeck may act on (as --host reaches them). */
function opsHosts(ctx: CliContext, env?: string): Host[] {
  const names = env ? [hostResolver(ctx.config, ctx.hosts)(env)] : operationHostNames(ctx.config, ctx.hosts);
  return names.map((n) => ctx.hosts.get(n));
}

/** Every operation on those hosts (catalog.ts); a host that does not answer is said on stderr and the others are listed. */
async function allOperations(hosts: Host[], id?: string): Promise<Catalog> {
  const catalog = await listOperations(hosts, id ? { id } : {});
  for (const { host, error } of catalog.unreachable) process.stderr.write(`${paint.warn('opsdeck:')} cannot read the operations of host ${host.name}: ${sanitizeLine(error)}\n`);
  return catalog;
}

async function findOperation(ctx: CliContext, id: string): Promise<{ host: Host; stored: StoredOperation; alive: boolean }> {
  if (!isOperationId(id)) throw new UsageError(`invalid operation id ${quoteUntrusted(id)}`, 'ids look like 20261129-161502-production-3fa9 (see opsdeck ops)');
  const { found, unusable } = await allOperations(opsHosts(ctx), id);
  const bad = unusable[0];
  if (found.length === 0 && bad) throw new UsageError(`operation ${id} on host ${bad.host.name} cannot be used: ${bad.error}`, `look at it on the host: ${OPS_DIR}/${id}/plan.json`);
  if (found.length === 0) throw new UsageError(`no operation ${id} on the hosts of ${ctx.file ?? 'the config'}`, 'list them with: opsdeck ops --all');
  return found[0]!;
}

export async function opsListCommand(env: string | undefined, options: OpsOptions): Promise<number> {
  const ctx = loadContext(options);
  try {
    if (env) requireEnvironment(ctx.config, env, ctx.file);
    const { found: everything, unusable } = await allOperations(opsHosts(ctx, env));
    const rows = everything
      .filter(({ stored }) => !env || stored.plan.environments.includes(env) || stored.plan.environment === env)
      .map((o) => ({ ...o, progress: progressOf(o.stored, o.alive) }))
      .filter((o) => options.all || !['finished', 'rolled-back'].includes(o.progress.status) || secondsSince(o.stored.plan.createdAt) < 86_400)
      .sort((a, b) => b.stored.plan.id.localeCompare(a.stored.plan.id));
    const open = rows.filter((r) => ['interrupted', 'failed', 'rollback-interrupted', 'rollback-failed'].includes(r.progress.status));
    if (options.json) {
      process.stdout.write(
        JSON.stringify(
          [
            ...rows.map((r) => ({ id: r.stored.plan.id, host: r.host.name, ...r.progress, title: r.stored.plan.title, environment: r.stored.plan.environment, steps: r.stored.plan.steps.length, createdAt: r.stored.plan.createdAt, createdBy: r.stored.plan.createdBy })),
            ...unusable.map((u) => ({ id: u.id, host: u.host.name, status: 'unusable', reason: u.error })),
          ],
          null,
          2,
        ) + '\n',
      );
    } else if (rows.length === 0) {
      process.stdout.write(`no operations${env ? ` on ${env}` : ''}${options.all ? '' : ' in the last day that ended, and none open'} ${paint.dim('(--all lists every one)')}\n`);
    } else {
      const mark = (s: string) => (s === 'finished' ? paint.good(`${MARK.ok} ${s}`) : s === 'rolled-back' ? paint.dim(`↶ ${s}`) : s === 'running' || s === 'rolling-back' ? paint.warn(`${MARK.running} ${s}`) : paint.bad(`${MARK.critical} ${s.toUpperCase()}`));
      process.stdout.write(
        table(
          ['OPERATION', 'STATUS', 'ENV', 'HOST', 'STEPS', 'AGE', 'BY', 'WHAT'],
          rows.map((r) => [r.stored.plan.id, mark(r.progress.status), r.stored.plan.environment ?? '-', r.host.name, `${r.progress.done.length}/${r.stored.plan.steps.length}`, formatAge(secondsSince(r.stored.plan.createdAt)), sanitizeLine(`${r.stored.plan.createdBy.user}@${r.stored.plan.createdBy.from}`), sanitizeLine(r.stored.plan.title)]),
        ) + '\n',
      );
      for (const r of open) {
        const id = r.stored.plan.id;
        const next = RESUMABLE.includes(r.progress.status) ? `opsdeck ops resume ${id}, or: opsdeck ops rollback ${id}` : `opsdeck ops rollback ${id}`;
        process.stdout.write(paint.warn(`  ${id}: ${sanitizeLine(r.progress.reason ?? r.progress.status)} — ${next}\n`));
      }
    }
    if (!options.json) for (const u of unusable) process.stdout.write(paint.bad(`  ${MARK.critical} ${u.id} on host ${u.host.name} cannot be used: ${sanitizeLine(u.error)} (${OPS_DIR}/${u.id}/plan.json)\n`));
    return open.length > 0 || unusable.length > 0 ? 1 : 0;
  } finally {
    await ctx.hosts.closeAll();
  }
}

export async function opsShowCommand(id: string, options: OpsOptions): Promise<number> {
  const ctx = loadContext(options);
  try {
    const { host, stored, alive } = await findOperation(ctx, id);
    const progress = progressOf(stored, alive);
    if (options.json) {
      printJson({ host: host.name, ...progress, operation: stored.plan, events: stored.events });
      return 0;
    }
    const op = stored.plan;
    process.stdout.write(`${paint.head(sanitizeLine(op.title))}   ${op.id}\n`);
    process.stdout.write(`status ${progress.status}${progress.reason ? ` (${sanitizeLine(progress.reason)})` : ''} · host ${host.name} · environment ${op.environment ?? '-'} · by ${sanitizeLine(`${op.createdBy.user}@${op.createdBy.from}`)} at ${op.createdAt}\n`);
    op.steps.forEach((step, i) => {
      const state = progress.undone.includes(i) ? paint.dim('↶ undone') : progress.done.includes(i) ? paint.good(`${MARK.ok} done`) : progress.unfinished === i ? paint.bad(`${MARK.critical} cut off`) : paint.dim('· pending');
      process.stdout.write(`  ${state.padEnd(12)} ${i + 1}. ${sanitizeLine(step.title)}${step.host !== op.host ? ` (host ${step.host})` : ''}\n`);
    });
    process.stdout.write(paint.dim('journal:\n'));
    for (const e of stored.events) process.stdout.write(paint.dim(`  ${e.at} ${e.event}${'step' in e && e.step !== null ? ` ${e.step + 1}` : ''}${'error' in e && e.error ? `: ${sanitizeLine(e.error)}` : ''}${'reason' in e ? `: ${sanitizeLine(e.reason)}` : ''}\n`));
    if (stored.damaged > 0) process.stdout.write(paint.warn(`  ${stored.damaged} journal line(s) could not be read (cut off by a crash)\n`));
    return 0;
  } finally {
    await ctx.hosts.closeAll();
  }
}

export function opsResumeCommand(id: string, options: OpsOptions): Promise<number> {
  return resumeOrRollback(id, 'resume', options);
}

export function opsRollbackCommand(id: string, options: OpsOptions): Promise<number> {
  return resumeOrRollback(id, 'rollback', options);
}

async function resumeOrRollback(id: string, what: 'resume' | 'rollback', options: OpsOptions): Promise<number> {
  const ctx = loadContext(options);
  try {
    const { stored, alive } = await findOperation(ctx, id);
    const progress = progressOf(stored, alive);
    if (options.dryRun) {
      printLines(storedActionLines(stored, progress, what), process.stdout);
      process.stdout.write(paint.dim('dry run: nothing was done, nothing was written on any host\n'));
      return 0;
    }
    return await operateStored(ctx, stored, what, options);
  } finally {
    await ctx.hosts.closeAll();
  }
}

/** `opsdeck lock ENV [--break]`: who holds an environment's lock; break a stale one (confirmed). */
export async function lockCommand(env: string, options: GlobalOptions & { break?: boolean; yes?: boolean; json?: boolean; dryRun?: boolean }): Promise<number> {
  const ctx = loadContext(options);
  try {
    requireEnvironment(ctx.config, env, ctx.file);
    const host = ctx.hosts.get(hostResolver(ctx.config, ctx.hosts)(env));
    const lock = (await readLocks(host)).find((l) => l.name === lockName(env));
    if (options.json && !options.break) {
      printJson({ environment: env, host: host.name, lock: lock ?? null });
      return lock ? 1 : 0;
    }
    if (!lock) {
      process.stdout.write(`${paint.good(MARK.ok)} ${env} is not locked (host ${host.name})\n`);
      return 0;
    }
    process.stdout.write(`${lock.stale ? paint.warn(MARK.warning) : paint.bad(MARK.critical)} ${sanitizeLine(describeHolder(lock))}\n`);
    if (!options.break) return 1;
    if (!lock.stale) throw new UsageError(`the lock of ${env} is held by a live operation: it is not broken`, 'wait for it, or stop it where it runs (Ctrl+C there)');
    if (options.dryRun) {
      process.stdout.write(`would move ${lockPath(lock.name)} aside on host ${host.name}, check it is still this one, and remove it\n${paint.dim('dry run: nothing was done')}\n`);
      return 0;
    }
    // The break is recorded like any change: a log that cannot take it stops it here.
    const audit = auditLogFor(ctx.config);
    audit.ensureWritable();
    if (!options.yes) {
      if (!process.stdin.isTTY || !process.stdout.isTTY) throw new UsageError(`refusing to break the lock of ${env} without confirmation: there is no terminal to ask on`, 'pass --yes to confirm from a script');
      const typed = await ask(`Break it? Type ${paint.bad(env)} to confirm: `);
      if (typed.trim() !== env) {
        process.stderr.write('cancelled: the lock stays\n');
        return 1;
      }
    }
    await breakLock(host, lock);
    audit.append({
      time: new Date().toISOString(),
      user: currentUser(),
      host: host.name,
      environment: env,
      action: `break the lock of ${env}`,
      target: lock.owner ? `lock of operation ${lock.owner.op}` : `lock ${lock.name}`,
      argv: ['rm', '-f', '--', lockPath(lock.name)],
      wrappedArgv: [],
      exitCode: 0,
      durationMs: 0,
      outcome: 'ok',
      stderr: lock.staleReason ?? '',
      confirmedBy: options.yes ? '--yes' : 'typed-name',
      ...(lock.owner ? { operation: lock.owner.op } : {}),
    });
    process.stdout.write(`${paint.good(MARK.ok)} broke the lock of ${env}${lock.owner ? `; its operation ${lock.owner.op} is interrupted: opsdeck ops resume ${lock.owner.op}, or rollback` : ''}\n`);
    return 0;
  } finally {
    await ctx.hosts.closeAll();
  }
}
