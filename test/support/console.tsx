// A console store fed with a status report recorded from the lab (real systemctl/ss/curl
// output, parsed), for component and state-machine tests that need no live host.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { render } from 'ink-testing-library';
import { onTestFinished } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { OperationRunner } from '../../src/core/ops/runner.js';
import { AuditLog } from '../../src/core/ops/audit.js';
import { runnerPolicies } from '../../src/core/ops/policy.js';
import type { Host } from '../../src/core/host/host.js';
import { HostRegistry } from '../../src/core/host/registry.js';
import type { StatusReport } from '../../src/core/status/collect.js';
import { createAppStore, type AppStore } from '../../src/store/app-store.js';
import { App } from '../../components/App.js';
import { noColorTheme } from '../../components/theme.js';
import { OneHost } from './one-host.js';

export const recordedReport = JSON.parse(readFileSync(new URL('../fixtures/status-report.json', import.meta.url), 'utf8')) as StatusReport;

const CONFIG = `
hosts:
  lab:
    transport: local   # nothing runs in these tests; local keeps previews simple
environments:
  production:
    host: lab
    protected: true
    unit: mcp-coordination.service
    relatedUnits: [mcp-backup.service, mcp-backup.timer]
    ports: [3444]
    backups: { dir: /var/lib/opsdeck-lab/srv/production-data-backups }
  development:
    host: lab
    unit: mcp-coordination-dev.service
    ports: [3446]
`;

export function makeStore(options: { readonly?: boolean; keys?: Record<string, string>; logCapacity?: number; host?: Host; runner?: OperationRunner } = {}): { store: AppStore; auditFile: string } {
  const config = parseConfig(CONFIG, 'test.yaml');
  if (options.keys) config.keys = options.keys;
  const auditDir = mkdtempSync(path.join(tmpdir(), 'opsdeck-audit-'));
  onTestFinished(() => rmSync(auditDir, { recursive: true, force: true }));
  const auditFile = path.join(auditDir, 'audit.jsonl');
  const hosts = options.host ? new OneHost(config, options.host) : new HostRegistry(config);
  // The console's own policies (no host or environment of CONFIG is read-only: read-only is options.readonly), audited to a file of the test's.
  const runner = options.runner ?? new OperationRunner({ hostFor: (n) => hosts.get(n), ...runnerPolicies(config, options.readonly ?? false, (env) => config.environments[env]!.host), audit: new AuditLog(auditFile) });
  const store = createAppStore({ config, configFile: 'test.yaml', hosts, runner, readonly: options.readonly ?? false, ...(options.logCapacity ? { logCapacity: options.logCapacity } : {}) });
  store.setState({ status: recordedReport, lastRefreshMs: 42, lastRefreshAt: Date.now() });
  return { store, auditFile };
}

export function renderConsole(store: AppStore) {
  let quit = false;
  const view = render(<App store={store} theme={noColorTheme} onQuit={() => (quit = true)} />);
  return { ...view, quitCalled: () => quit };
}

/** The pane's lines: the frame between the body's top and bottom borders, the border cut off. */
export function paneLines(frame: string): string[] {
  const lines = frame.split('\n');
  const top = lines.findIndex((l) => /^[╭┏]/.test(l));
  const bottom = lines.findIndex((l, i) => i > top && /^[╰┗]/.test(l));
  return lines.slice(top + 1, bottom).map((l) => l.slice(1, -1).trimEnd());
}

/** Let Ink process input and re-render. */
export const settle = (ms = 30) => new Promise((r) => setTimeout(r, ms));
