// `opsdeck health ENV [--json]`: probe one environment's health endpoint (and tools/list).
import { UsageError } from '../core/text/errors.js';
import { probeHealth } from '../core/status/health.js';
import { loadContext, requireEnvironment, type GlobalOptions } from './context.js';
import { MARK, paint, printJson } from './format.js';

export async function healthCommand(envName: string, options: GlobalOptions & { json?: boolean }): Promise<number> {
  const ctx = loadContext(options);
  requireEnvironment(ctx.config, envName, ctx.file);
  const env = ctx.config.environments[envName]!;
  if (!env.health) throw new UsageError(`environment ${envName} has no health check`, `add health: { url: http://... } to it in ${ctx.file ?? 'opsdeck.yaml'}`);
  const host = ctx.hosts.get(env.host);
  try {
    const result = await probeHealth(host, env.health);
    if (options.json) {
      printJson({ environment: envName, host: host.name, ...result });
    } else {
      const head = result.ok ? paint.good(`${MARK.ok} ${envName} healthy`) : paint.bad(`${MARK.critical} ${envName} unhealthy`);
      const facts = [
        `HTTP ${result.httpStatus ?? '-'}`,
        `${result.latencyMs ?? '-'} ms`,
        `version ${result.version ?? '-'}`,
        ...(result.toolsCount !== null ? [`${result.toolsCount} tools`] : []),
      ];
      process.stdout.write(`${head}  ${result.url} (on ${host.name})\n  ${facts.join(' · ')}\n`);
      for (const failure of result.failures) process.stdout.write(`  ${paint.bad(MARK.critical)} ${failure}\n`);
    }
    return result.ok ? 0 : 1;
  } finally {
    await ctx.hosts.closeAll();
  }
}
