// `opsdeck backup create|list|verify|prune|restore|schedule|unschedule ENV` (and `opsdeck
// backups ENV`, the list): the backups pane for scripts and cron. What changes something is an
// operation (operate.ts: preview, confirmation, lock, journal, audit, --dry-run, --yes).
import path from 'node:path';
import { createBackupOperation, planPrune, scheduleOperation, unscheduleOperation } from '../core/backups/plans.js';
import { readOverview, type BackupOverview } from '../core/backups/overview.js';
import { readCatalog, type CatalogEntry } from '../core/backups/catalog.js';
import { resolvePolicy } from '../core/backups/policy.js';
import { checkSourceSanity, staleSourceRefusal, type SourceSanity } from '../core/backups/sanity.js';
import { planRestore, restoreIntoRefusal } from '../core/backups/restore.js';
import { verifyArchive, type VerifyReport } from '../core/backups/verify.js';
import { fileInfo } from '../core/host/files.js';
import type { Host } from '../core/host/host.js';
import { dropInDirectory } from '../core/ops/plans.js';
import { readonlyPolicy } from '../core/ops/policy.js';
import { environmentTarget } from '../core/ops/target.js';
import { CommandError, describeError, UsageError } from '../core/text/errors.js';
import { formatAge, formatBytes, secondsSince, sparkline } from '../core/text/humanize.js';
import { quoteUntrusted, sanitizeLine } from '../core/text/sanitize.js';
import { loadContext, requireEnvironment, type CliContext, type GlobalOptions } from './context.js';
import { MARK, paint, printJson } from './format.js';
import { operate, type OperateOptions } from './operate.js';
import { table } from './table.js';

interface BackupOptions extends GlobalOptions, OperateOptions {
  force?: boolean;
  to?: string;
  stop?: boolean;
}

const out = (text: string) => process.stdout.write(text);

/** The environment, its host and its policy; closes the hosts however `work` ends. */
async function withEnvironment<T>(envName: string, options: GlobalOptions, work: (ctx: CliContext, host: Host, policy: ReturnType<typeof resolvePolicy>) => Promise<T>): Promise<T> {
  const ctx = loadContext(options);
  try {
    requireEnvironment(ctx.config, envName, ctx.file);
    const env = ctx.config.environments[envName]!;
    const policy = resolvePolicy(envName, env, ctx.file);
    return await work(ctx, ctx.hosts.get(env.host), policy);
  } finally {
    await ctx.hosts.closeAll();
  }
}

function mark(entry: CatalogEntry): string {
  if (!entry.verified) return paint.dim('·');
  return entry.verified.ok ? paint.good(MARK.ok) : paint.bad(MARK.critical);
}

function sanityLines(sanity: SourceSanity | null): string[] {
  if (!sanity) return [];
  const head = sanity.verdict === 'ok' ? paint.good(`${MARK.ok} ${sanity.summary}`) : sanity.verdict === 'unknown' ? paint.dim(`? ${sanity.summary}`) : paint.bad(`${MARK.critical} ${sanity.summary}`);
  const evidence = sanity.verdict === 'ok' ? [] : sanity.evidence.map((e) => paint.dim(`    ${e.text}  [${e.from}]`));
  return [head, ...evidence];
}

function renderOverview(o: BackupOverview): string {
  const lines: string[] = [];
  const entries = o.catalog.entries;
  lines.push(paint.head(`${o.environment}: ${entries.length} archive${entries.length === 1 ? '' : 's'} of ${o.policy.source} in ${o.catalog.dir} on host ${o.host}`));
  lines.push(...sanityLines(o.sanity));
  if (o.catalog.error) lines.push(paint.warn(`${MARK.warning} ${o.catalog.error}`));
  const s = o.schedule;
  lines.push(s.installed ? `schedule: ${o.policy.schedule} · last run ${s.lastRun ? `${formatAge(secondsSince(s.lastRun))} ago (${s.lastResult ?? '?'})` : 'never'} · next ${s.nextRun ?? '-'}` : paint.dim(`schedule: not installed (opsdeck backup schedule ${o.environment})`));
  if (entries.length > 0) lines.push(`sizes, oldest first: ${sparkline([...entries].reverse().map((e) => e.sizeBytes))}`);
  const now = Date.now();
  lines.push(
    table(
      ['', 'ARCHIVE', 'AGE', 'SIZE', 'FILES', 'VERIFIED', 'NOTE'],
      entries.map((e) => [
        mark(e),
        e.name,
        formatAge(secondsSince(e.madeAt, now)),
        formatBytes(e.sizeBytes),
        String(e.manifest?.files ?? e.verified?.files ?? '?'),
        e.verified ? `${formatAge(secondsSince(e.verified.verifiedAt, now))} ago` : '-',
        e.alarm ? paint.bad(`${MARK.critical} ${e.alarm}`) : e.manifest ? '' : paint.dim('not made by opsdeck'),
      ]),
    ),
  );
  for (const p of o.catalog.partials) lines.push(paint.warn(`${MARK.warning} ${p.name}: an unfinished archive (a create was cut off); prune removes it`));
  return lines.join('\n');
}

export async function backupListCommand(envName: string, options: BackupOptions): Promise<number> {
  return withEnvironment(envName, options, async (ctx, host, policy) => {
    const overview = await readOverview(host, envName, ctx.config.environments[envName]!, policy);
    if (options.json) printJson(overview);
    else out(renderOverview(overview) + '\n');
    const bad = overview.catalog.error || overview.catalog.entries.length === 0 || overview.catalog.entries[0]?.alarm || (overview.sanity && overview.sanity.verdict !== 'ok' && overview.sanity.verdict !== 'unknown');
    return bad ? 1 : 0;
  });
}

export async function backupCreateCommand(envName: string, options: BackupOptions): Promise<number> {
  return withEnvironment(envName, options, async (ctx, host, policy) => {
    const env = ctx.config.environments[envName]!;
    const catalog = await readCatalog(host, policy);
    const sanity = await checkSourceSanity(host, { envName, env, policy, archives: catalog.entries });
    const refusal = staleSourceRefusal(sanity, policy.source, envName);
    if (refusal && !options.force) {
      if (options.json) printJson({ refused: true, sanity });
      else for (const line of sanityLines(sanity)) process.stderr.write(line + '\n');
      throw new UsageError(refusal, `set backups.source (or dataDir) to the live directory, or pass --force to archive ${policy.source} anyway`);
    }
    const op = createBackupOperation(environmentTarget(ctx.config, ctx.hosts, envName), { environment: envName, policy, unit: env.unit, details: [`source sanity: ${sanity.verdict} — ${sanity.summary}`] });
    return operate(ctx, op, options);
  });
}

function findArchive(entries: CatalogEntry[], name: string | undefined, envName: string): CatalogEntry {
  if (entries.length === 0) throw new UsageError(`${envName} has no archives`, `make one: opsdeck backup create ${envName}`);
  if (!name) return entries[0]!;
  const found = entries.find((e) => e.name === name || e.path === name || path.posix.basename(e.path) === name);
  if (!found) throw new UsageError(`no archive ${quoteUntrusted(name)} in ${envName}'s backups`, `see them with: opsdeck backup list ${envName}`);
  return found;
}

function renderVerify(report: VerifyReport): string {
  const lines = [report.ok ? paint.good(`${MARK.ok} ${report.archive} verified`) : paint.bad(`${MARK.critical} ${report.archive} FAILED verify`)];
  for (const c of report.checks) lines.push(`  ${c.ok ? paint.good(MARK.ok) : paint.bad(MARK.critical)} ${c.name}: ${c.detail}`);
  return lines.join('\n');
}

/** A live progress line on a terminal, nothing otherwise. */
function progressPrinter(label: string): { update: (text: string) => void; end: () => void } {
  const tty = process.stderr.isTTY;
  let last = 0;
  return {
    update(text) {
      if (!tty || Date.now() - last < 200) return;
      last = Date.now();
      process.stderr.write(`\r\x1b[2K  ${label}: ${text}`);
    },
    end() {
      if (tty) process.stderr.write('\r\x1b[2K');
    },
  };
}

export async function backupVerifyCommand(envName: string, archiveName: string | undefined, options: BackupOptions): Promise<number> {
  return withEnvironment(envName, options, async (ctx, host, policy) => {
    const catalog = await readCatalog(host, policy);
    const entry = findArchive(catalog.entries, archiveName, envName);
    const printer = progressPrinter(`verify ${entry.name}`);
    // Read-only: verified all the same, but no record is written beside the archive.
    const record = !readonlyPolicy(ctx.config, Boolean(options.readonly))({ host: ctx.config.environments[envName]!.host, environments: [envName] });
    const report = await verifyArchive(host, entry, { record, onProgress: (p) => printer.update(p.phase === 'checksum' ? 'checksum…' : `${formatBytes(p.bytes)}${p.totalBytes ? ` / ${formatBytes(p.totalBytes)}` : ''}, ${p.files} files`) }).finally(() => printer.end());
    if (options.json) printJson(report);
    else out(renderVerify(report) + '\n');
    return report.ok ? 0 : 1;
  });
}

export async function backupPruneCommand(envName: string, options: BackupOptions): Promise<number> {
  return withEnvironment(envName, options, async (ctx, host, policy) => {
    const catalog = await readCatalog(host, policy);
    const { refusal, decision, op } = planPrune(environmentTarget(ctx.config, ctx.hosts, envName), { environment: envName, policy, catalog });
    if (refusal && !options.force) throw new UsageError(`refusing to prune: ${refusal}`, 'look at it first (opsdeck backup verify); pass --force to prune anyway');
    if (op.steps.length === 0) {
      if (options.json) printJson({ environment: envName, removed: [], kept: decision.keep.map((k) => ({ archive: k.entry.name, reasons: k.reasons })) });
      else out(`${envName}: nothing to prune (${decision.keep.length} kept by the policy)\n`);
      return 0;
    }
    return operate(ctx, op, options);
  });
}

export async function backupRestoreCommand(envName: string, archiveName: string, options: BackupOptions): Promise<number> {
  return withEnvironment(envName, options, async (ctx, host, policy) => {
    const env = ctx.config.environments[envName]!;
    if (options.to !== undefined && !options.to.startsWith('/')) throw new UsageError(`--to ${quoteUntrusted(options.to)} is not an absolute path`, 'give the directory on the host as an absolute path');
    const catalog = await readCatalog(host, policy);
    const entry = findArchive(catalog.entries, archiveName, envName);
    const into = options.to ?? policy.source;
    const refusal = restoreIntoRefusal(into, policy);
    if (refusal) throw new UsageError(refusal);
    if (options.stop && !env.unit) throw new UsageError(`--stop: environment ${envName} has no unit`);
    // A restore never starts from an archive that does not verify.
    const printer = progressPrinter(`verify ${entry.name}`);
    const report = await verifyArchive(host, entry, { onProgress: (p) => printer.update(`${formatBytes(p.bytes)}, ${p.files} files`) }).finally(() => printer.end());
    if (!report.ok) {
      if (options.json) printJson({ refused: true, verify: report });
      else out(renderVerify(report) + '\n');
      throw new CommandError({ host: host.name, argv: [], message: `refusing to restore ${entry.name}: it failed verify`, hint: 'pick another archive (opsdeck backup list)' });
    }
    if (!options.json) out(paint.dim(`${MARK.ok} ${entry.name} verified (${report.checks.map((c) => c.name).join(', ')})\n`));
    let sanityError: string | null = null;
    const sanity =
      into === policy.source
        ? await checkSourceSanity(host, { envName, env, policy, archives: catalog.entries }).catch((error: unknown) => {
            sanityError = sanitizeLine(describeError(error));
            return null;
          })
        : null;
    const op = await planRestore(host, environmentTarget(ctx.config, ctx.hosts, envName), {
      environment: envName,
      policy,
      archive: { ...entry, verified: { ...report } },
      into,
      unit: options.stop ? env.unit! : null,
      probe: env.health,
      ...(env.unit ? { howToStop: '--stop' } : {}),
      sanity,
    });
    if (sanityError) op.details.push(`source sanity could not be checked (${sanityError}): whether the service reads ${into} is not known`);
    return operate(ctx, op, options);
  });
}

/** opsdeck on the host, as the scheduled job will run it; or how to put it there. */
async function opsdeckOnHost(host: Host, command: readonly string[], hostConfig: string): Promise<void> {
  try {
    await host.run([...command, '--version'], { timeoutMs: 30_000 });
  } catch (error) {
    const why = error instanceof CommandError ? error.message : String(error);
    throw new UsageError(`opsdeck is not installed on host ${host.name} (\`${command.join(' ')} --version\` failed: ${sanitizeLine(why)})`, 'install it there (copy this checkout and run `npm ci`, or `npm install -g` it), then set backups.opsdeck: [/path/to/node, /path/to/opsdeck/bin/opsdeck.js] if it is not on PATH as `opsdeck`');
  }
  const config = await fileInfo(host, hostConfig);
  if (!config.exists) throw new UsageError(`the config opsdeck reads on host ${host.name} (${hostConfig}) does not exist`, `copy this environment's config there with its host set to local (the job runs on the host itself), or set backups.hostConfig: to where it is`);
}

export async function backupScheduleCommand(envName: string, options: BackupOptions): Promise<number> {
  return withEnvironment(envName, options, async (ctx, host, policy) => {
    const command = policy.opsdeck ?? ['opsdeck'];
    const hostConfig = policy.hostConfig ?? '/etc/opsdeck/opsdeck.yaml';
    await opsdeckOnHost(host, command, hostConfig);
    const op = scheduleOperation(environmentTarget(ctx.config, ctx.hosts, envName), { environment: envName, policy, unitDir: await dropInDirectory(host), opsdeck: command, hostConfig });
    return operate(ctx, op, options);
  });
}

export async function backupUnscheduleCommand(envName: string, options: BackupOptions): Promise<number> {
  return withEnvironment(envName, options, async (ctx, host) => {
    const op = unscheduleOperation(environmentTarget(ctx.config, ctx.hosts, envName), { environment: envName, unitDir: await dropInDirectory(host) });
    return operate(ctx, op, options);
  });
}
