// `opsdeck backups ENV [--json]`: the archives in an environment's backups dir, newest first
// (the console's backups pane, for scripts and cron).
import { UsageError } from '../core/text/errors.js';
import { listArchives } from '../core/backups/listing.js';
import { formatAge, formatBytes, secondsSince } from '../core/text/humanize.js';
import { loadContext, requireEnvironment, type GlobalOptions } from './context.js';
import { MARK, paint } from './format.js';
import { table } from './table.js';

export async function backupsCommand(envName: string, options: GlobalOptions & { json?: boolean }): Promise<number> {
  const ctx = loadContext(options);
  requireEnvironment(ctx.config, envName, ctx.file);
  const env = ctx.config.environments[envName]!;
  if (!env.backups) throw new UsageError(`environment ${envName} has no backups configured`, `add backups: { dir: /path/to/archives } to it in ${ctx.file ?? 'opsdeck.yaml'}`);
  const host = ctx.hosts.get(env.host);
  try {
    const listing = await listArchives(host, env.backups.dir);
    if (options.json) {
      process.stdout.write(JSON.stringify({ environment: envName, host: host.name, source: env.backups.source ?? null, ...listing }, null, 2) + '\n');
    } else if (listing.error) {
      process.stdout.write(paint.warn(`${MARK.warning} ${listing.error}\n`));
    } else {
      process.stdout.write(`${envName}: ${listing.archives.length} archives in ${listing.dir} on host ${host.name}${env.backups.source ? ` (should contain ${env.backups.source})` : ''}\n`);
      const now = Date.now();
      process.stdout.write(table(['ARCHIVE', 'AGE', 'SIZE', 'WRITTEN'], listing.archives.map((a) => [a.name, formatAge(secondsSince(a.modifiedAt, now)), formatBytes(a.sizeBytes), a.modifiedAt])) + '\n');
    }
    return listing.error || listing.archives.length === 0 ? 1 : 0;
  } finally {
    await ctx.hosts.closeAll();
  }
}
