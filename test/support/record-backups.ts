// Records test/fixtures/backups-pane.json from the lab (`opsdeck lab up` first):
//   node --import tsx test/support/record-backups.ts [/var/lib/opsdeck-lab/opsdeck.yaml]
// It makes the fixture environment's directories on the lab host (backups-fixture.ts says what
// is in them), then drives the console's store through a RecordingHost exactly as the tests
// do, one fresh store per scenario, phase by phase. The verify records written beside the
// archives are removed after each verify, so every listing of a phase reads the same.
// Record again when the core changes what it asks a host (a test then fails naming the
// command that was not recorded).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { readCatalog } from '../../src/core/backups/catalog.js';
import { removeArchive, writeArchive } from '../../src/core/backups/create.js';
import { archiveName, resolvePolicy } from '../../src/core/backups/policy.js';
import { verifyArchive } from '../../src/core/backups/verify.js';
import { HostRegistry } from '../../src/core/host/registry.js';
import type { AppStore } from '../../src/store/app-store.js';
import { FIXTURE_DIR, showBackups, storeOn, type Phase } from './backups-fixture.js';
import { RecordingHost, type Recording } from './recorded-host.js';
import { until } from './until.js';

const labConfig = process.argv[2] ?? '/var/lib/opsdeck-lab/opsdeck.yaml';
const { config } = loadConfig(labConfig);
const registry = new HostRegistry(config);
const lab = registry.get('lab');
const data = path.join(FIXTURE_DIR, 'data');
const backups = path.join(FIXTURE_DIR, 'backups');

const stamp = (iso: string) => new Date(iso);
const tar = (name: string, from: string) => execFileSync('tar', ['-czf', path.join(backups, name), '-C', from, '.']);
const age = (file: string, iso: string) => utimesSync(file, stamp(iso), stamp(iso));
/** Deterministic bytes that gzip cannot shrink much (a verify then has something to count). */
function bytes(seed: number, size: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed * 2654435761;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

async function prepare(): Promise<string> {
  rmSync(FIXTURE_DIR, { recursive: true, force: true });
  mkdirSync(path.join(data, 'messages'), { recursive: true });
  mkdirSync(backups, { recursive: true });
  for (let i = 1; i <= 24; i++) writeFileSync(path.join(data, i % 3 === 0 ? 'messages' : '', `part-${String(i).padStart(2, '0')}.bin`), bytes(i, 48 * 1024));
  writeFileSync(path.join(data, 'state.json'), '{"version":3}\n');
  // The old job's archives: a plain tar of the data, and one cut in half (damaged).
  tar('data-20261120_060000.tar.gz', data);
  tar('data-20261124_060000.tar.gz', data);
  const damaged = path.join(backups, 'data-20261124_060000.tar.gz');
  truncateSync(damaged, Math.floor(statSync(damaged).size / 2));
  age(path.join(backups, 'data-20261120_060000.tar.gz'), '2026-11-20T06:00:00Z');
  age(damaged, '2026-11-24T06:00:00Z');
  // A partial left by a create cut off two days ago.
  writeFileSync(path.join(backups, 'data-20261125_060000.tar.gz.partial'), bytes(99, 4096));
  age(path.join(backups, 'data-20261125_060000.tar.gz.partial'), '2026-11-25T06:00:00Z');
  // One opsdeck made (manifest and checksum beside it), by the core on the lab host.
  const name = archiveName({ prefix: 'data-', compression: 'gzip' }, new Date(Date.now() - 120_000));
  await writeArchive(lab, { environment: 'fixture', source: data, dir: backups, name, compression: 'gzip', createdBy: 'opsdeck' });
  // The alarm: a newest archive of almost nothing (the job archived the wrong directory).
  const tiny = path.join(FIXTURE_DIR, 'tiny');
  mkdirSync(tiny, { recursive: true });
  writeFileSync(path.join(tiny, 'README'), 'nothing here\n');
  const alarm = archiveName({ prefix: 'data-', compression: 'gzip' }, new Date(Date.now() - 60_000));
  tar(alarm, tiny);
  rmSync(tiny, { recursive: true });
  return alarm;
}

/** Verify records written beside the archives: removed, so the next listing reads as the first. */
function forgetVerifies(): void {
  for (const file of readdirSync(backups)) if (file.endsWith('.verified.json')) rmSync(path.join(backups, file));
}

/** Each scenario on a fresh store, as each test has. */
async function scenario(host: RecordingHost, env: string, work: (store: AppStore) => Promise<void>): Promise<void> {
  const { store, cleanup } = storeOn(host);
  try {
    await showBackups(store, env);
    await work(store);
  } finally {
    cleanup();
  }
}

const previewShown = (store: AppStore) =>
  until('the preview', () => {
    const o = store.getState().overlay;
    return o?.kind === 'confirm' && o.preview !== null;
  }, { timeoutMs: 60_000, everyMs: 20 });

/**
 * Production's newest archive, made and verified by opsdeck (what the pane marks ✓), whatever
 * the lab's history: its old job's timer adds an archive at every boot. Removed once recorded.
 */
async function productionArchive(): Promise<string> {
  const policy = resolvePolicy('production', config.environments.production!, null);
  const name = archiveName(policy, new Date());
  await writeArchive(lab, { environment: 'production', source: policy.source, dir: policy.dir, name, compression: policy.compression, createdBy: 'opsdeck' });
  const entry = (await readCatalog(lab, policy)).entries.find((e) => e.name === name)!;
  await verifyArchive(lab, entry);
  return entry.path;
}

async function record(phase: Phase, host: RecordingHost): Promise<void> {
  if (phase === 'lab') {
    // Refused: the stale source, checked afresh.
    const made = await productionArchive();
    try {
      await scenario(host, 'production', (store) => store.getState().actions.proposeBackupCreate());
    } finally {
      await removeArchive(lab, made);
    }
    return;
  }
  if (phase === 'alarm') {
    await scenario(host, 'fixture', (store) => store.getState().actions.proposeBackupPrune());
    await scenario(host, 'fixture', async (store) => {
      await store.getState().actions.proposeBackupCreate();
      await previewShown(store);
    });
    return;
  }
  // clean: each archive verified; a restore of the good one and of the damaged one; a prune.
  for (const row of [0, 1, 2]) {
    await scenario(host, 'fixture', async (store) => {
      store.getState().actions.setCursor('backups', row);
      await store.getState().actions.verifyBackup();
      forgetVerifies();
    });
  }
  for (const row of [0, 1]) {
    await scenario(host, 'fixture', async (store) => {
      store.getState().actions.setCursor('backups', row);
      await store.getState().actions.proposeBackupRestore(false);
      forgetVerifies();
      if (row === 0) await previewShown(store);
    });
  }
  await scenario(host, 'fixture', async (store) => {
    await store.getState().actions.proposeBackupPrune();
    await previewShown(store);
  });
}

const recording: Recording = { recorded: `from the lab (${labConfig}) by test/support/record-backups.ts, ${new Date().toISOString()}`, phases: {} };
try {
  const alarm = await prepare();
  for (const phase of ['lab', 'alarm', 'clean'] as const) {
    if (phase === 'clean') rmSync(path.join(backups, alarm));
    const host = new RecordingHost(lab, `lab-${phase}`);
    await record(phase, host);
    recording.phases[phase] = { runs: host.runs, streams: host.streams };
    process.stdout.write(`${phase}: ${host.runs.length} commands, ${host.streams.length} streams\n`);
  }
  const out = new URL('../fixtures/backups-pane.json', import.meta.url);
  writeFileSync(out, JSON.stringify(recording, null, 1) + '\n');
  process.stdout.write(`wrote ${out.pathname}\n`);
} finally {
  await registry.closeAll();
}
