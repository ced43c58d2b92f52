// Operations opsdeck plans today: a unit action, daemon-reload, a signal to a unit, stopping a
// PID (each one step), a unit override (a drop-in, daemon-reload, restart, health gate; rolled
// back by itself when a step or the gate fails), and adopting a hand-started process into its
// unit (rolled back by starting the process again). Each is planned from live state by its
// caller (target.ts says what the target is) and run by the one runner.
import type { HealthProbe } from '../status/health.js';
import { UsageError } from '../text/errors.js';
import { firstUnsafeCharacter, codePointName, quoteUntrusted, sanitizeLine } from '../text/sanitize.js';
import { shellQuote, type Host } from '../host/host.js';
import { readoptUnit, redactEnvironment, type Launch } from './relaunch.js';
import { normalizeUnitName, type UnitAction } from '../systemd/units.js';
import { currentUser } from './audit.js';
import { newOperationId, type Operation, type Risk, type Step } from './operation.js';
import type { ProcessDescription, Target } from './target.js';
import os from 'node:os';

/** Where an operation goes and whom it touches (target.ts). */
export type OperationTarget = Pick<Target, 'host' | 'environment' | 'environments' | 'protected' | 'phrase'>;

const RISK: Record<UnitAction, Risk> = { start: 'low', reload: 'low', 'reset-failed': 'low', enable: 'low', restart: 'medium', stop: 'high', disable: 'medium' };

export function newOperation(kind: string, title: string, target: string, where: OperationTarget, risk: Risk, steps: Step[], extra: Partial<Operation> = {}): Operation {
  return {
    id: newOperationId(where.environment),
    kind,
    title,
    host: where.host,
    environment: where.environment,
    environments: [...where.environments],
    target,
    details: [],
    risk,
    protected: where.protected,
    phrase: where.phrase,
    createdAt: new Date().toISOString(),
    createdBy: { user: currentUser(), from: os.hostname() },
    preflight: [],
    steps,
    onFailure: 'stop',
    ...extra,
  };
}

export function unitOperation(action: UnitAction, unit: string, where: OperationTarget): Operation {
  const name = normalizeUnitName(unit);
  return newOperation(`unit.${action}`, `${action} ${name}`, name, where, RISK[action], [{ kind: 'systemctl', verb: action, unit: name, host: where.host, title: `systemctl ${action} ${name}` }]);
}

export function daemonReloadOperation(where: OperationTarget): Operation {
  const target = `systemd on ${where.host}${where.environments.length > 0 ? ` (environments ${where.environments.join(', ')})` : ''}`;
  return newOperation('unit.daemon-reload', `daemon-reload on ${where.host}`, target, where, 'medium', [{ kind: 'daemon-reload', host: where.host, title: 'systemctl daemon-reload' }]);
}

export function killUnitOperation(unit: string, where: OperationTarget, signal = 'SIGTERM'): Operation {
  const name = normalizeUnitName(unit);
  return newOperation('unit.kill', `kill ${name} (${signal})`, name, where, 'high', [{ kind: 'systemctl', verb: 'kill', unit: name, signal, host: where.host, title: `signal every process of ${name} with ${signal}` }]);
}

export function killPidOperation(pid: number, where: OperationTarget & { process: ProcessDescription }, graceMs = 5000): Operation {
  const p = where.process;
  return newOperation('kill', `kill PID ${pid}`, `PID ${pid} (${p.command})`, where, 'high', [{ kind: 'stop-pid', pid, startTime: p.startTime, command: p.command, graceMs, host: where.host, title: `TERM PID ${pid}, KILL after ${Math.round(graceMs / 1000)} s if still running` }], {
    details: [`command: ${p.command}`, `cwd: ${p.cwd ?? '(not readable)'}`, `unit: ${p.unit ?? 'none (started by hand?)'}`, `listens on: ${p.ports.length > 0 ? p.ports.join(', ') : 'no port'}`, `environments: ${where.environments.length > 0 ? where.environments.join(', ') : 'none'}`],
    preflight: [{ kind: 'pid-is', host: where.host, pid, startTime: p.startTime, command: p.command }],
  });
}

// ---------------------------------------------------------------------------------------------
// Adopting a hand-started process: its port handed to the environment's unit

export interface AdoptPlan {
  unit: string;
  port: number;
  probe?: HealthProbe | undefined;
  /** How the process was started, read now (only its environment's names are shown). */
  launch: Launch;
  graceMs?: number;
  settleMs?: number;
  gateTimeoutMs?: number;
  /** How long the rollback waits for the port to be served again by the process started anew. */
  restartWaitMs?: number;
}

/** How long a rollback of an adoption waits for the hand-started process to serve its port again. */
export const READOPT_WAIT_MS = 30_000;

/**
 * Hand a port from a process outside any unit to the environment's unit: stop the unit (a
 * crash-looping one must not race for the port meanwhile), stop the PID (its launch recorded
 * first), start the unit, health gate. Rolled back by itself: the unit stopped, the process
 * started again as it was, the unit's own state put back. The service is down from the TERM
 * until the unit (or, on a rollback, the process again) serves: seconds.
 */
export function adoptOperation(where: OperationTarget & { process: ProcessDescription }, plan: AdoptPlan): Operation {
  const unit = normalizeUnitName(plan.unit);
  const p = where.process;
  const graceMs = plan.graceMs ?? 5000;
  const settleMs = plan.settleMs ?? GATE_SETTLE_MS;
  const op = newOperation('adopt', `adopt PID ${p.pid} into ${unit} (port ${plan.port})`, `PID ${p.pid} (${p.command}) -> ${unit}`, where, 'high', [], {
    onFailure: 'rollback',
    preflight: [
      { kind: 'unit-exists', host: where.host, unit },
      { kind: 'pid-is', host: where.host, pid: p.pid, startTime: p.startTime, command: p.command },
    ],
    details: [
      `command: ${sanitizeLine(plan.launch.argv.map(shellQuote).join(' '))}`,
      `cwd: ${sanitizeLine(plan.launch.cwd)}`,
      `user: uid ${plan.launch.uid}, gid ${plan.launch.gid}`,
      `environment: ${sanitizeLine(redactEnvironment(plan.launch.environ)) || '(empty)'} (values recorded on the host only, never shown)`,
      `listens on: ${p.ports.length > 0 ? p.ports.join(', ') : 'no port'}`,
      `unit now: ${p.unit ?? 'none (started by hand?)'} -> ${unit}`,
      `the service is down from the TERM until ${unit} serves port ${plan.port}; on any failure the process is started again as it was`,
    ],
  });
  const restart = { unit: readoptUnit(op.id), port: plan.port, waitMs: plan.restartWaitMs ?? READOPT_WAIT_MS };
  op.steps = [
    { kind: 'systemctl', verb: 'stop', unit, host: where.host, title: `systemctl stop ${unit} (so it does not race for port ${plan.port})` },
    { kind: 'stop-pid', pid: p.pid, startTime: p.startTime, command: p.command, graceMs, restart, host: where.host, title: `record how PID ${p.pid} was started, TERM it, KILL after ${Math.round(graceMs / 1000)} s if still running` },
    { kind: 'systemctl', verb: 'start', unit, host: where.host, title: `systemctl start ${unit}` },
    healthGateStep(where.host, unit, plan.probe, settleMs, plan.gateTimeoutMs ?? GATE_TIMEOUT_MS),
  ];
  return op;
}

// ---------------------------------------------------------------------------------------------
// Unit overrides

/** Keys of the [Unit] and [Install] sections; for a service every other key is [Service]'s. */
const UNIT_KEYS = new Set(['Description', 'Documentation', 'Wants', 'Requires', 'Requisite', 'BindsTo', 'PartOf', 'Upholds', 'Conflicts', 'Before', 'After', 'OnFailure', 'OnSuccess', 'StartLimitIntervalSec', 'StartLimitBurst', 'StartLimitAction', 'RequiresMountsFor', 'JoinsNamespaceOf', 'StopWhenUnneeded', 'RefuseManualStart', 'RefuseManualStop', 'DefaultDependencies', 'JobTimeoutSec']);
const INSTALL_KEYS = new Set(['WantedBy', 'RequiredBy', 'Alias', 'Also', 'DefaultInstance']);
/** List settings: in a drop-in they add to the unit's; an empty assignment first makes --set replace. */
const LIST_KEYS = new Set([
  'ReadWritePaths', 'ReadOnlyPaths', 'InaccessiblePaths', 'ExecPaths', 'NoExecPaths', 'BindPaths', 'BindReadOnlyPaths', 'TemporaryFileSystem',
  'Environment', 'EnvironmentFile', 'PassEnvironment', 'UnsetEnvironment', 'ExecStart', 'ExecStartPre', 'ExecStartPost', 'ExecCondition', 'ExecReload', 'ExecStop', 'ExecStopPost',
  'SupplementaryGroups', 'DeviceAllow', 'SystemCallFilter', 'RestrictAddressFamilies', 'AmbientCapabilities', 'CapabilityBoundingSet', 'LogExtraFields',
  'Wants', 'Requires', 'Before', 'After', 'Conflicts', 'WantedBy', 'RequiredBy', 'Alias', 'Also',
]);

export interface OverrideSetting {
  section: string;
  key: string;
  value: string;
}

/** `Key=Value` or `Section.Key=Value`, checked: a value can never start a line of its own. */
export function parseSetting(text: string, unit: string): OverrideSetting {
  const match = /^(?:([A-Z][A-Za-z]*)\.)?([A-Z][A-Za-z0-9]*)=(.*)$/s.exec(text);
  if (!match) throw new UsageError(`invalid --set ${quoteUntrusted(text)}`, 'write Key=Value (e.g. ReadWritePaths=/srv/app/data), or Section.Key=Value for a section opsdeck cannot guess');
  const [, explicit, key, value] = match as unknown as [string, string | undefined, string, string];
  const bad = firstUnsafeCharacter(value) ?? (/[\n\t]/.exec(value)?.[0] ?? null);
  if (bad !== null) throw new UsageError(`invalid --set ${quoteUntrusted(text)}: the value holds ${codePointName(bad)}`, 'a value is one line of printable text');
  let section = explicit;
  if (!section) {
    if (UNIT_KEYS.has(key) || key.startsWith('Condition') || key.startsWith('Assert')) section = 'Unit';
    else if (INSTALL_KEYS.has(key)) section = 'Install';
    else if (unit.endsWith('.service')) section = 'Service';
    else throw new UsageError(`which section does ${key} belong to in ${unit}?`, `write it as Section.${key}=… (e.g. ${unit.split('.').pop()!.replace(/^./, (c) => c.toUpperCase())}.${key}=…)`);
  }
  return { section, key, value: value.trim() };
}

/** The drop-in's text: one section each, list settings reset first so --set replaces. */
export function dropInContent(settings: readonly OverrideSetting[], opId: string, unit: string): string {
  const sections = [...new Set(settings.map((s) => s.section))];
  const lines = [`# Written by opsdeck (operation ${opId}); remove with: opsdeck unit override ${unit} --unset`];
  for (const section of sections) {
    lines.push('', `[${section}]`);
    const mine = settings.filter((s) => s.section === section);
    for (const key of [...new Set(mine.map((s) => s.key))]) {
      if (LIST_KEYS.has(key)) lines.push(`${key}=`);
      for (const s of mine.filter((m) => m.key === key)) lines.push(`${key}=${s.value}`);
    }
  }
  return lines.join('\n') + '\n';
}

/**
 * Where `systemctl edit` would write: the first persistent configuration directory of the
 * manager's unit search path, asked from systemd (/etc/systemd/system on a real host; the
 * lab's unit folder in the lab).
 */
export async function dropInDirectory(host: Host): Promise<string> {
  const { stdout } = await host.run(['systemctl', 'show', '--no-pager', '--property=UnitPath']);
  const paths = stdout.replace(/^UnitPath=/, '').trim().split(/\s+/).filter(Boolean);
  const persistent = paths.find((p) => p.startsWith('/') && !p.startsWith('/run/') && !p.endsWith('.control') && !/generator|transient/.test(p));
  if (!persistent) throw new UsageError(`systemd on host ${host.name} names no persistent unit directory (UnitPath=${paths.join(' ')})`);
  return persistent;
}

export interface OverridePlan {
  unit: string;
  /** null: remove opsdeck's drop-in (--unset). */
  settings: OverrideSetting[] | null;
  dropInDir: string;
  probe?: HealthProbe | undefined;
  settleMs?: number;
  gateTimeoutMs?: number;
  /**
   * false: write and daemon-reload only. For when the unit cannot serve yet whatever its
   * settings (another process holds its port: the adoption that follows starts it, and gates).
   */
  restart?: boolean;
}

export const DROP_IN_NAME = 'opsdeck-override.conf';
/** An override's health gate: well for this long in a row… */
export const GATE_SETTLE_MS = 5000;
/** …within this long. */
export const GATE_TIMEOUT_MS = 60_000;

/** The health gate after a (re)start: the unit active, its restarts not rising, the probe healthy, held for `settleMs`. */
export function healthGateStep(host: string, unit: string, probe: HealthProbe | undefined, settleMs = GATE_SETTLE_MS, timeoutMs = GATE_TIMEOUT_MS): Step {
  return { kind: 'health-gate', probe, unit, settleMs, timeoutMs, intervalMs: 1000, host, title: `health gate: ${unit} active, its restarts not rising${probe ? `, ${probe.url} healthy` : ''}, for ${Math.round(settleMs / 1000)} s` };
}

export function unitOverrideOperation(where: OperationTarget, plan: OverridePlan): Operation {
  const unit = normalizeUnitName(plan.unit);
  const settleMs = plan.settleMs ?? GATE_SETTLE_MS;
  const file = `${plan.dropInDir.replace(/\/$/, '')}/${unit}.d/${DROP_IN_NAME}`;
  const op = newOperation(
    'unit.override',
    plan.settings ? `override ${unit}: ${plan.settings.map((s) => `${s.key}=${s.value}`).join(' ')}` : `remove opsdeck's override of ${unit}`,
    unit,
    where,
    'high',
    [],
    { onFailure: 'rollback', preflight: [{ kind: 'unit-exists', host: where.host, unit }] },
  );
  const change: Step = plan.settings
    ? { kind: 'write-file', path: file, content: dropInContent(plan.settings, op.id, unit), mode: 0o644, host: where.host, title: `write the drop-in ${file}` }
    : { kind: 'remove-file', path: file, host: where.host, title: `remove the drop-in ${file}` };
  op.steps = [change, { kind: 'daemon-reload', host: where.host, title: 'systemctl daemon-reload' }];
  if (plan.restart !== false) {
    op.steps.push({ kind: 'systemctl', verb: 'restart', unit, host: where.host, title: `systemctl restart ${unit}` }, healthGateStep(where.host, unit, plan.probe, settleMs, plan.gateTimeoutMs ?? GATE_TIMEOUT_MS));
  }
  return op;
}
