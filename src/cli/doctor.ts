// `opsdeck doctor [ENV] [--json]`: what is wrong and why, with the evidence and the fix;
// `opsdeck doctor --fix ID [--dry-run] [--yes]` applies one fix through the one runner
// (operate.ts: preview, confirmation, lock, audit). Exit 0 when nothing is above info.
import { doctorAlarms, runDoctor, runHostDoctor, type DoctorReport, type HostDoctorReport } from '../core/doctor/doctor.js';
import { severityLabel, type Finding } from '../core/doctor/finding.js';
import { buildFixOperation } from '../core/doctor/fix.js';
import { UsageError } from '../core/text/errors.js';
import { quoteUntrusted } from '../core/text/sanitize.js';
import { loadContext, requireEnvironment, type GlobalOptions } from './context.js';
import { MARK, paint, printJson } from './format.js';
import { operate, type OperateOptions } from './operate.js';

interface DoctorOptions extends GlobalOptions, OperateOptions {
  fix?: string;
}

export async function doctorCommand(envName: string | undefined, options: DoctorOptions): Promise<number> {
  const ctx = loadContext(options);
  try {
    const fixEnv = options.fix ? options.fix.split('/')[0]! : undefined;
    if (options.fix && envName && envName !== fixEnv) throw new UsageError(`finding ${quoteUntrusted(options.fix)} is not one of ${envName}'s`);
    const only = envName ?? fixEnv;
    if (only) requireEnvironment(ctx.config, only, ctx.file);
    if (!options.fix && options.dryRun) throw new UsageError('--dry-run goes with --fix ID', 'the doctor only reads; --fix ID applies one fix');
    if (!options.fix && Object.keys(ctx.config.environments).length === 0) {
      // No environments: the doctor still knows systemd, so it looks at the host's services.
      const report = await runHostDoctor(ctx.hosts.get('local'));
      if (options.json) printReport(ctx.file, report, { host: report.host });
      else process.stdout.write(renderHostDoctor(report, ctx.file) + '\n');
      return doctorAlarms(report) ? 1 : 0;
    }
    const report = await runDoctor(ctx.config, ctx.hosts, only ? [only] : undefined);
    if (options.fix) {
      const finding = report.findings.find((f) => f.id === options.fix);
      if (!finding) {
        const fixable = report.findings.filter((f) => f.fix).map((f) => f.id);
        throw new UsageError(`no finding ${quoteUntrusted(options.fix)} now`, fixable.length > 0 ? `findings with a fix: ${fixable.join(', ')}` : 'run opsdeck doctor to see the findings and their ids');
      }
      return await operate(ctx, await buildFixOperation(ctx.config, ctx.hosts, finding, ctx.file), options);
    }
    if (options.json) printReport(ctx.file, report);
    else process.stdout.write(renderDoctor(report, ctx.file) + '\n');
    return doctorAlarms(report) ? 1 : 0;
  } finally {
    await ctx.hosts.closeAll();
  }
}

/** The findings as --json prints them, with or without environments (the refresh they came from is status --json's). */
function printReport(configFile: string | null, report: Pick<DoctorReport, 'collectedAt' | 'durationMs' | 'findings' | 'errors'>, extra: { host?: string } = {}): void {
  printJson({ config: configFile, collectedAt: report.collectedAt, durationMs: report.durationMs, ...extra, findings: report.findings, errors: report.errors });
}

const SEVERITY = {
  critical: (s: string) => paint.bad(s),
  warning: (s: string) => paint.warn(s),
  info: (s: string) => paint.dim(s),
} as const;

/** One finding: its line, the evidence indented (where it came from dimmed), its fix or note. */
export function renderFinding(f: Finding): string[] {
  const out = [`  ${SEVERITY[f.severity](severityLabel(f.severity))} ${f.title}  ${paint.dim(`[${f.id}]`)}`];
  for (const e of f.evidence) {
    out.push(`      ${e.text}  ${paint.dim(`← ${e.from}`)}`);
    for (const q of e.quote ?? []) out.push(`        ${paint.dim('│')} ${q}`);
  }
  if (f.fix) out.push(`      ${paint.good('fix:')} ${f.fix.title}`, `           ${paint.dim(`opsdeck doctor --fix ${f.id}   (--dry-run to preview)`)}`);
  if (f.note) out.push(`      ${paint.dim('note:')} ${f.note}`);
  return out;
}

/** Without environments: the host's failed and crash-looping services. */
export function renderHostDoctor(report: HostDoctorReport, configFile: string | null): string {
  const out: string[] = [paint.dim(`config ${configFile ?? '(none)'}: no environments, so the host's services · ${new Date(report.collectedAt).toLocaleString()} · ${report.durationMs} ms`)];
  const alarms = report.findings.filter((f) => f.severity !== 'info').length;
  out.push('', paint.head(`host ${report.host} (${report.units} services)`) + ' ' + (alarms === 0 ? paint.good(`${MARK.ok} no failed or crash-looping service`) : paint.bad(`${alarms} finding${alarms === 1 ? '' : 's'}`)));
  for (const f of report.findings) out.push(...renderFinding(f));
  for (const error of report.errors) out.push(paint.warn(`${MARK.warning} could not gather: ${error}`));
  return out.join('\n');
}

export function renderDoctor(report: DoctorReport, configFile: string | null): string {
  const out: string[] = [paint.dim(`config ${configFile ?? '(none)'} · ${new Date(report.collectedAt).toLocaleString()} · ${report.durationMs} ms`)];
  for (const env of report.environments) {
    const alarms = env.findings.filter((f) => f.severity !== 'info').length;
    out.push('', paint.head(`${env.name} (host ${env.host})`) + ' ' + (alarms === 0 ? paint.good(`${MARK.ok} nothing wrong`) : paint.bad(`${alarms} finding${alarms === 1 ? '' : 's'}`)));
    for (const f of env.findings) out.push(...renderFinding(f));
  }
  for (const error of report.errors) out.push(paint.warn(`${MARK.warning} could not gather: ${error}`));
  return out.join('\n');
}
