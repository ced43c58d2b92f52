// Who may do what where: whether read-only mode applies to an action (what an action touches
// is decided in target.ts), and where its audit log is.
import type { Config } from '../../config/schema.js';
import type { Operation } from './operation.js';
import { AuditLog, defaultAuditPath } from './audit.js';

export type PolicySubject = Pick<Operation, 'host' | 'environments'> & Partial<Pick<Operation, 'steps' | 'preflight'>>;

/** Read-only follows what an action touches: every host it acts on and every environment it reaches. */
export function readonlyPolicy(config: Config, globalReadonly: boolean): (action: PolicySubject) => boolean {
  return (action) => {
    const hosts = new Set([action.host, ...(action.steps ?? []).map((s) => s.host)]);
    return globalReadonly || config.readonly || [...hosts].some((h) => config.hosts[h]?.readonly) || action.environments.some((name) => config.environments[name]?.readonly);
  };
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
  return (op) => {
    const unknown = op.environments.filter((name) => !config.environments[name]);
    const guarded = op.environments.filter((name) => config.environments[name]?.protected);
    return { protected: guarded.length > 0, phrase: guarded.length === 0 ? null : guarded.length === 1 ? guarded[0]! : op.host, unknown };
  };
}

/** Read-only everywhere (nothing mutating is even shown). */
export function fullyReadonly(config: Config, globalReadonly: boolean): boolean {
  return globalReadonly || config.readonly;
}

export function auditLogFor(config: Config): AuditLog {
  return new AuditLog(config.auditLog ?? defaultAuditPath());
}

/** Everything the runner needs from the config: where to audit, what is read-only, what is protected. */
export function runnerPolicies(config: Config, globalReadonly: boolean): { audit: AuditLog; readonly: ReturnType<typeof readonlyPolicy>; protection: ReturnType<typeof protectionPolicy> } {
  return { audit: auditLogFor(config), readonly: readonlyPolicy(config, globalReadonly), protection: protectionPolicy(config) };
}
