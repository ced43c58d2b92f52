// `opsdeck doctor` on the shared incident lab, read-only: what is wrong and why on production,
// nothing on development, and a fix previewed with --dry-run (nothing is changed).
import { expect, it } from 'vitest';
import { runDoctor } from '../../src/core/doctor/doctor.js';
import type { Finding } from '../../src/core/doctor/finding.js';
import { collectStatus } from '../../src/core/status/collect.js';
import { describeLab, labContext, opsdeck, sharedLabConfig } from '../support/lab.js';
import { SHARED_LAB_DIR, SHARED_LAB_PORT_BASE } from '../support/lab-constants.js';

const LIVE = `${SHARED_LAB_DIR}/srv/production/data`;
const STALE = `${SHARED_LAB_DIR}/srv/production-data`;

describeLab('opsdeck doctor on the incident lab', () => {
  it('finds the crash loop, its sandbox-path cause quoting EROFS, the unmanaged listener and the stale backups; nothing on development', async () => {
    const { code, stdout } = await opsdeck(['doctor', '--json', '--config', sharedLabConfig()]);
    expect(code).toBe(1);
    const { findings } = JSON.parse(stdout) as { findings: Finding[] };
    const production = findings.filter((f) => f.environment === 'production');
    expect(production.map((f) => f.id)).toEqual(expect.arrayContaining(['production/crash-loop', 'production/sandbox-path', `production/port-unmanaged:${SHARED_LAB_PORT_BASE}`, 'production/backup-archives-stale']));

    const loop = production.find((f) => f.code === 'crash-loop')!;
    expect(loop.evidence.map((e) => e.text).join('\n')).toMatch(/crash-looping since/);
    expect(loop.evidence.flatMap((e) => e.quote ?? []).join('\n')).toMatch(/status=3\//);

    const sandbox = production.find((f) => f.code === 'sandbox-path')!;
    expect(sandbox.severity).toBe('critical');
    expect(sandbox.evidence.flatMap((e) => e.quote ?? [])).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`cannot write state to ${LIVE}/state\\.json: EROFS: read-only file system`))]));
    // The hand-started process holds the port: the adoption starts the unit, not this override.
    expect(sandbox.fix?.plan).toEqual({ kind: 'unit-override', environment: 'production', unit: 'mcp-coordination.service', settings: [`ReadWritePaths=${STALE} ${LIVE}`], restart: false });

    const holder = production.find((f) => f.code === 'port-unmanaged')!;
    expect(holder.evidence.map((e) => e.text).join('\n')).toMatch(/command line: .*server\.mjs\n(.|\n)*working directory: \//);
    expect(holder.fix?.plan).toMatchObject({ kind: 'adopt', environment: 'production', unit: 'mcp-coordination.service', port: SHARED_LAB_PORT_BASE });

    const backups = production.find((f) => f.code === 'backup-archives-stale')!;
    expect(backups.title).toContain(`the existing backups archive ${STALE}`);
    expect(backups.fix?.plan).toEqual({ kind: 'backup-create', environment: 'production', source: LIVE });

    expect(findings.filter((f) => f.environment === 'development' && f.severity !== 'info')).toEqual([]);
  });

  it('agrees with status, and asks little more of the host than status does', async () => {
    const { config, hosts } = labContext();
    const host = hosts.get('lab');
    try {
      await collectStatus(config, hosts); // the listeners' cache warmed, as in the console
      let before = host.stats.spawned;
      const status = await collectStatus(config, hosts);
      const statusSpawned = host.stats.spawned - before;
      before = host.stats.spawned;
      const doctor = await runDoctor(config, hosts);
      const doctorSpawned = host.stats.spawned - before;
      for (const env of status.environments) {
        const findings = doctor.findings.filter((f) => f.environment === env.name).map((f) => f.code);
        expect(findings).toEqual(expect.arrayContaining(env.problems.map((p) => p.code)));
      }
      // Status names the sandbox cause too: it reads the failing unit's journal.
      expect(status.environments.find((e) => e.name === 'production')!.problems.map((p) => p.code)).toContain('sandbox-path');
      // Beyond status: one /proc read and one ps for the port holder; and for the host, whatever
      // its number of environments, one stat -f, one verify, one calendar.
      expect(doctorSpawned - statusSpawned).toBeLessThanOrEqual(2 + 3);
    } finally {
      await hosts.closeAll();
    }
  });

  it('prints findings grouped by environment, evidence indented with where it came from, and the fix to run', async () => {
    const { code, stdout } = await opsdeck(['doctor', '--config', sharedLabConfig()]);
    expect(code).toBe(1);
    expect(stdout).not.toMatch(/\x1b\[/);
    expect(stdout).toMatch(/^production \(host lab\) \d+ findings$/m);
    expect(stdout).toMatch(/^ {2}✗ CRITICAL mcp-coordination\.service is crash-looping: .*\[production\/crash-loop\]$/m);
    expect(stdout).toMatch(/^ {8}│ FATAL: cannot write state to .*EROFS: read-only file system/m);
    expect(stdout).toMatch(/^ {6}.* ← journalctl -u mcp-coordination\.service -p notice -n 50$/m);
    expect(stdout).toMatch(/^ {11}opsdeck doctor --fix production\/sandbox-path/m);
    expect(stdout).toMatch(/^development \(host lab\) ✓ nothing wrong$/m);
    // Most severe first within production: the crash loop leads.
    expect(stdout.indexOf('[production/crash-loop]')).toBeLessThan(stdout.indexOf('[production/sandbox-path]'));
  });

  it('exits 0 on development alone', async () => {
    const { code, stdout } = await opsdeck(['doctor', 'development', '--config', sharedLabConfig()]);
    expect(code).toBe(0);
    expect(stdout).toContain('✓ nothing wrong');
    expect(stdout).not.toContain('production');
  });

  it('previews the sandbox fix: a drop-in with ReadWritePaths= granting the live data dir, nothing done', async () => {
    const { code, stdout } = await opsdeck(['doctor', '--fix', 'production/sandbox-path', '--dry-run', '--config', sharedLabConfig()]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^override mcp-coordination\.service: ReadWritePaths=/m);
    expect(stdout).toContain(`+ReadWritePaths=${STALE} ${LIVE}`);
    expect(stdout).toMatch(/systemctl daemon-reload/);
    // No restart and no gate while the hand-started process holds the port: the adoption does both.
    expect(stdout).not.toMatch(/health gate: mcp-coordination\.service active/);
    expect(stdout).toContain('dry run: nothing was done, nothing was written on any host');
    // Nothing changed: production still crash-loops the same way.
    const after = await opsdeck(['doctor', 'production', '--json', '--config', sharedLabConfig()]);
    expect((JSON.parse(after.stdout) as { findings: Finding[] }).findings.map((f) => f.id)).toContain('production/sandbox-path');
  });

  it('refuses a fix that does not exist, or a finding without one, saying why', async () => {
    const unknown = await opsdeck(['doctor', '--fix', 'production/nope', '--dry-run', '--config', sharedLabConfig()]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no finding "?production\/nope"? now/);
    expect(unknown.stderr).toContain('production/sandbox-path');
    const none = await opsdeck(['doctor', '--fix', 'production/crash-loop', '--dry-run', '--config', sharedLabConfig()]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/has no fix opsdeck can apply/);
  });
});
