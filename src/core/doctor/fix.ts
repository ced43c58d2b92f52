// A finding's fix, built into an operation when it is chosen: the plan says which builder with
// which arguments (finding.ts); the target, its protection and the live details (where drop-ins
// go, the backup policy) are asked now, as `opsdeck unit override` and `backup create` ask them.
// The operation then goes through the one runner (preview, confirmation, lock, audit, undo).
import type { Config } from '../../config/schema.js';
import { createBackupOperation } from '../backups/plans.js';
import { resolvePolicy } from '../backups/policy.js';
import type { HostRegistry } from '../host/registry.js';
import type { Operation } from '../ops/operation.js';
import { dropInDirectory, parseSetting, unitOverrideOperation } from '../ops/plans.js';
import { environmentTarget, resolveUnitTarget } from '../ops/target.js';
import { UsageError } from '../text/errors.js';
import type { Finding } from './finding.js';

export async function buildFixOperation(config: Config, hosts: HostRegistry, finding: Finding, configFile: string | null): Promise<Operation> {
  const fix = finding.fix;
  if (!fix) throw new UsageError(`${finding.id} has no fix opsdeck can apply`, finding.note ?? undefined);
  const plan = fix.plan;
  const env = config.environments[plan.environment];
  if (!env) throw new UsageError(`environment ${plan.environment} is not in ${configFile ?? 'the config'}`);
  const reason = `doctor: ${finding.id}: ${finding.title}`;
  switch (plan.kind) {
    case 'unit-override': {
      const where = await resolveUnitTarget(config, hosts, plan.environment, configFile);
      const op = unitOverrideOperation(where, {
        unit: plan.unit,
        settings: plan.settings.map((s) => parseSetting(s, plan.unit)),
        dropInDir: await dropInDirectory(hosts.get(where.host)),
        probe: env.health,
      });
      op.details = [reason, ...op.details];
      return op;
    }
    case 'backup-create': {
      const policy = { ...resolvePolicy(plan.environment, env, configFile), source: plan.source };
      return createBackupOperation(environmentTarget(config, hosts, plan.environment), { environment: plan.environment, policy, unit: env.unit, details: [reason] });
    }
  }
}
