// Derived views of the state: the rows each pane shows and what the cursor points at. Pure
// functions, so panes, the key handlers and tests agree on what is selected.
import { secondsSince } from '../core/text/humanize.js';
import type { Listener } from '../core/systemd/listeners.js';
import type { EnvironmentStatus } from '../core/status/collect.js';
import type { UnitStatus } from '../core/systemd/units.js';
import type { CatalogEntry } from '../core/backups/catalog.js';
import type { SourceSanity } from '../core/backups/sanity.js';
import type { Finding } from '../core/doctor/finding.js';
import type { AppState, HostUnit, OpenOperation, ProcessSort, Sample } from './types.js';
import { decideTarget, type Target, type TargetFacts } from '../core/ops/target.js';
import { IN_PROGRESS } from '../core/ops/state.js';

export function environmentNames(state: AppState): string[] {
  const filter = state.filter.environments.toLowerCase();
  return Object.keys(state.config.environments).filter((name) => name.toLowerCase().includes(filter));
}

export function environmentStatus(state: Pick<AppState, 'status'>, name: string | null): EnvironmentStatus | undefined {
  return name ? state.status?.environments.find((e) => e.name === name) : undefined;
}

/** The host an environment's commands run on: as the last refresh saw it (--host may
 *  override the config), else as configured. */
export function environmentHost(state: { status: { environments: ReadonlyArray<{ name: string; host: string }> } | null; config: AppState['config'] }, name: string): string {
  return state.status?.environments.find((e) => e.name === name)?.host ?? state.config.environments[name]!.host;
}

/** Restarts per minute over the samples of the last minute or so. */
export function restartRate(samples: readonly Sample[] | undefined): number | null {
  if (!samples || samples.length < 2) return null;
  const last = samples.at(-1)!;
  const first = samples.find((s) => last.at - s.at <= 65_000) ?? samples[0]!;
  const minutes = (last.at - first.at) / 60_000;
  if (minutes <= 0) return null;
  return Math.max(0, (last.restarts - first.restarts) / minutes);
}

export type ProcessRow =
  | { kind: 'unit'; key: string; host: string; environment: string | null; protected: boolean; unit: UnitStatus }
  | { kind: 'port'; key: string; host: string; environment: string | null; protected: boolean; listener: Listener };

/** Seconds a unit has been active, -1 if it is not. */
export function uptimeSec(unit: UnitStatus, now = Date.now()): number {
  return unit.activeState === 'active' && unit.activeSince ? secondsSince(unit.activeSince, now) : -1;
}

function compareUnits(sort: ProcessSort, now: number): (a: UnitStatus, b: UnitStatus) => number {
  switch (sort) {
    case 'state':
      return (a, b) => `${a.activeState}/${a.subState}`.localeCompare(`${b.activeState}/${b.subState}`);
    case 'pid':
      return (a, b) => (a.mainPid ?? 0) - (b.mainPid ?? 0);
    case 'memory':
      return (a, b) => (a.memoryBytes ?? 0) - (b.memoryBytes ?? 0);
    case 'uptime':
      return (a, b) => uptimeSec(a, now) - uptimeSec(b, now);
    case 'restarts':
      return (a, b) => a.nRestarts - b.nRestarts;
    default:
      return (a, b) => a.name.localeCompare(b.name);
  }
}

export type ProcessInput = Pick<AppState, 'status' | 'allUnits' | 'processes' | 'filter'>;

/** The footer, the key handlers and the pane all ask for the rows on every store change;
 *  they are computed once per change of what they are made of. */
let lastRows: { status: unknown; allUnits: unknown; processes: unknown; filter: string; rows: ProcessRow[] } | null = null;

export function processRows(state: ProcessInput): ProcessRow[] {
  const filter = state.filter.processes;
  if (lastRows && lastRows.status === state.status && lastRows.allUnits === state.allUnits && lastRows.processes === state.processes && lastRows.filter === filter) return lastRows.rows;
  const rows = computeProcessRows(state, Date.now());
  lastRows = { status: state.status, allUnits: state.allUnits, processes: state.processes, filter, rows };
  return rows;
}

function computeProcessRows(state: ProcessInput, now: number): ProcessRow[] {
  const envs = state.status?.environments ?? [];
  const owner = (host: string, unit: string) => envs.find((e) => e.host === host && (e.unit?.name === unit || e.relatedUnits.some((u) => u.name === unit)));
  let units: HostUnit[];
  if (state.processes.showAll && state.allUnits.length > 0) units = state.allUnits;
  else units = envs.flatMap((e) => [...(e.unit ? [e.unit] : []), ...e.relatedUnits].map((u) => ({ ...u, host: e.host })));
  const filter = state.filter.processes.toLowerCase();
  const matches = (text: string) => filter === '' || text.toLowerCase().includes(filter);
  const compare = compareUnits(state.processes.sort, now);
  const sign = state.processes.descending ? -1 : 1;
  const unitRows: ProcessRow[] = units
    .filter((u) => matches(`${u.host} ${u.name} ${u.description} ${u.activeState} ${u.subState} ${u.mainPid ?? ''}`))
    .sort((a, b) => sign * compare(a, b) || a.name.localeCompare(b.name))
    .map((unit) => {
      const env = owner(unit.host, unit.name);
      return { kind: 'unit', key: `u:${unit.host}:${unit.name}`, host: unit.host, environment: env?.name ?? null, protected: env?.protected ?? false, unit };
    });
  // The environments' own ports first: unrelated listeners must never push them out of view.
  const portRows: ProcessRow[] = (state.status?.hosts ?? []).flatMap((h) =>
    h.listeners
      .filter((l) => matches(`${h.name} ${l.port} ${l.pid ?? ''} ${l.command} ${l.unit ?? 'no unit'}`))
      .map((listener) => {
        const env = envs.find((e) => e.host === h.name && e.listeners.some((l) => l.port === listener.port));
        return { kind: 'port' as const, key: `p:${h.name}:${listener.address}:${listener.port}:${listener.pid}`, host: h.name, environment: env?.name ?? null, protected: env?.protected ?? false, listener };
      }),
  ).sort((a, b) => Number(a.environment === null) - Number(b.environment === null));
  return [...unitRows, ...portRows];
}

/** The selected environment's archives as the backups slice last read them (newest first), filtered. */
export function backupRows(state: Pick<AppState, 'backups' | 'selectedEnv' | 'filter'>): CatalogEntry[] {
  const entries = state.selectedEnv ? (state.backups.byEnv[state.selectedEnv]?.overview?.catalog.entries ?? []) : [];
  const filter = state.filter.backups.toLowerCase();
  return filter === '' ? entries : entries.filter((a) => a.name.toLowerCase().includes(filter));
}

/**
 * The newest source-sanity verdict for an environment: the status's (checked with its slow
 * parts, every 30 s) or the backups pane's own (checked when a create is planned, or when the
 * status had none), whichever was checked last.
 */
export function backupSanity(state: Pick<AppState, 'backups' | 'status'>, name: string | null): SourceSanity | null {
  if (!name) return null;
  const own = state.backups.byEnv[name]?.overview?.sanity ?? null;
  const status = environmentStatus(state, name)?.backupSanity ?? null;
  if (!own || !status) return own ?? status;
  return status.checkedAt > own.checkedAt ? status : own;
}

/** The archive the backups pane's cursor is on (the cursor kept inside the rows). */
export function selectedBackup(state: Pick<AppState, 'backups' | 'selectedEnv' | 'filter' | 'cursor'>): CatalogEntry | null {
  const rows = backupRows(state);
  return rows[Math.min(state.cursor.backups, rows.length - 1)] ?? null;
}

const NO_FINDINGS: readonly Finding[] = [];

/** The doctor's findings, most severe first (a stable reference: the report's own list). */
export function doctorRows(state: Pick<AppState, 'doctor'>): readonly Finding[] {
  return state.doctor.report?.findings ?? NO_FINDINGS;
}

/** The finding the doctor pane's cursor is on (the cursor kept inside the rows). */
export function selectedFinding(state: Pick<AppState, 'doctor' | 'cursor'>): Finding | null {
  const rows = doctorRows(state);
  return rows[Math.min(state.cursor.doctor, rows.length - 1)] ?? null;
}

export interface Alarms {
  critical: number;
  warning: number;
}

/** An environment's alarms as the last refresh found them: the doctor's rules, findings above info (status's problems). */
export function environmentAlarms(state: Pick<AppState, 'status'>, name: string): Alarms | null {
  const problems = environmentStatus(state, name)?.problems;
  if (!problems) return null;
  return { critical: problems.filter((p) => p.severity === 'critical').length, warning: problems.filter((p) => p.severity === 'warning').length };
}

/** What unit actions in the current pane act on, and whom they touch (target.ts decides). */
export type Selection =
  | { kind: 'unit'; unit: string; target: Target }
  | { kind: 'pid'; pid: number; command: string; target: Target }
  | { kind: 'host'; target: Target };

/** What an action on these facts touches, environments' hosts as the last refresh saw them (target.ts decides). */
export function targetOf(state: Pick<AppState, 'config' | 'status'>, facts: TargetFacts): Target {
  return decideTarget(state.config, (name) => environmentHost(state, name), facts);
}

/** The footer and the key handlers ask for the selection several times per store change; it is
 *  worked out once per change of what it is made of. */
let lastSelection: { pane: unknown; cursor: number; status: unknown; allUnits: unknown; processes: unknown; filter: string; config: unknown; selectedEnv: string | null; selection: Selection | null } | null = null;

export function currentSelection(state: AppState): Selection | null {
  const last = lastSelection;
  if (
    last &&
    last.pane === state.pane &&
    last.cursor === state.cursor.processes &&
    last.status === state.status &&
    last.allUnits === state.allUnits &&
    last.processes === state.processes &&
    last.filter === state.filter.processes &&
    last.config === state.config &&
    last.selectedEnv === state.selectedEnv
  )
    return last.selection;
  const selection = computeSelection(state);
  lastSelection = { pane: state.pane, cursor: state.cursor.processes, status: state.status, allUnits: state.allUnits, processes: state.processes, filter: state.filter.processes, config: state.config, selectedEnv: state.selectedEnv, selection };
  return selection;
}

function computeSelection(state: AppState): Selection | null {
  if (state.pane === 'processes') {
    const row = processRows(state)[state.cursor.processes];
    if (!row) return null;
    if (row.kind === 'unit') return { kind: 'unit', unit: row.unit.name, target: targetOf(state, { kind: 'unit', host: row.host, unit: row.unit.name }) };
    const { pid } = row.listener;
    if (pid === null) return null;
    // Every port the PID holds counts, not only this row's.
    const ports = (state.status?.hosts.find((h) => h.name === row.host)?.listeners ?? []).filter((l) => l.pid === pid).map((l) => l.port);
    return { kind: 'pid', pid, command: row.listener.command, target: targetOf(state, { kind: 'pid', host: row.host, pid, unit: row.listener.unit, ports }) };
  }
  const name = state.selectedEnv;
  const env = name ? state.config.environments[name] : undefined;
  if (!name || !env) return null;
  const host = environmentHost(state, name);
  if (env.unit) return { kind: 'unit', unit: env.unit, target: targetOf(state, { kind: 'unit', host, unit: env.unit, named: name }) };
  return { kind: 'host', target: targetOf(state, { kind: 'host', host, named: name }) };
}

/** A host-wide action (daemon-reload) from the selection: it touches every environment of the host. */
export function hostWideTarget(state: AppState, selection: Selection): Target {
  return targetOf(state, { kind: 'host', host: selection.target.host, named: selection.target.environment });
}

/** Operations left open on the hosts that are not going on now: to resume or roll back (the header shows them, the palette offers them). */
export function stuckOperations(state: Pick<AppState, 'openOperations'>): OpenOperation[] {
  return state.openOperations.filter((o) => !IN_PROGRESS.includes(o.status));
}
