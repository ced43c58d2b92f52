// Who may do what where: whether read-only mode applies to an action (what an action touches
// is decided in target.ts), and where its audit log is.
import type { Config } from '../../config/schema.js';
import type { Operation } from './operation.js';
import { AuditLog, defaultAuditPath } from './audit.js';

/** Read-only follows what an action touches: its host and every environment it reaches. */
export function readonlyPolicy(config: Config, globalReadonly: boolean): (action: Pick<Operation, 'host' | 'environments'>) => boolean {
  return (action) => globalReadonly || config.readonly || Boolean(config.hosts[action.host]?.readonly) || action.environments.some((name) => config.environments[name]?.readonly);
}

/** Read-only everywhere (nothing mutating is even shown). */
export function fullyReadonly(config: Config, globalReadonly: boolean): boolean {
  return globalReadonly || config.readonly;
}

export function auditLogFor(config: Config): AuditLog {
  return new AuditLog(config.auditLog ?? defaultAuditPath());
}
