// Who may do what where: which environment a unit belongs to (so protection follows the unit
// even when named directly), and whether read-only mode applies to an action.
import type { Config } from '../config/schema.js';
import type { Action } from './actions.js';
import { AuditLog, defaultAuditPath } from './audit.js';
import { normalizeUnitName } from './systemd.js';

export interface ResolvedTarget {
  host: string;
  environment: string | null;
  protected: boolean;
  unit: string | null;
}

/** ENV or UNIT, as the CLI and the palette accept it. */
export function resolveTarget(config: Config, nameOrUnit: string, hostOverride?: string): ResolvedTarget {
  const env = config.environments[nameOrUnit];
  if (env) return { host: hostOverride ?? env.host, environment: nameOrUnit, protected: env.protected, unit: env.unit ?? null };
  const unit = normalizeUnitName(nameOrUnit);
  // A unit that belongs to an environment carries its protection, even when named directly
  // or reached through --host; without --host, the environment that has it decides the host.
  for (const [name, e] of Object.entries(config.environments)) {
    if (e.unit === unit || e.relatedUnits.includes(unit)) return { host: hostOverride ?? e.host, environment: name, protected: e.protected, unit };
  }
  return { host: hostOverride ?? 'local', environment: null, protected: false, unit };
}

export function readonlyPolicy(config: Config, globalReadonly: boolean): (action: Pick<Action, 'host' | 'environment'>) => boolean {
  return (action) =>
    globalReadonly ||
    config.readonly ||
    Boolean(config.hosts[action.host]?.readonly) ||
    Boolean(action.environment && config.environments[action.environment]?.readonly);
}

/** Read-only everywhere (nothing mutating is even shown). */
export function fullyReadonly(config: Config, globalReadonly: boolean): boolean {
  return globalReadonly || config.readonly;
}

export function auditLogFor(config: Config): AuditLog {
  return new AuditLog(config.auditLog ?? defaultAuditPath());
}
