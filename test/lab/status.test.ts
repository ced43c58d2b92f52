// `opsdeck status` against the real lab, tried as a new user would, over both transports.
import { describe, expect, it } from 'vitest';
import { collectStatus } from '../../src/core/status/collect.js';
import { describeLab, labContext, opsdeck, sharedLabConfig } from '../support/lab.js';
import { SHARED_LAB_PORT_BASE } from '../support/lab-constants.js';

interface StatusJson {
  environments: Array<{
    name: string;
    unit: { name: string; activeState: string; subState: string; nRestarts: number; mainPid: number | null; crashLooping: boolean };
    health: { ok: boolean; httpStatus: number; latencyMs: number; version: string; toolsCount: number };
    listeners: Array<{ port: number; pid: number; unit: string | null; command: string }>;
    problems: Array<{ code: string; message: string }>;
  }>;
  hosts: Array<{ name: string; transport: string; spawned: number }>;
}

describeLab('opsdeck status on the incident lab', () => {
  it('shows production crash-looping with its port held by an unmanaged PID, development healthy', async () => {
    const config = sharedLabConfig();
    const { code, stdout } = await opsdeck(['status', '--json', '--config', config]);
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as StatusJson;
    const prod = report.environments.find((e) => e.name === 'production')!;
    expect(prod.unit.name).toBe('mcp-coordination.service');
    expect(prod.unit.crashLooping).toBe(true);
    // Between two crashes a Type=simple unit is briefly active/running: still a crash loop.
    expect(['activating', 'failed', 'active']).toContain(prod.unit.activeState);
    expect(prod.unit.nRestarts).toBeGreaterThanOrEqual(0);
    expect(prod.listeners).toHaveLength(1);
    expect(prod.listeners[0]!.port).toBe(SHARED_LAB_PORT_BASE);
    expect(prod.listeners[0]!.unit).toBeNull();
    expect(prod.listeners[0]!.pid).toBeGreaterThan(1);
    // The hand-started V1 process answers health checks, so production "looks fine" from outside.
    expect(prod.health).toMatchObject({ ok: true, httpStatus: 200, version: '1.4.2', toolsCount: 12 });
    expect(prod.problems.map((p) => p.code)).toEqual(expect.arrayContaining(['crash-loop', 'port-unmanaged', 'backup-archives-stale']));

    const dev = report.environments.find((e) => e.name === 'development')!;
    expect(dev.unit).toMatchObject({ activeState: 'active', subState: 'running', nRestarts: 0 });
    expect(dev.unit.mainPid).toBeGreaterThan(1);
    expect(dev.health).toMatchObject({ ok: true, httpStatus: 200, toolsCount: 43 });
    expect(dev.health.version).toMatch(/^2\./);
    expect(dev.health.latencyMs).toBeGreaterThanOrEqual(0);
    expect(dev.listeners[0]).toMatchObject({ port: SHARED_LAB_PORT_BASE + 2, unit: 'mcp-coordination-dev.service', pid: dev.unit.mainPid });
    expect(dev.problems).toEqual([]);
  });

  it('sees the restart count climb', async () => {
    const { config, hosts } = labContext();
    const first = await collectStatus(config, hosts, ['production']);
    await new Promise((r) => setTimeout(r, 4000));
    const second = await collectStatus(config, hosts, ['production']);
    expect(second.environments[0]!.unit!.nRestarts).toBeGreaterThan(first.environments[0]!.unit!.nRestarts);
  });

  it('keeps checking minTools on the refreshes that reuse a recent tool count', async () => {
    const { config, hosts } = labContext();
    config.environments.development!.health!.minTools = 50; // the lab's V2 has 43 tools
    const asked = await collectStatus(config, hosts, ['development']);
    const reused = await collectStatus(config, hosts, ['development'], { reuseSlow: asked });
    for (const report of [asked, reused]) {
      expect(report.environments[0]!.health).toMatchObject({ ok: false, toolsCount: 43, failures: ['tools/list gave 43 tools, expected at least 50'] });
    }
  });

  it('prints a readable table without colour, production flagged', async () => {
    const { code, stdout } = await opsdeck(['status', '--config', sharedLabConfig()]);
    expect(code).toBe(1);
    expect(stdout).not.toMatch(/\x1b\[/);
    expect(stdout).toMatch(/production PROD .*mcp-coordination\.service .*CRASH-LOOP/);
    expect(stdout).toMatch(new RegExp(`${SHARED_LAB_PORT_BASE} PID \\d+ ✗ no unit`));
    expect(stdout).toMatch(/development .*active\/running .*✓ 200 \d+ms +2\.0\.0/);
    expect(stdout).toMatch(new RegExp(`✗ production: port ${SHARED_LAB_PORT_BASE} is held by PID \\d+ \\(.*server\\.mjs\\), which no systemd unit manages`));
  });

  it('gives the same answer over ssh to the lab\'s sshd', async () => {
    const config = sharedLabConfig();
    const [direct, viaSsh] = await Promise.all([
      opsdeck(['status', '--json', '--config', config]),
      opsdeck(['status', '--json', '--config', config, '--host', 'lab-ssh']),
    ]);
    const summary = (text: string) =>
      (JSON.parse(text) as StatusJson).environments.map((e) => ({
        name: e.name,
        unit: e.unit.name,
        crashLooping: e.unit.crashLooping,
        health: e.health.ok,
        version: e.health.version,
        holders: e.listeners.map((l) => [l.port, l.pid, l.unit]),
        problems: e.problems.map((p) => p.code).sort(),
      }));
    expect(viaSsh.code).toBe(1);
    expect(summary(viaSsh.stdout)).toEqual(summary(direct.stdout));
    expect((JSON.parse(viaSsh.stdout) as StatusJson).hosts[0]).toMatchObject({ name: 'lab-ssh', transport: 'ssh' });
  });

  it('spends one systemctl call per host per refresh, not one per unit', async () => {
    const { config, hosts } = labContext();
    const host = hosts.get('lab');
    const calls: string[][] = [];
    const original = host.run.bind(host);
    host.run = (argv, options) => {
      calls.push([...argv]);
      return original(argv, options);
    };
    await collectStatus(config, hosts);
    expect(calls.filter((a) => a[0] === 'systemctl')).toHaveLength(1);
    expect(calls.filter((a) => a[0] === 'cat' && a.includes('/proc/net/tcp'))).toHaveLength(1);
  });
});

describeLab('opsdeck units and health on the lab', () => {
  it('lists the lab units as JSON', async () => {
    const { code, stdout } = await opsdeck(['units', '--json', '--config', sharedLabConfig()]);
    expect([0, 1]).toContain(code);
    const names = (JSON.parse(stdout) as { hosts: Array<{ units: Array<{ name: string }> }> }).hosts[0]!.units.map((u) => u.name);
    expect(names).toEqual(expect.arrayContaining(['mcp-coordination.service', 'mcp-coordination-dev.service', 'systemd-journald.service']));
  });

  it('lists production\'s backups, newest first, and says they do not hold the live data', async () => {
    const { code, stdout } = await opsdeck(['backups', 'production', '--json', '--config', sharedLabConfig()]);
    // Exit 1: the old job archives the stale copy (source sanity), as on the day of the incident.
    expect(code).toBe(1);
    const overview = JSON.parse(stdout) as { catalog: { entries: Array<{ name: string; madeAt: string }> }; policy: { source: string }; sanity: { verdict: string } };
    expect(overview.catalog.entries.length).toBeGreaterThanOrEqual(5);
    expect(overview.catalog.entries[0]!.madeAt >= overview.catalog.entries[1]!.madeAt).toBe(true);
    expect(overview.policy.source).toMatch(/\/srv\/production\/data$/);
    expect(overview.sanity.verdict).toBe('archives-stale');
  });

  it('probes development: version and tools', async () => {
    const { code, stdout } = await opsdeck(['health', 'development', '--config', sharedLabConfig()]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/✓ development healthy/);
    expect(stdout).toMatch(/HTTP 200 · \d+ ms · version 2\.0\.0 · 43 tools/);
  });
});

describe('status without a lab', () => {
  it('exits 2 with a clear message on an unknown environment', async () => {
    const { code, stderr } = await opsdeck(['status', 'staging', '--config', sharedLabConfigOrTemp()]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/unknown environment "staging"/);
  });
});

function sharedLabConfigOrTemp(): string {
  try {
    return sharedLabConfig();
  } catch {
    return '/dev/null';
  }
}
