// Runs one operation (a JSON file) with the real runner, confirmed as --yes, printing its events
// as JSON lines: for tests that need an operation no verb plans (a detached command step) or
// that kill the runner in the middle. Usage: node --import tsx run-operation.ts CONFIG OP.json
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../src/config/load.js';
import { HostRegistry } from '../../src/core/host/registry.js';
import type { Operation } from '../../src/core/ops/operation.js';
import { runnerPolicies } from '../../src/core/ops/policy.js';
import { OperationRunner } from '../../src/core/ops/runner.js';

const [configFile, opFile] = process.argv.slice(2) as [string, string];
const { config } = loadConfig(configFile);
const hosts = new HostRegistry(config);
const runner = new OperationRunner({ hostFor: (n) => hosts.get(n), ...runnerPolicies(config, false, (env) => config.environments[env]!.host) });
const op = JSON.parse(readFileSync(opFile, 'utf8')) as Operation;
const result = await runner.run(op, { kind: 'yes-flag' }, { onEvent: (e) => process.stdout.write(JSON.stringify(e) + '\n') });
process.stdout.write(JSON.stringify({ type: 'result', result }) + '\n');
await hosts.closeAll();
