// A host registry in which every host name resolves to one given Host (a ScriptedHost, a
// ReplayHost playing a recording, a RecordingHost recording one): the console's store and the
// CLI's core calls then talk to it whatever the config names.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import type { Host } from '../../src/core/host/host.js';
import { HostRegistry } from '../../src/core/host/registry.js';
import { AuditLog } from '../../src/core/ops/audit.js';
import { runnerPolicies } from '../../src/core/ops/policy.js';
import { OperationRunner } from '../../src/core/ops/runner.js';
import { createAppStore, type AppStore } from '../../src/store/app-store.js';

export class OneHost extends HostRegistry {
  constructor(
    config: ConstructorParameters<typeof HostRegistry>[0],
    private readonly host: Host,
  ) {
    super(config);
  }
  override get(): Host {
    return this.host;
  }
}

/** A console store of `yaml` (named `file`) whose every host is `host`, with an audit log of its own (removed by cleanup). */
export function storeOnOneHost(host: Host, yaml: string, file: string, options: { readonly?: boolean; now?: () => number } = {}): { store: AppStore; cleanup: () => void } {
  const config = parseConfig(yaml, file);
  const auditDir = mkdtempSync(path.join(tmpdir(), 'opsdeck-audit-'));
  const hosts = new OneHost(config, host);
  const readonly = options.readonly ?? false;
  const runner = new OperationRunner({ hostFor: () => host, ...runnerPolicies(config, readonly, (env) => config.environments[env]!.host), audit: new AuditLog(path.join(auditDir, 'audit.jsonl')) });
  const store = createAppStore({ config, configFile: file, hosts, runner, readonly, ...(options.now ? { now: options.now } : {}) });
  return { store, cleanup: () => rmSync(auditDir, { recursive: true, force: true }) };
}
