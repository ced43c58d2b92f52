// `opsdeck status [ENV] [--json]`: every environment at a glance, and what is wrong.
import { collectStatus, type EnvironmentStatus, type StatusReport } from '../core/status/collect.js';
import { loadContext, requireEnvironment, type GlobalOptions } from './context.js';
import { formatAge } from '../core/text/humanize.js';
import { MARK, paint, printJson } from './format.js';
import { table } from './table.js';

export async function statusCommand(envName: string | undefined, options: GlobalOptions & { json?: boolean }): Promise<number> {
  const ctx = loadContext(options);
  if (envName) requireEnvironment(ctx.config, envName, ctx.file);
  try {
    const report = await collectStatus(ctx.config, ctx.hosts, envName ? [envName] : undefined);
    // --json leaves the failing unit's journal lines out: the problems say what they show, and a
    // script's stored status should not keep an application's log lines.
    if (options.json) printJson({ config: ctx.file, ...report, environments: report.environments.map(({ journal: _journal, ...env }) => env) });
    else process.stdout.write(renderStatus(report, ctx.file) + '\n');
    const bad = report.environments.some((e) => e.problems.length > 0) || report.hosts.some((h) => !h.reachable);
    return bad ? 1 : 0;
  } finally {
    await ctx.hosts.closeAll();
  }
}

function unitState(env: EnvironmentStatus): string {
  const unit = env.unit;
  if (!unit) return paint.dim('-');
  const text = `${unit.activeState}/${unit.subState}`;
  if (unit.crashLooping) return paint.bad(`${text} CRASH-LOOP`);
  if (unit.activeState === 'active') return paint.good(text);
  return paint.bad(text);
}

function restarts(env: EnvironmentStatus): string {
  const n = env.unit?.nRestarts;
  if (n === undefined) return '-';
  return n > 0 ? paint.bad(String(n)) : String(n);
}

function health(env: EnvironmentStatus): string {
  const h = env.health;
  if (!h) return paint.dim('-');
  if (h.httpStatus === null) return paint.bad(`${MARK.critical} ${h.failures[0] ?? 'down'}`);
  const text = `${h.ok ? MARK.ok : MARK.critical} ${h.httpStatus} ${h.latencyMs ?? '?'}ms`;
  return h.ok ? paint.good(text) : paint.bad(text);
}

function ports(env: EnvironmentStatus): string {
  if (env.listeners.length === 0) return paint.dim('-');
  return env.listeners
    .map((l) => {
      if (l.unit) return `${l.port} ${paint.dim(l.unit)}`;
      if (l.pid === null) return `${l.port} ${paint.warn('owner hidden (not root?)')}`;
      return `${l.port} ${paint.bad(`PID ${l.pid} ${MARK.critical} no unit`)}`;
    })
    .join(', ');
}

function backupAge(env: EnvironmentStatus): string {
  if (!env.backups) return paint.dim('-');
  if (env.backups.error) return paint.warn(`${MARK.warning} error`);
  const age = env.backups.newest ? formatAge(env.backups.newestAgeSec) : 'none';
  return env.problems.some((p) => p.code.startsWith('backup-')) ? paint.warn(`${MARK.warning} ${age}`) : age;
}

export function renderStatus(report: StatusReport, configFile: string | null): string {
  const out: string[] = [];
  out.push(paint.dim(`config ${configFile ?? '(none: local host, no environments)'} · ${new Date(report.collectedAt).toLocaleString()} · ${report.durationMs} ms`));
  for (const h of report.hosts) if (!h.reachable) out.push(paint.bad(`${MARK.critical} host ${h.name} (${h.transport}): ${h.error}`));
  if (report.environments.length === 0) {
    out.push('No environments configured. Define them in opsdeck.yaml (see the README), or try the lab: opsdeck lab up');
    return out.join('\n');
  }
  const rows = report.environments.map((env) => [
    env.protected ? `${env.name} ${paint.prod('PROD')}` : env.name,
    env.host,
    env.unit?.name ?? '-',
    unitState(env),
    restarts(env),
    health(env),
    env.health?.version ?? '-',
    env.health?.toolsCount === null || env.health?.toolsCount === undefined ? '-' : String(env.health.toolsCount),
    ports(env),
    backupAge(env),
  ]);
  out.push('', table(['ENVIRONMENT', 'HOST', 'UNIT', 'STATE', 'RESTARTS', 'HEALTH', 'VERSION', 'TOOLS', 'PORTS', 'BACKUP'], rows));
  const problems = report.environments.flatMap((env) => env.problems.map((p) => ({ env: env.name, ...p })));
  out.push('');
  if (problems.length === 0) {
    out.push(paint.good(`${MARK.ok} no problems found`));
  } else {
    out.push(paint.head(`Problems (${problems.length})`));
    for (const p of problems) {
      const mark = p.severity === 'critical' ? paint.bad(MARK.critical) : paint.warn(MARK.warning);
      out.push(`  ${mark} ${p.env}: ${p.message}`);
    }
  }
  return out.join('\n');
}
