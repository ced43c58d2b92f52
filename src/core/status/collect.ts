// One refresh of every environment: per host, one `systemctl show` for all units, one read of
// /proc/net/tcp (+ a find and a grep over /proc the first time a socket or PID is seen), one
// curl for every health probe, and per environment a backups listing, all in parallel; then,
// with the slow parts, the doctor's per-host looks (host-checks.ts). Problems are the doctor's
// findings (core/doctor/rules.ts) above info: one set of rules and the same facts for both.
import type { Config, EnvironmentConfig } from '../../config/schema.js';
import { hostChecks } from '../doctor/host-checks.js';
import { environmentFindings, problemsOf } from '../doctor/rules.js';
import type { ConfigFacts } from '../doctor/rules-config.js';
import { listArchives, newestAge, type BackupListing } from '../backups/listing.js';
import { catalogOf } from '../backups/catalog.js';
import { scheduleUnits } from '../backups/plans.js';
import { resolvePolicy } from '../backups/policy.js';
import { checkSourceSanity, type SanityInput, type SourceSanity } from '../backups/sanity.js';
import { OpsdeckError, describeError } from '../text/errors.js';
import { probeHealthAll, type HealthResult } from './health.js';
import type { EnvironmentStatus, Problem, StatusReport, UnitJournal } from './report.js';
import { isFailing, readUnitJournals } from './unit-journal.js';
import type { Host } from '../host/host.js';
import type { HostRegistry } from '../host/registry.js';
import { listListeners } from '../systemd/listeners.js';
import { sanitizeLine } from '../text/sanitize.js';
import { environmentUnits, showUnits, type UnitStatus } from '../systemd/units.js';
export type { EnvironmentStatus, HostStatus, Problem, Severity, StatusReport } from './report.js';

export interface CollectOptions {
  signal?: AbortSignal | undefined;
  /** A recent report whose slow-changing parts (backups listing, tools count, a failing unit's
   *  journal, the doctor's per-host looks) are reused instead of asked again, so a frequent
   *  refresh spawns fewer processes. */
  reuseSlow?: StatusReport | undefined;
  /** The report before: CPU throttling is judged since its looks' read (or the one before that), when at least 10 s old; else since each unit started. */
  previous?: StatusReport | null | undefined;
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
  const results = await Promise.all([...byHost.entries()].map(([host, envs]) => collectHost(host, envs, config.environments, options)));
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

async function collectHost(host: Host, envs: Array<[string, EnvironmentConfig]>, peers: ConfigFacts['peers'], { signal, reuseSlow, previous }: CollectOptions) {
  const options = signal ? { signal } : {};
  // With each environment's units, opsdeck's backup timer where it has backups (in the same one
  // show): whether the backups run on their schedule decides how old the newest may be.
  const units = envs.flatMap(([name, env]) => [...environmentUnits(env), ...(env.backups ? [scheduleUnits(name).timer] : [])]);
  // Everything starts at once: a refresh costs the slowest command, not the sum of them.
  const unitsP = settle(showUnits(host, units, options));
  const listenersP = settle(listListeners(host, options));
  const plans = envs.map(([name, env]) => {
    // Each slow part is reused only when it was got (a listing without error, a tools count, a
    // journal): one that failed is asked again, and does not make the others be asked again.
    const reused = reuseSlow?.environments.find((e) => e.name === name && e.host === host.name);
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
      const unit = env.unit ? (unitMap.get(env.unit) ?? null) : null;
      const backupSanity = hostError || !backups.value ? null : plan.reused?.backups && !plan.reused.backups.error ? (plan.reused.backupSanity ?? null) : await sanityOf(host, name, env, backups.value, { unit, listeners: allListeners }, options);
      let journal: UnitJournal | null = null;
      if (!hostError && isFailing(unit)) {
        // Read when it starts failing, then with the slow parts: a crash loop does not cost a read every refresh.
        const reused = plan.reused?.journal;
        if (reused && reused.unit === unit.name) journal = reused;
        else {
          try {
            journal = (await readUnitJournals(host, [unit.name], options)).get(unit.name) ?? null;
          } catch (error) {
            errors.push(`journal of ${unit.name}: ${describeError(error)}`);
          }
        }
      }
      const status: EnvironmentStatus = {
        name,
        host: host.name,
        transport: host.transport,
        protected: env.protected,
        unit,
        relatedUnits: env.relatedUnits.map((u) => unitMap.get(u)).filter((u): u is UnitStatus => u !== undefined),
        health: hostError ? null : health,
        listeners: allListeners.filter((l) => env.ports.includes(l.port)),
        backups: hostError ? null : backups.value,
        backupSanity,
        backupTimer: env.backups ? (unitMap.get(scheduleUnits(name).timer) ?? null) : null,
        journal,
        checks: null,
        problems: [],
        errors: hostError ? [hostError] : errors,
      };
      return status;
    }),
  );
  if (!hostError) {
    // One set of looks for all the host's environments, reused with the other slow parts while recent (their errors with them: asked again at the next slow refresh).
    const of = (report: StatusReport | null | undefined, name: string) => report?.environments.find((e) => e.name === name && e.host === host.name)?.checks ?? null;
    const reused = envs.map(([name]) => of(reuseSlow, name));
    const before = (name: string) => of(previous, name);
    const checks = reused.every((c) => c !== null) ? reused : await hostChecks(host, environments.map((status, i) => ({ env: envs[i]![1], status, previous: before(status.name) })), signal);
    environments.forEach((status, i) => (status.checks = checks[i] ?? null));
  }
  for (const [i, status] of environments.entries()) status.problems = diagnose(envs[i]![1], status, hostError, peers);
  return { host, hostError, environments, listeners: allListeners };
}

/** Source sanity of an environment's backups, or null when it has no source to judge (or it could not be asked). */
async function sanityOf(host: Host, name: string, env: EnvironmentConfig, listing: BackupListing, known: SanityInput['known'], options: { signal?: AbortSignal }): Promise<SourceSanity | null> {
  if (!env.backups || listing.error) return null;
  try {
    // No policy (no source to judge): nothing to say here; `backup list` says why.
    const policy = resolvePolicy(name, env, null);
    const catalog = await catalogOf(host, listing, policy, options);
    return await checkSourceSanity(host, { envName: name, env, policy, archives: catalog.entries, known }, options);
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

/** What is wrong with an environment, most severe first: the doctor's rules over what a refresh collected (and the config's other environments, `peers`). */
export function diagnose(env: EnvironmentConfig, status: EnvironmentStatus, hostError: string | null, peers?: ConfigFacts['peers']): Problem[] {
  return problemsOf(environmentFindings({ environment: status.name, env, status, hostError, journal: status.journal, ...status.checks, ...(peers ? { peers } : {}) }));
}
