// What an action acts on, decided from what the target *is*, however it was named: a unit
// (by its environment's name or its own, on any host), a PID (by its cgroup and the ports it
// holds), or a whole host (daemon-reload). The environments it touches bring their protection
// (a typed confirmation) and their read-only flag; naming the target another way, or through
// --host, never sheds them.
import type { Config } from '../../config/schema.js';
import { UsageError } from '../text/errors.js';
import type { Host } from '../host/host.js';
import type { HostRegistry } from '../host/registry.js';
import { commandLine, listListeners, readProcesses } from '../systemd/listeners.js';
import { quoteUntrusted, sanitizeLine } from '../text/sanitize.js';
import { environmentUnits, normalizeUnitName, showUnits } from '../systemd/units.js';
import { processStartTime } from '../host/process-start.js';
import { protectionOf } from './policy.js';

export interface Target {
  /** The host the commands run on (as named in the config, --host applied). */
  host: string;
  /** Every environment the action touches: their protection and read-only flags apply. */
  environments: string[];
  /** The environment named, or the one that owns the target: shown and audited. */
  environment: string | null;
  /** A protected environment is touched: its name must be typed to confirm. */
  protected: boolean;
  /** What must be typed to confirm, when protected: the environment's name (the host's when several are). */
  phrase: string | null;
}

/** What is known of the thing acted on. `named`: the environment the operator named, if any. */
export type TargetFacts =
  | { kind: 'unit'; host: string; unit: string; named?: string | null }
  | { kind: 'host'; host: string; named?: string | null }
  | { kind: 'pid'; host: string; pid: number; unit: string | null; ports: readonly number[]; named?: string | null };

/**
 * The one rule: which environments a target touches. `hostOf` gives an environment's host as
 * commands reach it (--host applied). A unit touches the environments on its host that have
 * it; a PID those whose units hold it or whose ports it listens on; a host all of its own.
 */
export function decideTarget(config: Config, hostOf: (environment: string) => string, facts: TargetFacts): Target {
  const onHost = Object.keys(config.environments).filter((name) => hostOf(name) === facts.host);
  const units = (name: string) => environmentUnits(config.environments[name]!);
  const environments = onHost.filter((name) => {
    if (facts.kind === 'host') return true;
    if (facts.kind === 'unit') return units(name).includes(facts.unit);
    return (facts.unit !== null && units(name).includes(facts.unit)) || facts.ports.some((port) => config.environments[name]!.ports.includes(port));
  });
  if (facts.named && !environments.includes(facts.named)) environments.unshift(facts.named);
  return { host: facts.host, environments, environment: facts.named ?? environments[0] ?? null, ...protectionOf(config, environments, facts.host) };
}

/**
 * Every host operations may be journaled on: each environment's, each configured host, and
 * this machine (a PID or a unit of no environment is acted on, and journaled, where it is).
 */
export function operationHostNames(config: Config, hosts: HostRegistry): string[] {
  const hostOf = hostResolver(config, hosts);
  return [...new Set([...Object.keys(config.environments).map(hostOf), ...hosts.names().map((n) => hosts.effectiveName(n))])];
}

/** An environment's host as commands reach it: --host, when given, is every environment's host. */
export function hostResolver(config: Config, hosts: HostRegistry): (environment: string) => string {
  return (environment) => hosts.effectiveName(config.environments[environment]!.host);
}

/** The closest of some names to a mistyped one (at most a third of its letters off), if any. */
export function closest(name: string, candidates: readonly string[]): string | null {
  let best: { candidate: string; distance: number } | null = null;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance <= Math.max(1, Math.floor(candidate.length / 3)) && (!best || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate ?? null;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length]!;
}

export interface UnitTarget extends Target {
  unit: string;
}

/**
 * ENV or UNIT, as `opsdeck unit` takes it. An environment gives its unit on its host; a unit
 * of some environment is looked up on that environment's host; any other unit must exist on
 * the host it would run on: a mistyped environment is an error with a suggestion, never a
 * command on the local host. `mustExist: false` (reading a journal: a unit long gone still
 * has one) skips asking the host, not the typo check.
 */
export async function resolveUnitTarget(config: Config, hosts: HostRegistry, name: string, configFile: string | null, { mustExist = true }: { mustExist?: boolean } = {}): Promise<UnitTarget> {
  const hostOf = hostResolver(config, hosts);
  const env = config.environments[name];
  if (env) {
    if (!env.unit) throw new UsageError(`environment ${name} has no unit`, `add unit: NAME to it in ${configFile ?? 'opsdeck.yaml'}`);
    return { ...decideTarget(config, hostOf, { kind: 'unit', host: hostOf(name), unit: env.unit, named: name }), unit: env.unit };
  }
  // A bare name one slip away from an environment's is that environment mistyped: say so
  // before asking any host (`prodution.service` written out is still looked up).
  if (!name.includes('.') && closest(name, Object.keys(config.environments))) throw unknownTargetError(config, name, configFile, 'nor a unit');
  let unit: string;
  try {
    unit = normalizeUnitName(name);
  } catch {
    throw unknownTargetError(config, name, configFile, 'nor a valid unit name');
  }
  const owner = Object.keys(config.environments).find((e) => environmentUnits(config.environments[e]!).includes(unit));
  const host = owner ? hostOf(owner) : hosts.effectiveName('local');
  if (!owner && mustExist) {
    const found = (await showUnits(hosts.get(host), [unit])).get(unit);
    if (!found || found.loadState === 'not-found') throw unknownTargetError(config, name, configFile, `nor a unit on host ${host}`);
  }
  return { ...decideTarget(config, hostOf, { kind: 'unit', host, unit }), unit };
}

/** The host a name stands for, for host-wide actions (daemon-reload): an environment's, or a unit's. */
export async function resolveHostTarget(config: Config, hosts: HostRegistry, name: string, configFile: string | null): Promise<Target> {
  const hostOf = hostResolver(config, hosts);
  if (config.environments[name]) return decideTarget(config, hostOf, { kind: 'host', host: hostOf(name), named: name });
  const { host } = await resolveUnitTarget(config, hosts, name, configFile);
  return decideTarget(config, hostOf, { kind: 'host', host });
}

function unknownTargetError(config: Config, name: string, configFile: string | null, nor: string): UsageError {
  const environments = Object.keys(config.environments);
  const suggestion = closest(name, environments);
  return new UsageError(
    `${quoteUntrusted(name)} is neither an environment${configFile ? ` in ${configFile}` : ''} ${nor}`,
    suggestion ? `did you mean ${suggestion}? (environments: ${environments.join(', ')})` : environments.length > 0 ? `environments: ${environments.join(', ')}; or name an existing unit such as nginx.service` : 'name an existing unit such as nginx.service, or define environments in opsdeck.yaml',
  );
}

export interface ProcessDescription {
  pid: number;
  /** Command line, sanitized. */
  command: string;
  /** Working directory, sanitized; null when it cannot be read. */
  cwd: string | null;
  unit: string | null;
  /** Ports it listens on. */
  ports: number[];
  /** Its start time (clock ticks since boot): a PID is only this process while this matches. */
  startTime: string;
}

/** What a PID is on a host: its command line, working directory, unit and ports; null when there is no such process. */
export async function describeProcess(host: Host, pid: number): Promise<ProcessDescription | null> {
  const [facts, cwd, listeners, startTime] = await Promise.all([
    readProcesses(host, [pid]),
    // %l is the link's target: the kernel's text, NUL-terminated (a directory name may hold a newline).
    host.run(['find', `/proc/${pid}/cwd`, '-maxdepth', '0', '-printf', '%l\\0'], { okExitCodes: [0, 1] }),
    listListeners(host),
    processStartTime(host, pid),
  ]);
  const process = facts.get(pid);
  if (!process || startTime === null) return null;
  // The facts were read in parallel: the PID must still be the same process after all of them
  // (a PID recycled in between would pair one process's command with another's start time).
  if ((await processStartTime(host, pid)) !== startTime) return null;
  const dir = cwd.stdout.split('\0')[0];
  return {
    pid,
    command: commandLine(process.argv) || `[${sanitizeLine(process.name)}]`,
    cwd: dir ? sanitizeLine(dir) : null,
    unit: process.unit,
    ports: [...new Set(listeners.filter((l) => l.pid === pid).map((l) => l.port))],
    startTime,
  };
}

export interface PidTarget extends Target {
  process: ProcessDescription;
}

/**
 * A PID, as `opsdeck kill PID [--env E]` takes it: on E's host (else --host, else local); the
 * environments it belongs to (by unit or port) decide protection and read-only. Named with
 * --env, it must belong to that environment, unless forced.
 */
export async function resolvePidTarget(config: Config, hosts: HostRegistry, pid: number, options: { env?: string | undefined; force?: boolean | undefined }): Promise<PidTarget> {
  const hostOf = hostResolver(config, hosts);
  const host = options.env ? hostOf(options.env) : hosts.effectiveName('local');
  const process = await describeProcess(hosts.get(host), pid);
  if (!process) throw new UsageError(`there is no process ${pid} on host ${host}`, 'check the PID (opsdeck status shows who holds each port)');
  const facts: TargetFacts = { kind: 'pid', host, pid, unit: process.unit, ports: process.ports };
  const belongs = decideTarget(config, hostOf, facts);
  if (options.env && !belongs.environments.includes(options.env)) {
    const env = config.environments[options.env]!;
    if (!options.force) {
      throw new UsageError(
        `PID ${pid} (${process.command}) is not part of environment ${options.env}: ${process.unit ? `it runs in ${process.unit}` : 'it runs in no unit'}, not in ${environmentUnits(env).join(', ') || 'its units (none)'}, and holds ${process.ports.length > 0 ? `port ${process.ports.join(', ')}` : 'no port'}, not ${env.ports.join(', ') || 'its ports (none)'}`,
        'check the PID, or pass --force to kill it anyway (it is then treated as part of the environment)',
      );
    }
  }
  return { ...decideTarget(config, hostOf, { ...facts, named: options.env ?? null }), process };
}

/** An environment itself as the target (its backups): its host, its protection. */
export function environmentTarget(config: Config, hosts: HostRegistry, environment: string): Target {
  const host = hostResolver(config, hosts)(environment);
  return { host, environments: [environment], environment, ...protectionOf(config, [environment], host) };
}
