// The incident fixed the way the doctor proposes it (a lab of this file's own): back up the live
// data first, grant ReadWritePaths= the live dir, adopt the hand-started process. Production is
// then healthy under systemd with a backup of its live data, and the doctor has nothing left to
// say; each fix's undo, last first, puts back what was there (the adoption's serves from the
// hand-started process again).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Finding } from '../../src/core/doctor/finding.js';
import { probeHealth } from '../../src/core/status/health.js';
import { listListeners } from '../../src/core/systemd/listeners.js';
import { describeLab, labContext, opsdeck, privateLab } from '../support/lab.js';
import { PORT_OFFSETS, privatePortBase } from '../support/lab-constants.js';
import { until } from '../support/until.js';

const OFFSET = PORT_OFFSETS.doctorFixes;
const PORT = privatePortBase(OFFSET);
const UNIT = 'mcp-coordination.service';

let lab: Awaited<ReturnType<typeof privateLab>> | undefined;
let work = '';
const cli = (args: string[], timeout = 120_000) => opsdeck([...args, '--config', lab!.config], { env: { OPSDECK_AUDIT_LOG: path.join(work, 'audit.jsonl') }, timeout });

async function findings(): Promise<{ code: number; findings: Finding[] }> {
  const { code, stdout } = await cli(['doctor', 'production', '--json']);
  return { code, findings: (JSON.parse(stdout) as { findings: Finding[] }).findings };
}

/** Apply a finding's fix; the id of the operation it ran (for its undo). */
async function fix(id: string): Promise<string> {
  const { code, stdout, stderr } = await cli(['doctor', '--fix', id, '--yes']);
  expect(code, `${id}: ${stdout}\n${stderr}`).toBe(0);
  const op = /opsdeck ops rollback (\S+)\)/.exec(stdout)?.[1];
  expect(op, stdout).toBeDefined();
  return op!;
}

/** Who holds production's port now, and whether the service answers its health check. */
async function serving(): Promise<{ unit: string | null; healthy: boolean } | null> {
  const { config, hosts } = labContext(lab!.config);
  try {
    const host = hosts.get('lab');
    const holder = (await listListeners(host)).find((l) => l.port === PORT && l.pid !== null);
    if (!holder) return null;
    return { unit: holder.unit, healthy: (await probeHealth(host, config.environments.production!.health!)).ok };
  } finally {
    await hosts.closeAll();
  }
}

describeLab('the doctor\'s fixes, in the order it proposes them', () => {
  beforeAll(async () => {
    lab = await privateLab('doctor-fixes', OFFSET);
    work = mkdtempSync(path.join('/var/tmp', 'opsdeck-doctor-fixes-'));
    // The old backup job is retired first, as the operator would once its archives are known to
    // be of the stale copy: left running, it adds a stale archive after every daemon-reload.
    const { hosts } = labContext(lab.config);
    try {
      await hosts.get('lab').run(['systemctl', 'stop', 'mcp-backup.timer']);
    } finally {
      await hosts.closeAll();
    }
  }, 120_000);

  afterAll(async () => {
    await lab?.down();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('back up, override, adopt: production healthy under systemd, backed up, and the doctor clean; each undo puts back what was there', async () => {
    const before = await findings();
    expect(before.code).toBe(1);
    const ids = before.findings.map((f) => f.id);
    expect(ids).toEqual(expect.arrayContaining(['production/crash-loop', 'production/sandbox-path', `production/port-unmanaged:${PORT}`, 'production/backup-archives-stale']));

    const backup = await fix('production/backup-archives-stale');
    const override = await fix('production/sandbox-path');
    const adoption = await fix(`production/port-unmanaged:${PORT}`);

    // Served by the unit now, healthy; the doctor has nothing above info to say (the restart
    // counter of the loop before is history once the unit has run well for a while).
    expect(await serving()).toEqual({ unit: UNIT, healthy: true });
    await until('the doctor finds nothing wrong with production', async () => (await findings()).code === 0, { timeoutMs: 60_000, everyMs: 2000 });
    const listed = JSON.parse((await cli(['backup', 'list', 'production', '--json'])).stdout) as { sanity: { verdict: string } };
    expect(listed.sanity.verdict).toBe('ok');

    // Undone last first: the hand-started process serves again, the drop-in and the archive are gone.
    expect((await cli(['ops', 'rollback', adoption, '--yes'])).code).toBe(0);
    await until('the hand-started process serves production again', async () => {
      const now = await serving();
      return now !== null && now.unit !== UNIT && now.healthy;
    }, { timeoutMs: 60_000, everyMs: 500 });
    expect((await cli(['ops', 'rollback', override, '--yes'])).code).toBe(0);
    expect(existsSync(path.join(lab!.state.dir, 'units', `${UNIT}.d`, 'opsdeck-override.conf'))).toBe(false);
    expect((await cli(['ops', 'rollback', backup, '--yes'])).code).toBe(0);
    const after = await findings();
    expect(after.findings.map((f) => f.id)).toEqual(expect.arrayContaining(['production/sandbox-path', 'production/backup-archives-stale']));
  }, 300_000);
});
