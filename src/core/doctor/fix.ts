// A finding's fix, built into an operation when it is chosen: the plan says which builder with
// which arguments (finding.ts); the target, its protection and the live details (where drop-ins
// go, the backup policy) are asked now, as `opsdeck unit override` and `backup create` ask them.
// The operation then goes through the one runner (preview, confirmation, lock, audit, undo).
import type { Config } from '../../config/schema.js';
import { createBackupOperation } from '../backups/plans.js';
import { resolvePolicy } from '../backups/policy.js';
import type { HostRegistry } from '../host/registry.js';
import type { Operation } from '../ops/operation.js';
import { adoptOperation, daemonReloadOperation, dropInDirectory, killPidOperation, parseSetting, unitOverrideOperation } from '../ops/plans.js';
import { readLaunch } from '../ops/relaunch.js';
import { environmentTarget, resolveHostTarget, resolvePidTarget, resolveUnitTarget } from '../ops/target.js';
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
        ...(plan.restart === false ? { restart: false } : {}),
      });
      op.details = [reason, ...op.details];
      return op;
    }
    case 'adopt': {
      const where = await resolvePidTarget(config, hosts, plan.pid, { env: plan.environment });
      const launch = await readLaunch(hosts.get(where.host), plan.pid);
      if (!launch) throw new UsageError(`cannot read how PID ${plan.pid} was started on host ${where.host} (gone, or not readable to this user)`, `run opsdeck as root on host ${where.host}, or stop it instead: opsdeck kill ${plan.pid} --env ${plan.environment}`);
      const op = adoptOperation(where, { unit: plan.unit, port: plan.port, probe: env.health, launch });
      op.details = [reason, ...op.details];
      return op;
    }
    case 'stop-pid': {
      const op = killPidOperation(plan.pid, await resolvePidTarget(config, hosts, plan.pid, { env: plan.environment }));
      op.details = [reason, ...op.details];
      return op;
    }
    case 'backup-create': {
      const policy = { ...resolvePolicy(plan.environment, env, configFile), source: plan.source };
      return createBackupOperation(environmentTarget(config, hosts, plan.environment), { environment: plan.environment, policy, unit: env.unit, details: [reason] });
    }
    case 'daemon-reload': {
      const op = daemonReloadOperation(await resolveHostTarget(config, hosts, plan.environment, configFile));
      op.details = [reason, ...op.details];
      return op;
    }
  }
}
