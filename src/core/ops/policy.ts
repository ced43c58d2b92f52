// Who may do what where: whether read-only mode applies to an action (what an action touches
// is decided in target.ts), and where its audit log is.
import type { Config } from '../../config/schema.js';
import type { Operation } from './operation.js';
import { operationHosts } from './stored-plan.js';
import { AuditLog, defaultAuditPath } from './audit.js';

export type PolicySubject = Pick<Operation, 'host' | 'environments'> & Partial<Pick<Operation, 'steps' | 'preflight'>>;

/** Read-only follows what an action touches: every host it acts on and every environment it reaches. */
export function readonlyPolicy(config: Config, globalReadonly: boolean): (action: PolicySubject) => boolean {
  return (action) => {
    const hosts = operationHosts({ steps: [], preflight: [], ...action });
    return globalReadonly || config.readonly || hosts.some((h) => config.hosts[h]?.readonly) || action.environments.some((name) => config.environments[name]?.readonly);
  };
}

/** The one rule of protection: a protected environment touched wants its name typed (the host's, when several are). */
export function protectionOf(config: Config, environments: readonly string[], host: string): { protected: boolean; phrase: string | null } {
  const guarded = environments.filter((name) => config.environments[name]?.protected);
  return { protected: guarded.length > 0, phrase: guarded.length === 0 ? null : guarded.length === 1 ? guarded[0]! : host };
}

export interface Protection {
  protected: boolean;
  /** What must be typed to confirm. */
  phrase: string | null;
  /** Environments the operation names that the config does not have: it is not acted on. */
  unknown: string[];
}

/**
 * Protection as the config says it now, over the environments an operation touches (the same
 * rule as target.ts): never as a plan says it, since a plan may have been stored on a host long
 * ago, or edited there.
 */
export function protectionPolicy(config: Config): (op: Pick<Operation, 'host' | 'environments'>) => Protection {
  return (op) => ({ ...protectionOf(config, op.environments, op.host), unknown: op.environments.filter((name) => !config.environments[name]) });
}

/** Read-only everywhere (nothing mutating is even shown). */
export function fullyReadonly(config: Config, globalReadonly: boolean): boolean {
  return globalReadonly || config.readonly;
}

export function auditLogFor(config: Config): AuditLog {
  return new AuditLog(config.auditLog ?? defaultAuditPath());
}

/**
 * Every environment a plan read back from a host may touch: the ones it names, and every
 * environment on a host any of its steps acts on. A stored plan's own list is not trusted
 * (it may be old, or edited on the host): resuming or rolling it back is confirmed, locked and
 * held to read-only as for everything on those hosts.
 */
export function storedScopePolicy(config: Config, hostOf: (environment: string) => string): (plan: Pick<Operation, 'host' | 'environments' | 'steps' | 'preflight'>) => string[] {
  return (plan) => {
    const hosts = operationHosts(plan);
    const onHosts = Object.keys(config.environments).filter((name) => hosts.includes(hostOf(name)));
    return [...new Set([...plan.environments, ...onHosts])];
  };
}

/** Everything the runner needs from the config: where to audit, what is read-only, what is protected, what a stored plan may touch. */
export function runnerPolicies(config: Config, globalReadonly: boolean, hostOf: (environment: string) => string) {
  return { audit: auditLogFor(config), readonly: readonlyPolicy(config, globalReadonly), protection: protectionPolicy(config), storedScope: storedScopePolicy(config, hostOf) };
}
