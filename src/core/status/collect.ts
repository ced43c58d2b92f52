// One refresh of every environment: per host, one `systemctl show` for all units, one read of
// /proc/net/tcp (+ a find and a grep over /proc the first time a socket or PID is seen), one
// curl for every health probe, and per environment a backups listing, all in parallel. Problems are derived from what was collected.
import type { Config, EnvironmentConfig } from '../../config/schema.js';
import { listArchives, newestAge, type BackupListing } from '../backups/listing.js';
import { catalogOf } from '../backups/catalog.js';
import { checkSourceSanity, type SanityInput, type SourceSanity } from '../backups/sanity.js';
import { OpsdeckError, describeError } from '../text/errors.js';
import { probeHealthAll, type HealthResult } from './health.js';
import type { Host } from '../host/host.js';
import type { HostRegistry } from '../host/registry.js';
import { listListeners, type Listener } from '../systemd/listeners.js';
import { sanitizeLine } from '../text/sanitize.js';
import { environmentUnits, showUnits, type UnitStatus } from '../systemd/units.js';

export type Severity = 'critical' | 'warning';

export interface Problem {
  code: string;
  severity: Severity;
  message: string;
}

export interface EnvironmentStatus {
  name: string;
  host: string;
  transport: string;
  protected: boolean;
  unit: UnitStatus | null;
  relatedUnits: UnitStatus[];
  health: HealthResult | null;
  /** Sockets listening on the environment's ports. */
  listeners: Listener[];
  backups: BackupListing | null;
  /** Do the backups hold the data the service writes (sanity.ts)? Asked with the slow parts. */
  backupSanity: SourceSanity | null;
  problems: Problem[];
  /** What could not be collected, and why. */
  errors: string[];
}

export interface StatusReport {
  collectedAt: string;
  durationMs: number;
  environments: EnvironmentStatus[];
  hosts: HostStatus[];
}

export interface HostStatus {
  name: string;
  transport: string;
  reachable: boolean;
  error: string | null;
  /** Processes this refresh spawned on the host. */
  spawned: number;
  /** Every listening socket on the host (environments keep those on their ports). */
  listeners: Listener[];
}


/** A backup older than this is stale. */
const BACKUP_STALE_SEC = 26 * 3600;

export interface CollectOptions {
  signal?: AbortSignal | undefined;
  /** A recent report whose slow-changing parts (backups listing, tools count) are reused
   *  instead of asked again, so a frequent refresh spawns fewer processes. */
  reuseSlow?: StatusReport | undefined;
}

export async function collectStatus(config: Config, hosts: HostRegistry, only?: readonly string[], options: CollectOptions = {}): Promise<StatusReport> {
  const started = performance.now();
  const names = only && only.length > 0 ? [...only] : Object.keys(config.environments);
  const byHost = new Map<Host, Array<[string, EnvironmentConfig]>>();
  for (const name of names) {
    const env = config.environments[name]!;
    const host = hosts.get(env.host);
    byHost.set(host, [...(byHost.get(host) ?? []), [name, env]]);
  }
  const spawnedBefore = new Map([...byHost.keys()].map((h) => [h, h.stats.spawned]));
  const results = await Promise.all([...byHost.entries()].map(([host, envs]) => collectHost(host, envs, options)));
  const environments = results.flatMap((r) => r.environments);
  environments.sort((a, b) => names.indexOf(a.name) - names.indexOf(b.name));
  return {
    collectedAt: new Date().toISOString(),
    durationMs: Math.round(performance.now() - started),
    environments,
    hosts: results.map((r) => ({
      name: r.host.name,
      transport: r.host.transport,
      reachable: r.hostError === null,
      error: r.hostError,
      spawned: r.host.stats.spawned - (spawnedBefore.get(r.host) ?? 0),
      listeners: r.listeners,
    })),
  };
}

type Settled<T> = { value: T; error?: undefined } | { value: null; error: unknown };

/** A promise that never rejects: probes start at once and are looked at later, and a dead
 *  host fails them all before anyone awaits them. */
function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ value: null, error }),
  );
}

async function collectHost(host: Host, envs: Array<[string, EnvironmentConfig]>, { signal, reuseSlow }: CollectOptions) {
  const options = signal ? { signal } : {};
  const units = envs.flatMap(([, env]) => environmentUnits(env));
  // Everything starts at once: a refresh costs the slowest command, not the sum of them.
  const unitsP = settle(showUnits(host, units, options));
  const listenersP = settle(listListeners(host, options));
  const plans = envs.map(([name, env]) => {
    const reused = reuseSlow?.environments.find((e) => e.name === name && e.host === host.name && e.errors.length === 0);
    return { env, reused, reusedTools: reused?.health?.toolsCount ?? null };
  });
  // All health checks of the host in one curl, each answer kept apart (health.ts); tool counts
  // and backups reused while recent.
  const withHealth = plans.filter((p) => p.env.health);
  const healthAll = settle(
    probeHealthAll(
      host,
      withHealth.map(({ env, reusedTools }) => (reusedTools === null ? env.health! : { ...env.health!, rpcUrl: undefined, knownTools: reusedTools })),
      options,
    ),
  );
  const backupsP = plans.map((plan) =>
    settle(
      !plan.env.backups ? Promise.resolve(null) : plan.reused?.backups && !plan.reused.backups.error ? Promise.resolve(ageListing(plan.reused.backups)) : listArchives(host, plan.env.backups.dir, options),
    ),
  );
  const [unitsResult, listenersResult, healthResult] = await Promise.all([unitsP, listenersP, healthAll]);
  // If systemctl could not even be reached, the host is down: its other errors say nothing more.
  // Sanitized once here: the host's status, its environments' errors and their problem quote it.
  const hostError = unitsResult.error !== undefined && isHostLevel(unitsResult.error) ? sanitizeLine(describeError(unitsResult.error)) : null;
  const unitMap = unitsResult.value ?? new Map<string, UnitStatus>();
  const allListeners = listenersResult.value ?? [];
  const environments = await Promise.all(
    plans.map(async (plan, index): Promise<EnvironmentStatus> => {
      const [name, env] = envs[index]!;
      // A host that is down explains every other failure: that is the one error shown then.
      const errors: string[] = [];
      if (unitsResult.error !== undefined) errors.push(`units: ${describeError(unitsResult.error)}`);
      if (listenersResult.error !== undefined) errors.push(`listeners: ${describeError(listenersResult.error)}`);
      let health: HealthResult | null = null;
      if (env.health) {
        if (healthResult.error !== undefined) errors.push(`health: ${describeError(healthResult.error)}`);
        else {
          health = healthResult.value![withHealth.indexOf(plan)]!;
        }
      }
      const backups = await backupsP[index]!;
      if (backups.error !== undefined) errors.push(`backups: ${describeError(backups.error)}`);
      const backupSanity = hostError || !backups.value ? null : plan.reused?.backups && !plan.reused.backups.error ? (plan.reused.backupSanity ?? null) : await sanityOf(host, name, env, backups.value, { unit: env.unit ? (unitMap.get(env.unit) ?? null) : null, listeners: allListeners }, options);
      const status: EnvironmentStatus = {
        name,
        host: host.name,
        transport: host.transport,
        protected: env.protected,
        unit: env.unit ? (unitMap.get(env.unit) ?? null) : null,
        relatedUnits: env.relatedUnits.map((u) => unitMap.get(u)).filter((u): u is UnitStatus => u !== undefined),
        health: hostError ? null : health,
        listeners: allListeners.filter((l) => env.ports.includes(l.port)),
        backups: hostError ? null : backups.value,
        backupSanity,
        problems: [],
        errors: hostError ? [hostError] : errors,
      };
      status.problems = diagnose(env, status, hostError);
      return status;
    }),
  );
  return { host, hostError, environments, listeners: allListeners };
}

/** Source sanity of an environment's backups, or null when it has no source to judge (or it could not be asked). */
async function sanityOf(host: Host, name: string, env: EnvironmentConfig, listing: BackupListing, known: SanityInput['known'], options: { signal?: AbortSignal }): Promise<SourceSanity | null> {
  const source = env.backups?.source ?? env.dataDir;
  if (!env.backups || !source || listing.error) return null;
  try {
    const catalog = await catalogOf(host, listing, env.backups, options);
    return await checkSourceSanity(host, { envName: name, env, policy: { source }, archives: catalog.entries, known }, options);
  } catch {
    return null;
  }
}

/** A reused listing, its newest age brought up to now. */
function ageListing(listing: BackupListing): BackupListing {
  return { ...listing, newestAgeSec: newestAge(listing.newest) };
}

function isHostLevel(error: unknown): boolean {
  return error instanceof OpsdeckError && (error.kind === 'unreachable' || error.kind === 'timeout' || error.kind === 'lab' || error.kind === 'missing-tool');
}

/** What is wrong with an environment, most severe first. */
export function diagnose(env: EnvironmentConfig, status: EnvironmentStatus, hostError: string | null): Problem[] {
  const problems: Problem[] = [];
  if (hostError) problems.push({ code: 'host-unreachable', severity: 'critical', message: hostError });
  const unit = status.unit;
  if (unit) {
    if (unit.loadState === 'not-found') {
      problems.push({ code: 'unit-not-found', severity: 'critical', message: `${unit.name} does not exist on host ${status.host}` });
    } else if (unit.crashLooping) {
      const why = unit.result && unit.result !== 'success' ? `, last result ${unit.result}${unit.execMainStatus ? ` (exit status ${unit.execMainStatus})` : ''}` : '';
      const count = unit.nRestarts === 0 ? 'it failed and systemd is about to restart it' : `${unit.nRestarts} restart${unit.nRestarts === 1 ? '' : 's'}`;
      problems.push({ code: 'crash-loop', severity: 'critical', message: `${unit.name} is crash-looping: ${count}${why}` });
    } else if (unit.activeState === 'failed') {
      problems.push({ code: 'unit-failed', severity: 'critical', message: `${unit.name} has failed (result ${unit.result})` });
    } else if (unit.activeState !== 'active') {
      problems.push({ code: 'unit-inactive', severity: 'critical', message: `${unit.name} is ${unit.activeState}` });
    }
    if (unit.needDaemonReload) problems.push({ code: 'daemon-reload', severity: 'warning', message: `${unit.name} changed on disk: run daemon-reload` });
  }
  for (const port of env.ports) {
    const holders = status.listeners.filter((l) => l.port === port);
    if (holders.length === 0 && !hostError && status.errors.length === 0) {
      problems.push({ code: 'port-not-listening', severity: 'critical', message: `nothing listens on port ${port}` });
    }
    for (const holder of holders) {
      if (holder.pid === null) {
        // Other users' sockets show their owners only to root: without one, "no unit" would be a false alarm.
        problems.push({ code: 'port-owner-unknown', severity: 'warning', message: `port ${port} is listening, but its process is not visible (run opsdeck as root on host ${status.host} to see it)` });
      } else if (holder.unit === null) {
        problems.push({
          code: 'port-unmanaged',
          severity: 'critical',
          message: `port ${port} is held by PID ${holder.pid ?? '?'} (${holder.command || holder.process || 'unknown'}), which no systemd unit manages`,
        });
      } else if (env.unit && holder.unit !== env.unit) {
        problems.push({ code: 'port-other-unit', severity: 'warning', message: `port ${port} is held by ${holder.unit}, not ${env.unit}` });
      }
    }
  }
  if (status.health && !status.health.ok) {
    problems.push({ code: 'health-failing', severity: 'critical', message: `health check ${status.health.url} fails: ${status.health.failures.join('; ')}` });
  }
  const backups = status.backups;
  if (backups) {
    if (backups.error) problems.push({ code: 'backup-dir', severity: 'warning', message: `backups: ${backups.error}` });
    else if (!backups.newest) problems.push({ code: 'backup-none', severity: 'warning', message: `no backups in ${backups.dir}` });
    else if ((backups.newestAgeSec ?? 0) > BACKUP_STALE_SEC) {
      problems.push({ code: 'backup-stale', severity: 'warning', message: `newest backup ${backups.newest.name} is ${Math.round((backups.newestAgeSec ?? 0) / 3600)} h old` });
    }
  }
  const sanity = status.backupSanity;
  if (sanity?.verdict === 'stale-source') problems.push({ code: 'backup-source-stale', severity: 'critical', message: `backups would archive the wrong directory: ${sanity.summary}` });
  if (sanity?.verdict === 'archives-stale') problems.push({ code: 'backup-archives-stale', severity: 'critical', message: `the live data has no backup: ${sanity.summary}` });
  for (const error of status.errors) {
    if (!hostError) problems.push({ code: 'collect-error', severity: 'warning', message: error });
  }
  // Messages quote what the system said (errors, command lines, URLs): one sanitizer here
  // serves the CLI, the console and --json alike.
  return problems.map((p) => ({ ...p, message: sanitizeLine(p.message) })).sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'critical' ? -1 : 1));
}
