// The backups slice on a host that answers as the lab did (test/fixtures/backups-pane.json,
// recorded by test/support/record-backups.ts): when the overview is read, the refusals the CLI
// makes (a stale source, a suspicious newest archive, an archive that fails verify), a
// verify's progress and its stop, and the plans proposed for create, prune and restore.
import { describe, expect, it, onTestFinished } from 'vitest';
import { READ_EVERY_MS } from '../../src/store/backups-slice.js';
import { pruneRefusal } from '../../src/core/backups/retention.js';
import { backupRows, backupSanity } from '../../src/store/selectors.js';
import type { StatusReport } from '../../src/core/status/collect.js';
import type { AppStore } from '../../src/store/app-store.js';
import type { OperationView } from '../../src/store/types.js';
import { replayStore, showBackups, type Phase } from '../support/backups-fixture.js';
import { testOperation } from '../support/operation.js';
import { until } from '../support/until.js';

const PRODUCTION_LISTING = /^find -H \/var\/lib\/opsdeck-lab\/srv\/production-data-backups -mindepth 1 -maxdepth 1 /;
const OPSDECK_MADE = /^data-\d{8}_\d{6}\.tar\.gz$/;
const DAMAGED = 'data-20261124_060000.tar.gz';

function setup(phase: Phase, options: { readonly?: boolean; now?: () => number } = {}) {
  const made = replayStore(phase, options);
  onTestFinished(made.cleanup);
  return made;
}

const of = (store: AppStore, env: string) => store.getState().backups.byEnv[env]!;
const notice = (store: AppStore) => store.getState().notice?.text ?? '';
const rows = (store: AppStore) => backupRows(store.getState());

describe('reading the overview', () => {
  it('reads when the pane is shown, at most every 30 s while it stays shown, and at once after a backup operation ends', async () => {
    let clock = 1_000_000;
    const { store, host } = setup('lab', { now: () => clock });
    const reads = () => host.count(PRODUCTION_LISTING);
    await showBackups(store, 'production');
    expect(reads()).toBe(1);
    expect(of(store, 'production').overview?.sanity?.verdict).toBe('stale-source');
    // The 2 s refresh changes the state all the time: no read until 30 s have passed.
    store.getState().actions.notify('a refresh');
    clock += READ_EVERY_MS - 1000;
    store.getState().actions.notify('another');
    expect(reads()).toBe(1);
    clock += 2000;
    store.getState().actions.notify('30 s later');
    await until('the second read', () => !of(store, 'production').reading);
    expect(reads()).toBe(2);
    // Not shown: not read, however long.
    store.getState().actions.setPane('environments');
    clock += 10 * READ_EVERY_MS;
    store.getState().actions.notify('later still');
    expect(reads()).toBe(2);
    // A backup operation of production ends: read at once, wherever the console is.
    const op = testOperation({ kind: 'backup.create', environment: 'production' });
    const view: OperationView = { op, mode: 'run', steps: [], current: null, output: [], unitJournal: [], gate: null, progress: null, failure: null, result: null, asking: false, startedAt: clock };
    store.setState({ operation: view });
    store.setState({ operation: { ...view, result: { id: op.id, status: 'finished', ok: true, summary: 'done', failedStep: null, error: null, stderr: '', journal: [], auditError: null, durationMs: 5 } } });
    await until('the read after the operation', () => reads() === 3 && !of(store, 'production').reading);
  });

  it('takes source sanity from the status while the status\'s is recent, and checks it again itself before a create', async () => {
    // The verdict the lab gave, as the status's 30 s refresh would have it.
    const first = setup('lab');
    await showBackups(first.store, 'production');
    const verdict = { ...of(first.store, 'production').overview!.sanity!, checkedAt: new Date().toISOString() };
    const { store, host } = setup('lab');
    store.setState({ status: { environments: [{ name: 'production', host: 'lab', backupSanity: verdict }] } as unknown as StatusReport });
    const scans = () => host.count(/^find -H \/var\/lib\/opsdeck-lab\/srv\/production-data -mindepth 1 -printf/);
    await showBackups(store, 'production');
    expect(scans()).toBe(0);
    expect(of(store, 'production').overview!.sanity).toBeNull();
    expect(backupSanity(store.getState(), 'production')).toBe(verdict);
    await store.getState().actions.proposeBackupCreate();
    expect(scans()).toBeGreaterThan(0);
    expect(backupSanity(store.getState(), 'production')).toBe(of(store, 'production').overview!.sanity);
    expect(notice(store)).toMatch(/^refusing to back up /);
  });

  it('keeps the environment\'s error, and what was read before, when its policy cannot be used', async () => {
    const { store, host } = setup('lab');
    store.setState({ config: { ...store.getState().config, environments: { ...store.getState().config.environments, production: { ...store.getState().config.environments.production!, dataDir: undefined, backups: { ...store.getState().config.environments.production!.backups!, source: undefined } } } } });
    await showBackups(store, 'production');
    expect(of(store, 'production').error).toMatch(/backups has no source, and the environment no dataDir/);
    expect(host.asked).toEqual([]);
  });
});

describe('create', () => {
  it('refuses a backup of a stale source, checked afresh, with the evidence shown, and asks nothing', async () => {
    const { store, host } = setup('lab');
    await showBackups(store, 'production');
    const before = host.count(PRODUCTION_LISTING);
    await store.getState().actions.proposeBackupCreate();
    expect(host.count(PRODUCTION_LISTING)).toBe(before + 1);
    expect(store.getState().overlay).toBeNull();
    expect(store.getState().notice?.level).toBe('error');
    expect(notice(store)).toMatch(/^refusing to back up \/var\/lib\/opsdeck-lab\/srv\/production-data: it is not the directory production's service writes to \(that is \/var\/lib\/opsdeck-lab\/srv\/production\/data\)\. The evidence is below/);
    expect(store.getState().backups.details).toBe(true);
    const sanity = of(store, 'production').overview!.sanity!;
    expect(sanity.evidence.some((e) => e.text.includes('/var/lib/opsdeck-lab/srv/production/data'))).toBe(true);
    expect(store.getState().backups.job).toBeNull();
  });

  it('proposes a backup when the source is the live data, the verdict written into the plan', async () => {
    const { store } = setup('alarm');
    await showBackups(store, 'fixture');
    await store.getState().actions.proposeBackupCreate();
    const overlay = store.getState().overlay;
    expect(overlay?.kind).toBe('confirm');
    if (overlay?.kind !== 'confirm') return;
    expect(overlay.op.kind).toBe('backup.create');
    expect(overlay.op.details.find((d) => d.startsWith('source sanity: '))).toMatch(/^source sanity: (ok|unknown|archives-stale) — fixture: /);
    await until('the preview', () => {
      const o = store.getState().overlay;
      return o?.kind === 'confirm' && o.preview !== null;
    });
  });
});

describe('prune', () => {
  it('refuses while the newest archive is much smaller than the one before it', async () => {
    const { store } = setup('alarm');
    await showBackups(store, 'fixture');
    expect(rows(store)[0]!.alarm).toMatch(/% smaller than data-/);
    await store.getState().actions.proposeBackupPrune();
    expect(store.getState().overlay).toBeNull();
    expect(notice(store)).toMatch(/^refusing to prune: the newest archive data-\d{8}_\d{6}\.tar\.gz is \d+% smaller than /);
  });

  it('refuses while the newest archive failed verify (as the CLI does)', async () => {
    const { store } = setup('clean');
    await showBackups(store, 'fixture');
    store.getState().actions.setCursor('backups', 1);
    await store.getState().actions.verifyBackup();
    const damaged = rows(store).find((e) => e.name === DAMAGED)!;
    expect(damaged.verified?.ok).toBe(false);
    // The damaged archive as if it were the newest (its own shrink alarm aside, which would be said first).
    expect(pruneRefusal([{ ...damaged, alarm: null }, ...rows(store).filter((e) => e !== damaged)])).toBe(`the newest archive ${DAMAGED} failed verify`);
    expect(pruneRefusal(rows(store))).toBeNull();
  });

  it('proposes what the policy lets go, the plan saying what goes, what stays and why', async () => {
    const { store } = setup('clean');
    await showBackups(store, 'fixture');
    await store.getState().actions.proposeBackupPrune();
    const overlay = store.getState().overlay;
    expect(overlay?.kind).toBe('confirm');
    if (overlay?.kind !== 'confirm') return;
    expect(overlay.op.kind).toBe('backup.prune');
    const details = overlay.op.details;
    expect(details).toContain('remove data-20261125_060000.tar.gz.partial (an unfinished archive)');
    expect(details.some((d) => d.startsWith(`remove ${DAMAGED} (`))).toBe(true);
    expect(details.some((d) => d.startsWith('remove data-20261120_060000.tar.gz ('))).toBe(true);
    expect(details.find((d) => d.startsWith('keep '))).toMatch(/^keep data-\d{8}_\d{6}\.tar\.gz: one of the newest 1 \(#1\)/);
  });
});

describe('verify', () => {
  it('shows its progress while the test extraction runs, then the result, and marks the row', async () => {
    const { store, host } = setup('clean');
    await showBackups(store, 'fixture');
    expect(rows(store)[0]!.name).toMatch(OPSDECK_MADE);
    expect(rows(store)[0]!.verified).toBeNull();
    const held = host.hold(/tar --extract/);
    const running = store.getState().actions.verifyBackup();
    await until('the extraction under way', () => (store.getState().backups.job?.progress?.done ?? 0) > 0);
    const job = store.getState().backups.job!;
    const manifest = rows(store)[0]!.manifest!;
    expect(job).toMatchObject({ kind: 'verify', phase: 'extraction', archive: rows(store)[0]!.name, stopping: false });
    expect(job.progress).toMatchObject({ unit: 'bytes', total: manifest.bytes, files: { total: manifest.files } });
    expect(job.progress!.done).toBeLessThan(manifest.bytes);
    // A second key while it runs starts nothing.
    await store.getState().actions.proposeBackupPrune();
    expect(notice(store)).toMatch(/^verify of data-.* is running: wait for it, or Esc stops it/);
    held.release();
    await running;
    expect(store.getState().backups.job).toBeNull();
    expect(store.getState().backups.lastVerify).toMatchObject({ environment: 'fixture', ok: true, error: null });
    expect(store.getState().backups.lastVerify!.checks.map((c) => c.name)).toEqual(['checksum', 'extraction', 'manifest']);
    expect(rows(store)[0]!.verified?.ok).toBe(true);
    // Its record was written beside the archive (atomically, through a temporary file).
    expect(host.count(/^dd of=.*\.verified\.json\.opsdeck-/)).toBe(1);
  });

  it('stops on Ctrl+C (Esc alike): nothing changed, the row still unverified, the scratch directory removed', async () => {
    const { store, host } = setup('clean');
    await showBackups(store, 'fixture');
    host.hold(/tar --extract/);
    const running = store.getState().actions.verifyBackup();
    await until('the extraction under way', () => store.getState().backups.job?.phase === 'extraction');
    store.getState().actions.interrupt();
    expect(store.getState().backups.job?.stopping).toBe(true);
    expect(store.getState().quitArmedAt).toBeNull();
    await running;
    expect(store.getState().backups.job).toBeNull();
    expect(store.getState().backups.lastVerify).toMatchObject({ ok: null, error: 'stopped before it finished' });
    expect(notice(store)).toMatch(/^verify of data-.* stopped: nothing was changed/);
    expect(rows(store)[0]!.verified).toBeNull();
    expect(host.count(/^rm -rf --one-file-system -- .*\.opsdeck-verify\./)).toBe(1);
    expect(store.getState().actions.stopBackupJob()).toBe(false);
  });

  it('marks a damaged archive ✗ with the check that failed and why', async () => {
    const { store } = setup('clean');
    await showBackups(store, 'fixture');
    store.getState().actions.setCursor('backups', 1);
    await store.getState().actions.verifyBackup();
    const outcome = store.getState().backups.lastVerify!;
    expect(outcome).toMatchObject({ archive: DAMAGED, ok: false });
    expect(outcome.checks.find((c) => !c.ok)).toMatchObject({ name: 'extraction', detail: expect.stringMatching(/^the archive is damaged: /) });
    expect(store.getState().notice?.level).toBe('error');
  });

  it('leaves nothing on the host in read-only mode, not even its record', async () => {
    const { store, host } = setup('clean', { readonly: true });
    await showBackups(store, 'fixture');
    await store.getState().actions.verifyBackup();
    expect(store.getState().backups.lastVerify?.ok).toBe(true);
    expect(rows(store)[0]!.verified?.ok).toBe(true);
    expect(host.count(/^dd of=/)).toBe(0);
  });
});

describe('restore', () => {
  it('verifies the archive first, then proposes the restore with a safety archive of what is there now', async () => {
    const { store, host } = setup('clean');
    await showBackups(store, 'fixture');
    await store.getState().actions.proposeBackupRestore(false);
    expect(host.count(/^openssl dgst -sha256 -r -- .*data-\d{8}_\d{6}\.tar\.gz$/)).toBe(1);
    const overlay = store.getState().overlay;
    expect(overlay?.kind).toBe('confirm');
    if (overlay?.kind !== 'confirm') return;
    expect(overlay.op.kind).toBe('backup.restore');
    expect(overlay.op.steps.map((s) => s.kind)).toEqual(['backup-create', 'extract', 'swap-dir']);
    expect(overlay.op.details).toContain('nothing is stopped around the swap (no unit)');
    expect(overlay.op.details.join('\n')).not.toMatch(/--stop/);
  });

  it('refuses to restore an archive that fails verify', async () => {
    const { store } = setup('clean');
    await showBackups(store, 'fixture');
    store.getState().actions.setCursor('backups', 1);
    await store.getState().actions.proposeBackupRestore(false);
    expect(store.getState().overlay).toBeNull();
    expect(notice(store)).toMatch(new RegExp(`^refusing to restore ${DAMAGED}: it failed verify \\(extraction\\)`));
    expect(rows(store)[1]!.verified?.ok).toBe(false);
  });

  it('with the unit stopped, refuses at once an environment that has no unit', async () => {
    const { store, host } = setup('clean');
    await showBackups(store, 'fixture');
    const asked = host.asked.length;
    await store.getState().actions.proposeBackupRestore(true);
    expect(notice(store)).toBe('fixture has no unit to stop around the swap');
    expect(host.asked.length).toBe(asked);
  });
});
