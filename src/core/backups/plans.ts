// The backup operations, planned from live state and run by the one runner (lock, journal,
// preview, confirmation, audit, rollback):
//   create    one step: the archive, its checksum and manifest;
//   prune     one step: the archives the retention policy lets go (and leftover partials);
//   restore   a safety archive of what is there now, [stop the unit], extract into a sibling
//             directory, swap it in by rename, [start the unit, health gate]; rolled back
//             by itself when a step or the gate fails, so the data is never left half-restored;
//   schedule  a systemd service and timer on the host that run `opsdeck backup create` and
//             `prune` (Persistent=true); unschedule removes them.
import path from 'node:path';
import type { HealthProbe } from '../status/health.js';
import { healthGateStep, newOperation, type OperationTarget } from '../ops/plans.js';
import type { Operation, Step } from '../ops/operation.js';
import { formatBytes, secondsSince } from '../text/humanize.js';
import type { BackupCatalog, CatalogEntry } from './catalog.js';
import { archiveName, PARTIAL_LEFT_OVER_SEC, SAFETY_SUFFIX, SIDECARS, type ResolvedPolicy } from './policy.js';
import { decideRetention, pruneRefusal, type RetentionDecision } from './retention.js';

export function createBackupOperation(where: OperationTarget, input: { environment: string; policy: ResolvedPolicy; unit?: string | undefined; details?: string[]; now?: Date }): Operation {
  const name = archiveName(input.policy, input.now ?? new Date());
  const step: Step = { kind: 'backup-create', environment: input.environment, source: input.policy.source, dir: input.policy.dir, name, compression: input.policy.compression, ...(input.unit ? { unit: input.unit } : {}), host: where.host, title: `archive ${input.policy.source} into ${path.posix.join(input.policy.dir, name)}` };
  return newOperation('backup.create', `back up ${input.environment}: ${input.policy.source}`, input.policy.source, where, 'low', [step], {
    details: [`source: ${input.policy.source}`, `archive: ${path.posix.join(input.policy.dir, name)} (${input.policy.compression})`, ...(input.details ?? [])],
    onFailure: 'rollback',
  });
}

/** Every file an archive brings: itself and what opsdeck wrote beside it. */
function filesOf(entry: Pick<CatalogEntry, 'path'>): string[] {
  return [entry.path, SIDECARS.checksum(entry.path), SIDECARS.manifest(entry.path), SIDECARS.verified(entry.path)];
}

function pruneOperation(where: OperationTarget, input: { environment: string; policy: ResolvedPolicy; decision: RetentionDecision; partials: Array<{ path: string; name: string }> }): Operation {
  const { decision, partials } = input;
  const paths = [...decision.remove.flatMap(filesOf), ...partials.map((p) => p.path)];
  const freed = decision.remove.reduce((n, e) => n + e.sizeBytes, 0);
  const steps: Step[] =
    paths.length > 0
      ? [{ kind: 'remove-files', paths, host: where.host, title: `remove ${decision.remove.length} archive${decision.remove.length === 1 ? '' : 's'} (${formatBytes(freed)})${partials.length > 0 ? ` and ${partials.length} partial${partials.length === 1 ? '' : 's'} left by a create that was cut off` : ''}` }]
      : [];
  return newOperation('backup.prune', `prune ${input.environment}'s backups: ${decision.remove.length} to remove, ${decision.keep.length} kept`, input.policy.dir, where, 'medium', steps, {
    details: [
      `policy: keep the newest ${input.policy.keepLast}${input.policy.keepDaily ? `, one a day for ${input.policy.keepDaily} days` : ''}${input.policy.keepWeekly ? `, one a week for ${input.policy.keepWeekly} weeks` : ''}, and the newest verified`,
      ...decision.remove.map((e) => `remove ${e.name} (${formatBytes(e.sizeBytes)}, made ${e.madeAt})`),
      ...partials.map((p) => `remove ${p.name} (an unfinished archive)`),
      ...decision.keep.map((k) => `keep ${k.entry.name}: ${k.reasons.join(', ')}`),
      ...decision.untouched.map((e) => `leave ${e.name} (${e.safety ? 'a safety archive taken before a restore: remove it yourself once sure' : "not named by the policy's prefix"})`),
    ],
  });
}

/**
 * A prune planned from the directory as it is: what the policy lets go (and the partials no
 * create is writing any more), and why not to, when the newest archive looks suspicious (the
 * caller decides whether a --force overrides it). The CLI and the console both plan this way.
 */
export function planPrune(where: OperationTarget, input: { environment: string; policy: ResolvedPolicy; catalog: BackupCatalog; now?: number }): { refusal: string | null; decision: RetentionDecision; op: Operation } {
  const decision = decideRetention(input.catalog.entries, input.policy);
  const partials = input.catalog.partials.filter((p) => secondsSince(p.modifiedAt, input.now) > PARTIAL_LEFT_OVER_SEC);
  return { refusal: pruneRefusal(input.catalog.entries), decision, op: pruneOperation(where, { environment: input.environment, policy: input.policy, decision, partials }) };
}

export interface RestorePlan {
  environment: string;
  policy: ResolvedPolicy;
  archive: CatalogEntry;
  /** The directory restored (its real path: a link is resolved first, so the swap is on its file system). */
  target: string;
  /** The target holds data now: it is archived first. */
  targetHasData: boolean;
  /** Stop the unit before the swap and start it after, then the health gate. */
  unit: string | null;
  probe?: HealthProbe | undefined;
  /** How the operator stops the unit around the swap instead (a flag, a key), said when it is not. */
  howToStop?: string;
  now?: Date;
}

export function restoreOperation(where: OperationTarget, plan: RestorePlan, id?: string): Operation {
  const now = plan.now ?? new Date();
  const op = newOperation('backup.restore', `restore ${plan.archive.name} into ${plan.target}`, plan.target, where, 'high', [], { onFailure: 'rollback' });
  if (id) op.id = id;
  const suffix = op.id.slice(-4);
  const into = path.posix.join(path.posix.dirname(plan.target), `.${path.posix.basename(plan.target)}.opsdeck-restore-${suffix}`);
  const keepAs = `${plan.target}.before-restore-${op.id.slice(0, 15)}`;
  const steps: Step[] = [];
  if (plan.targetHasData) {
    const name = archiveName(plan.policy, now, SAFETY_SUFFIX);
    steps.push({ kind: 'backup-create', environment: plan.environment, source: plan.target, dir: plan.policy.dir, name, compression: plan.policy.compression, ...(plan.unit ? { unit: plan.unit } : {}), host: where.host, title: `safety archive of ${plan.target} as it is now: ${name}` });
  }
  if (plan.unit) steps.push({ kind: 'systemctl', verb: 'stop', unit: plan.unit, host: where.host, title: `systemctl stop ${plan.unit}` });
  steps.push({ kind: 'extract', archive: plan.archive.path, into, sha256: plan.archive.manifest?.sha256 ?? plan.archive.verified?.sha256 ?? null, host: where.host, title: `extract ${plan.archive.name} into ${into}` });
  steps.push({ kind: 'swap-dir', target: plan.target, replacement: into, keepAs, host: where.host, title: `swap it in: ${plan.target} becomes the restored data${plan.targetHasData ? `, the current one kept as ${keepAs}` : ''}` });
  if (plan.unit) {
    steps.push({ kind: 'systemctl', verb: 'start', unit: plan.unit, host: where.host, title: `systemctl start ${plan.unit}` });
    steps.push(healthGateStep(where.host, plan.unit, plan.probe));
  }
  op.steps = steps;
  op.details = [
    `archive: ${plan.archive.path} (${formatBytes(plan.archive.sizeBytes)}, made ${plan.archive.madeAt}${plan.archive.manifest ? `, ${plan.archive.manifest.files} files from ${plan.archive.manifest.source}` : ', not made by opsdeck'})`,
    `verified: ${plan.archive.verified?.ok ? `yes, ${plan.archive.verified.verifiedAt}` : 'just now, before this plan'}`,
    `into: ${plan.target}${plan.targetHasData ? ' (its current content is archived first and kept beside it)' : ' (empty or missing now)'}`,
    plan.unit ? `the unit ${plan.unit} is stopped for the swap, started after, then the health gate` : plan.howToStop ? `the unit keeps running through the swap (${plan.howToStop} stops it around the swap)` : 'nothing is stopped around the swap (no unit)',
  ];
  return op;
}

/** A word of an ExecStart= line: systemd splits on spaces, expands % and $: quoted and escaped. */
export function systemdWord(arg: string): string {
  const escaped = arg.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (/^[A-Za-z0-9_./:=@+,-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export const scheduleUnits = (environment: string) => ({ service: `opsdeck-backup-${environment}.service`, timer: `opsdeck-backup-${environment}.timer` });

export function scheduleFiles(environment: string, policy: ResolvedPolicy, opsdeck: readonly string[], hostConfig: string): { service: string; timer: string } {
  const run = (verb: string) => [...opsdeck, 'backup', verb, environment, '--yes', '--config', hostConfig].map(systemdWord).join(' ');
  return {
    service: [
      '# Written by opsdeck backup schedule; remove with: opsdeck backup unschedule ' + environment,
      '[Unit]',
      `Description=opsdeck backup of ${environment}`,
      'After=network.target',
      '',
      '[Service]',
      'Type=oneshot',
      `ExecStart=${run('create')}`,
      `ExecStart=${run('prune')}`,
      'Nice=10',
      'IOSchedulingClass=idle',
      '',
    ].join('\n'),
    timer: [
      '# Written by opsdeck backup schedule',
      '[Unit]',
      `Description=opsdeck backup of ${environment} (${policy.schedule})`,
      '',
      '[Timer]',
      `OnCalendar=${policy.schedule}`,
      'Persistent=true',
      'RandomizedDelaySec=60',
      '',
      '[Install]',
      'WantedBy=timers.target',
      '',
    ].join('\n'),
  };
}

export function scheduleOperation(where: OperationTarget, input: { environment: string; policy: ResolvedPolicy; unitDir: string; opsdeck: readonly string[]; hostConfig: string }): Operation {
  const units = scheduleUnits(input.environment);
  const files = scheduleFiles(input.environment, input.policy, input.opsdeck, input.hostConfig);
  const file = (unit: string) => path.posix.join(input.unitDir, unit);
  return newOperation(
    'backup.schedule',
    `schedule ${input.environment}'s backups: ${input.policy.schedule}`,
    units.timer,
    where,
    'low',
    [
      { kind: 'write-file', path: file(units.service), content: files.service, mode: 0o644, host: where.host, title: `write ${file(units.service)}` },
      { kind: 'write-file', path: file(units.timer), content: files.timer, mode: 0o644, host: where.host, title: `write ${file(units.timer)}` },
      { kind: 'daemon-reload', host: where.host, title: 'systemctl daemon-reload' },
      { kind: 'systemctl', verb: 'enable', unit: units.timer, host: where.host, title: `systemctl enable ${units.timer}` },
      { kind: 'systemctl', verb: 'start', unit: units.timer, host: where.host, title: `systemctl start ${units.timer}` },
    ],
    { onFailure: 'rollback', details: [`runs: ${input.opsdeck.join(' ')} backup create ${input.environment}, then prune`, `calendar: ${input.policy.schedule} (Persistent=true: a run missed while the host was down happens at boot)`, `config on the host: ${input.hostConfig}`] },
  );
}

export function unscheduleOperation(where: OperationTarget, input: { environment: string; unitDir: string }): Operation {
  const units = scheduleUnits(input.environment);
  const file = (unit: string) => path.posix.join(input.unitDir, unit);
  return newOperation('backup.unschedule', `unschedule ${input.environment}'s backups`, units.timer, where, 'low', [
    { kind: 'systemctl', verb: 'stop', unit: units.timer, host: where.host, title: `systemctl stop ${units.timer}` },
    { kind: 'systemctl', verb: 'disable', unit: units.timer, host: where.host, title: `systemctl disable ${units.timer}` },
    { kind: 'remove-file', path: file(units.timer), host: where.host, title: `remove ${file(units.timer)}` },
    { kind: 'remove-file', path: file(units.service), host: where.host, title: `remove ${file(units.service)}` },
    { kind: 'daemon-reload', host: where.host, title: 'systemctl daemon-reload' },
  ], { onFailure: 'rollback' });
}

