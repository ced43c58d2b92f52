// The doctor: a status refresh (one `systemctl show` per host, as status does; it has the
// failing units' journal lines and the per-host looks of host-checks.ts already), then only the
// facts its rules need beyond that: the cwd, data-dir variables, written files and age of a
// process holding a port outside any unit. Then the same rules status runs (rules.ts), with
// those facts. It reads only.
import type { Config } from '../../config/schema.js';
import type { Host } from '../host/host.js';
import type { HostRegistry } from '../host/registry.js';
import { parseProcClues, procCluesArgv } from '../backups/sanity-facts.js';
import { readUnitJournals } from '../status/unit-journal.js';
import { collectStatus, type CollectOptions } from '../status/collect.js';
import { isValidUnitName, listUnits, showUnits } from '../systemd/units.js';
import type { EnvironmentStatus, StatusReport } from '../status/report.js';
import { describeError } from '../text/errors.js';
import { sanitizeLine } from '../text/sanitize.js';
import { bySeverity, isAlarm, type Finding } from './finding.js';
import { environmentFindings, type EnvironmentFacts, type JournalFacts, type ProcessFacts } from './rules.js';
import type { ConfigFacts } from './rules-config.js';
import { failingUnits, hostFindings } from './rules-host.js';


export interface DoctorReport {
  collectedAt: string;
  durationMs: number;
  /** Every finding, most severe first. */
  findings: Finding[];
  /** Per environment, in the config's order. */
  environments: Array<{ name: string; host: string; findings: Finding[] }>;
  /** Facts the doctor could not gather (the findings then say what they can without them). */
  errors: string[];
}

export interface DoctorFacts {
  status: StatusReport;
  /** Per environment, what the rules read. */
  environments: Array<EnvironmentFacts & ConfigFacts>;
  errors: string[];
}

/** A refresh, then the few facts more the rules need where something is already wrong. */
export async function gatherDoctorFacts(config: Config, hosts: HostRegistry, only?: readonly string[], options: CollectOptions = {}): Promise<DoctorFacts> {
  const status = await collectStatus(config, hosts, only, options);
  // The per-host looks that could not be asked, once each (every environment that needed one says so).
  const errors: string[] = [...new Set(status.environments.flatMap((e) => e.checks?.errors ?? []))];
  const hostErrors = new Map(status.hosts.map((h) => [h.name, h.error]));
  const environments = await Promise.all(
    status.environments.map(async (envStatus): Promise<EnvironmentFacts & ConfigFacts> => {
      const env = config.environments[envStatus.name]!;
      const hostError = hostErrors.get(envStatus.host) ?? null;
      const host = hosts.get(env.host);
      const processes = hostError ? [] : await unmanagedProcesses(host, envStatus, errors, options.signal);
      return { environment: envStatus.name, env, status: envStatus, hostError, journal: envStatus.journal, processes, ...envStatus.checks, peers: config.environments, now: Date.now() };
    }),
  );
  return { status, environments, errors };
}

/** The findings of every environment (or of `only`), from facts gathered now. */
export async function runDoctor(config: Config, hosts: HostRegistry, only?: readonly string[], options: CollectOptions = {}): Promise<DoctorReport> {
  const started = performance.now();
  return doctorReport(await gatherDoctorFacts(config, hosts, only, options), Math.round(performance.now() - started));
}

/** The rules over gathered facts (pure). */
export function doctorReport(facts: DoctorFacts, durationMs = 0): DoctorReport {
  const environments = facts.environments.map((f) => ({ name: f.environment, host: f.status.host, findings: environmentFindings(f) }));
  return {
    collectedAt: facts.status.collectedAt,
    durationMs,
    findings: environments.flatMap((e) => e.findings).sort(bySeverity),
    environments,
    errors: facts.errors,
  };
}

export interface HostDoctorReport {
  collectedAt: string;
  durationMs: number;
  host: string;
  /** The host's failed and crash-looping services, most severe first. */
  findings: Finding[];
  /** How many loaded services were looked at. */
  units: number;
  /** Facts that could not be gathered (the findings then say what they can without them). */
  errors: string[];
}

/** The journals of at most this many failing units are read (a host where everything fails needs no more to say so). */
const HOST_JOURNALS = 20;

/** Without environments: every failed or crash-looping service of a host, with its cause.
 *  Two commands: the list of services, then one `systemctl show` of all loaded ones (a
 *  crash-looping service can look active between two crashes: its NRestarts tells); and, when
 *  some fail, their journals (at most HOST_JOURNALS, crash-looping ones first). */
export async function runHostDoctor(host: Host, options: { signal?: AbortSignal } = {}): Promise<HostDoctorReport> {
  const started = performance.now();
  const collectedAt = new Date().toISOString();
  const listed = await listUnits(host, options);
  const names = listed.filter((u) => u.loadState === 'loaded' && isValidUnitName(u.name)).map((u) => u.name);
  const units = [...(await showUnits(host, names, options)).values()];
  const errors: string[] = [];
  // Crash-looping ones first: caught running between two crashes, only their journal tells why.
  const failing = failingUnits(units).sort((a, b) => Number(b.crashLooping) - Number(a.crashLooping));
  const journals = await failingJournals(host, failing.slice(0, HOST_JOURNALS).map((u) => u.name), errors, options.signal);
  return { collectedAt, durationMs: Math.round(performance.now() - started), host: host.name, findings: hostFindings(units, host.name, journals), units: units.length, errors };
}

/**
 * The newest notice-or-worse lines of each unit, one read per unit (at once): in one read of
 * them all, a noisy unit's lines would push out another's "Main process exited".
 */
async function failingJournals(host: Host, units: string[], errors: string[], signal?: AbortSignal): Promise<Map<string, JournalFacts>> {
  const read = await Promise.all(
    units.map(async (unit) => {
      try {
        return (await readUnitJournals(host, [unit], { signal })).get(unit) ?? null;
      } catch (error) {
        errors.push(sanitizeLine(`the journal of ${unit}: ${describeError(error)}`));
        return null;
      }
    }),
  );
  return new Map(read.filter((j) => j !== null).map((j) => [j.unit, j]));
}

/** Is anything above info? (exit code 1) */
export function doctorAlarms(report: Pick<DoctorReport, 'findings'>): boolean {
  return report.findings.some(isAlarm);
}

/**
 * What the processes on the environment's ports that no unit holds are: their cwd, the data-dir
 * variables of their environment and the files they have open for writing (the one /proc read
 * source sanity makes), and how long they have run (ps): two commands for all of them.
 */
async function unmanagedProcesses(host: Host, status: EnvironmentStatus, errors: string[], signal?: AbortSignal): Promise<ProcessFacts[]> {
  const pids = [...new Set(status.listeners.filter((l) => l.pid !== null && l.unit === null).map((l) => l.pid!))];
  if (pids.length === 0) return [];
  const options = { okExitCodes: [0, 1], ...(signal ? { signal } : {}) };
  try {
    const [proc, ps] = await Promise.all([host.run(procCluesArgv(pids), { ...options, maxOutputBytes: 8 << 20 }), host.run(['ps', '-o', 'pid=,etimes=', '-p', pids.join(',')], options)]);
    const clues = parseProcClues(proc.stdoutBytes, pids.map((pid) => ({ pid, role: '', roleFrom: '' })));
    const ages = new Map<number, number>();
    for (const line of ps.stdout.split('\n')) {
      const match = /^\s*(\d+)\s+(\d+)\s*$/.exec(line);
      if (match) ages.set(Number(match[1]), Number(match[2]));
    }
    return clues.map((c) => ({ pid: c.pid, cwd: c.cwd, dataEnv: c.dataEnv, writing: c.writing, runningSec: ages.get(c.pid) ?? null }));
  } catch (error) {
    errors.push(sanitizeLine(`${status.name}: the processes on its ports: ${describeError(error)}`));
    return [];
  }
}
