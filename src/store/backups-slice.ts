// Backups in the console: each environment's overview (the archives as the catalog judges them,
// the source-sanity verdict, the schedule), read when the backups pane is shown, after every
// backup operation ends, and at most every READ_EVERY_MS while the pane stays shown (source
// sanity reads the newest archive: never at the 2 s refresh). A verify runs from here, not as
// an operation (it changes nothing but its record beside the archive): its progress is state,
// Esc or Ctrl+C stops it. Create, prune and restore are planned as the CLI plans them
// (src/cli/backups.ts: the same checks, the same refusals) and proposed: the confirm dialog and
// the runner do the rest.
import { readCatalog, type BackupCatalog, type CatalogEntry } from '../core/backups/catalog.js';
import type { VerifyRecord } from '../core/backups/manifest.js';
import type { BackupOverview } from '../core/backups/overview.js';
import { readOverview } from '../core/backups/overview.js';
import { createBackupOperation, planPrune } from '../core/backups/plans.js';
import { resolvePolicy, type ResolvedPolicy } from '../core/backups/policy.js';
import { planRestore, restoreIntoRefusal } from '../core/backups/restore.js';
import { staleSourceRefusal } from '../core/backups/sanity.js';
import { verifyArchive, type VerifyProgress, type VerifyReport } from '../core/backups/verify.js';
import type { EnvironmentConfig } from '../config/schema.js';
import type { Host } from '../core/host/host.js';
import type { Operation } from '../core/ops/operation.js';
import { ProgressMeter } from '../core/ops/progress.js';
import { environmentTarget } from '../core/ops/target.js';
import { describeError, UsageError } from '../core/text/errors.js';
import { secondsSince } from '../core/text/humanize.js';
import { sanitizeLine } from '../core/text/sanitize.js';
import { backupRows, backupSanity, environmentStatus, selectedBackup } from './selectors.js';
import type { AppState, AppStore, BackupJob, BackupsActions, BackupsState, Canceller, EnvBackups, Slice, SliceContext } from './types.js';

/** Source sanity reads the newest archive and scans the data dirs: not more often than this. */
export const READ_EVERY_MS = 30_000;
/** A verify's progress held back by the meter is shown this long after. */
const PROGRESS_TRAIL_MS = 300;

export interface BackupsSlice extends Slice<'backups', BackupsActions> {
  /** Ctrl+C while a verify (or a check before a plan) runs: stops it. */
  stopJob: Canceller;
}

type Backups = BackupsState['backups'];
const NOTHING_READ: EnvBackups = { overview: null, error: null, readAt: null, reading: false };

/** The record a verify leaves, from its report. */
function recordOf(report: VerifyReport): VerifyRecord {
  const { version, archive, ok, verifiedAt, sha256, checks, archiveBytes, archiveMtime, files, bytes } = report;
  return { version, archive, ok, verifiedAt, sha256, checks, archiveBytes, archiveMtime, files, bytes };
}

export function createBackupsSlice({ deps, set, get, now, notify }: SliceContext, subscribe: AppStore['subscribe']): BackupsSlice {
  /** Reads going on, per environment: set before the first state change, so none starts twice. */
  const reading = new Map<string, Promise<void>>();
  /** Verifies done here, by path: kept over re-reads when the record could not be written beside the archive (read-only). */
  const verifiedHere = new Map<string, { record: VerifyRecord; sizeBytes: number; modifiedAt: string }>();
  let jobAbort: AbortController | null = null;

  const backups = () => get().backups;
  const patch = (change: Partial<Backups>) => set({ backups: { ...backups(), ...change } });
  const patchEnv = (name: string, change: Partial<EnvBackups>) => patch({ byEnv: { ...backups().byEnv, [name]: { ...(backups().byEnv[name] ?? NOTHING_READ), ...change } } });
  const patchJob = (change: Partial<BackupJob>) => {
    const job = backups().job;
    if (job) patch({ job: { ...job, ...change } });
  };

  /** The environment's config, policy and host; a UsageError a user can act on when it has no usable policy. */
  const contextOf = (name: string): { env: EnvironmentConfig; policy: ResolvedPolicy; host: Host } => {
    const env = get().config.environments[name];
    if (!env) throw new UsageError(`no environment ${name} in the config`);
    const policy = resolvePolicy(name, env, get().configFile);
    return { env, policy, host: deps.hosts.get(env.host) };
  };

  /** contextOf(name), or null with the reason told to the operator. */
  const contextOrSay = (name: string) => {
    try {
      return contextOf(name);
    } catch (error) {
      notify(describeError(error), 'error');
      return null;
    }
  };

  /** The selected environment's context, or null with the reason told. */
  const selectedContext = () => {
    const name = get().selectedEnv;
    if (!name) {
      notify('select an environment first', 'warn');
      return null;
    }
    const context = contextOrSay(name);
    return context ? { name, ...context } : null;
  };

  /** Verify results from this console win over an older (or missing) record read from the host. */
  const withLocalVerifies = (catalog: BackupCatalog): BackupCatalog => ({
    ...catalog,
    entries: catalog.entries.map((e) => {
      const mine = verifiedHere.get(e.path);
      if (!mine || mine.sizeBytes !== e.sizeBytes || mine.modifiedAt !== e.modifiedAt) return e;
      if (e.verified && e.verified.verifiedAt >= mine.record.verifiedAt) return e;
      return { ...e, verified: mine.record };
    }),
  });

  /** Store an environment's overview; the cursor stays on the archive it was on (a new one comes in on top). */
  const storeOverview = (name: string, overview: BackupOverview) => {
    const state = get();
    const followed = state.selectedEnv === name ? backupRows(state)[state.cursor.backups]?.path : undefined;
    // Read without sanity (the status's is recent): the pane's own last verdict stays, the newer one is shown.
    const sanity = overview.sanity ?? backups().byEnv[name]?.overview?.sanity ?? null;
    patchEnv(name, { overview: { ...overview, sanity, catalog: withLocalVerifies(overview.catalog) }, error: null, readAt: now(), reading: false });
    if (followed === undefined) return;
    const index = backupRows(get()).findIndex((e) => e.path === followed);
    if (index >= 0 && index !== get().cursor.backups) get().actions.setCursor('backups', index);
  };

  /** The selected environment and archive (the pane's highlighted row), or a notice why there is none. */
  const selected = (): { name: string; entry: CatalogEntry } | null => {
    const state = get();
    const name = state.selectedEnv;
    const entry = selectedBackup(state);
    if (!name || !entry) {
      const known = state.backups.byEnv[name ?? ''];
      notify(known?.overview ? 'no archive selected' : known?.error ? `cannot read the backups: ${known.error}` : 'the backups are still being read: try again in a moment', 'warn');
      return null;
    }
    return { name, entry };
  };

  /** Only one job at a time: a second key while one runs says what runs. */
  const busy = (): boolean => {
    const job = backups().job;
    if (!job) return false;
    notify(`${job.kind}${job.archive ? ` of ${job.archive}` : ''} is running: wait for it, or Esc stops it`, 'warn');
    return true;
  };

  const startJob = (job: Omit<BackupJob, 'progress' | 'startedAt' | 'stopping'>): AbortController => {
    jobAbort = new AbortController();
    patch({ job: { ...job, progress: null, startedAt: now(), stopping: false } });
    return jobAbort;
  };
  const endJob = (abort: AbortController) => {
    if (jobAbort !== abort) return;
    jobAbort = null;
    patch({ job: null });
  };

  /** A plan made as a job of the pane (shown, stoppable): it proposes an operation, or says why not. */
  const planning = async (job: Omit<BackupJob, 'progress' | 'startedAt' | 'stopping'>, what: string, work: (abort: AbortController) => Promise<void>): Promise<void> => {
    const abort = startJob(job);
    try {
      await work(abort);
    } catch (error) {
      notify(`cannot plan ${what}: ${describeError(error)}`, 'error');
    } finally {
      endJob(abort);
    }
  };

  /** The status judges source sanity with its slow parts too: while its verdict is recent, it is not worked out twice. */
  const statusHasSanity = (name: string): boolean => {
    const checkedAt = environmentStatus(get(), name)?.backupSanity?.checkedAt;
    return checkedAt !== undefined && Math.abs(secondsSince(checkedAt)) * 1000 < 2 * READ_EVERY_MS;
  };

  const read = async (name: string, force: boolean): Promise<void> => {
    let done!: () => void;
    reading.set(name, new Promise<void>((resolve) => (done = resolve)));
    try {
      patchEnv(name, { reading: true });
      const { env, policy, host } = contextOf(name);
      storeOverview(name, await readOverview(host, name, env, policy, { sanity: force || !statusHasSanity(name) }));
    } catch (error) {
      // What was read before stays on screen, with why it could not be read again (an error may quote a path from the host: made safe to print).
      patchEnv(name, { error: sanitizeLine(describeError(error)), readAt: now(), reading: false });
    } finally {
      reading.delete(name);
      done();
    }
  };

  /** Verify an archive with its progress in the pane; the report, or null when it did not finish. */
  const runVerify = async (name: string, host: Host, entry: CatalogEntry, kind: 'verify' | 'restore'): Promise<VerifyReport | null> => {
    const abort = startJob({ kind, environment: name, archive: entry.name, path: entry.path, phase: 'checksum' });
    const meter = new ProgressMeter();
    const outcome = { environment: name, archive: entry.name, path: entry.path };
    // Metered: tar reports every member, the pane is redrawn a few times a second at most; the
    // last report held back goes out a moment later (a long member must not leave an old figure).
    let latest: VerifyProgress | null = null;
    let trailing: NodeJS.Timeout | undefined;
    const show = () => {
      trailing = undefined;
      if (jobAbort !== abort || !latest || latest.phase !== 'extraction') return;
      const progress = meter.report(latest.bytes, latest.totalBytes, 'bytes', now(), { done: latest.files, total: latest.totalFiles });
      if (progress) patchJob({ phase: 'extraction', progress });
      else {
        if (backups().job?.phase !== 'extraction') patchJob({ phase: 'extraction' });
        trailing ??= setTimeout(show, PROGRESS_TRAIL_MS);
      }
    };
    try {
      const report = await verifyArchive(host, entry, {
        signal: abort.signal,
        // A read-only console leaves nothing behind on the host, not even the verify's record.
        record: !get().readonly,
        onProgress: (p) => {
          if (jobAbort !== abort) return;
          latest = p;
          if (p.phase === 'checksum') patchJob({ phase: 'checksum', progress: null });
          else if (!trailing) show();
        },
      });
      const record = recordOf(report);
      verifiedHere.set(entry.path, { record, sizeBytes: entry.sizeBytes, modifiedAt: entry.modifiedAt });
      const known = backups().byEnv[name]?.overview;
      if (known) patchEnv(name, { overview: { ...known, catalog: withLocalVerifies(known.catalog) } });
      patch({ lastVerify: { ...outcome, ok: report.ok, checks: report.checks, error: null, at: now() } });
      if (!report.ok) notify(`${entry.name} FAILED verify: ${report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`).join('; ')}`, 'error');
      else if (kind === 'verify') notify(`${entry.name} verified: ${report.checks.map((c) => c.name).join(', ')}`);
      return report;
    } catch (error) {
      const stopped = abort.signal.aborted;
      patch({ lastVerify: { ...outcome, ok: null, checks: [], error: stopped ? 'stopped before it finished' : sanitizeLine(describeError(error)), at: now() } });
      notify(stopped ? `verify of ${entry.name} stopped: nothing was changed` : `cannot verify ${entry.name}: ${describeError(error)}`, stopped ? 'info' : 'error');
      return null;
    } finally {
      clearTimeout(trailing);
      endJob(abort);
    }
  };

  /** Refused (a notice) or proposed: the console's own words where the plan speaks of CLI flags. */
  const propose = (op: Operation) => get().actions.propose(op);

  const actions: BackupsActions = {
    async readBackups({ env, force = false } = {}) {
      const name = env ?? get().selectedEnv;
      if (!name || !get().config.environments[name]?.backups) return;
      const running = reading.get(name);
      if (running) {
        if (!force) return running;
        // A forced read (an operation just ended) wants what is there now, not what a read begun before saw.
        await running;
      }
      const known = backups().byEnv[name];
      if (!force && known?.readAt != null && now() - known.readAt < READ_EVERY_MS) return;
      return read(name, force);
    },

    toggleBackupDetails(show) {
      patch({ details: show ?? !backups().details, detailsScroll: 0 });
    },

    scrollBackupDetails(delta) {
      patch({ detailsScroll: Math.max(0, backups().detailsScroll + delta) });
    },

    async verifyBackup() {
      if (busy()) return;
      const picked = selected();
      if (!picked) return;
      const context = contextOrSay(picked.name);
      if (!context) return;
      await runVerify(picked.name, context.host, picked.entry, 'verify');
    },

    async proposeBackupCreate() {
      if (busy()) return;
      const context = selectedContext();
      if (!context) return;
      const { name, env, policy } = context;
      // Source sanity as it is now, not as it was up to 30 s ago: it decides whether to archive at all.
      await planning({ kind: 'create', environment: name, archive: null, path: null, phase: 'sanity' }, `a backup of ${name}`, async (abort) => {
        await actions.readBackups({ env: name, force: true });
        if (abort.signal.aborted) return;
        const known = backups().byEnv[name];
        if (!known?.overview || known.error) return notify(`cannot check source sanity before a backup of ${name}: ${known?.error ?? 'not read'}`, 'error');
        const sanity = backupSanity(get(), name);
        const refusal = staleSourceRefusal(sanity, policy.source, name);
        if (refusal) {
          patch({ details: true, detailsScroll: 0 });
          return notify(`${refusal}. The evidence is below; point backups.source or dataDir at the live directory`, 'error');
        }
        propose(createBackupOperation(environmentTarget(get().config, deps.hosts, name), { environment: name, policy, unit: env.unit, details: sanity ? [`source sanity: ${sanity.verdict} — ${sanity.summary}`] : [] }));
      });
    },

    async proposeBackupPrune() {
      if (busy()) return;
      const context = selectedContext();
      if (!context) return;
      const { name, policy, host } = context;
      // The plan is made from the directory as it is now (a scheduled run may have added one).
      await planning({ kind: 'prune', environment: name, archive: null, path: null, phase: 'catalog' }, `a prune of ${name}'s backups`, async (abort) => {
        const catalog = withLocalVerifies(await readCatalog(host, policy));
        if (abort.signal.aborted) return;
        const known = backups().byEnv[name]?.overview;
        if (known) storeOverview(name, { ...known, catalog });
        if (catalog.error) return notify(`cannot prune ${name}'s backups: ${catalog.error}`, 'error');
        const { refusal, decision, op } = planPrune(environmentTarget(get().config, deps.hosts, name), { environment: name, policy, catalog, now: now() });
        if (refusal) return notify(`refusing to prune: ${refusal}. Look at it first (v verifies it, Enter shows why)`, 'error');
        if (op.steps.length === 0) return notify(`${name}: nothing to prune (${decision.keep.length} kept by the policy${decision.untouched.length > 0 ? `, ${decision.untouched.length} not named by it left alone` : ''})`);
        propose(op);
      });
    },

    async proposeBackupRestore(stopUnit) {
      if (busy()) return;
      const picked = selected();
      if (!picked) return;
      const { name, entry } = picked;
      const context = contextOrSay(name);
      if (!context) return;
      const { env, policy, host } = context;
      if (stopUnit && !env.unit) return notify(`${name} has no unit to stop around the swap`, 'warn');
      const into = policy.source;
      const refusal = restoreIntoRefusal(into, policy);
      if (refusal) return notify(refusal, 'error');
      // A restore never starts from an archive that does not verify, now.
      const report = await runVerify(name, host, entry, 'restore');
      if (!report) return;
      if (!report.ok) return notify(`refusing to restore ${entry.name}: it failed verify (${report.checks.filter((c) => !c.ok).map((c) => c.name).join(', ')}); pick another archive`, 'error');
      await planning({ kind: 'restore', environment: name, archive: entry.name, path: entry.path, phase: 'planning' }, `a restore of ${entry.name}`, async (abort) => {
        const op = await planRestore(host, environmentTarget(get().config, deps.hosts, name), {
          environment: name,
          policy,
          archive: { ...entry, verified: recordOf(report) },
          into,
          unit: stopUnit ? env.unit! : null,
          probe: env.health,
          ...(env.unit ? { howToStop: '"restore with the unit stopped" (R)' } : {}),
          sanity: backupSanity(get(), name),
        }, { signal: abort.signal });
        if (abort.signal.aborted) return;
        propose(op);
      });
    },

    stopBackupJob() {
      const job = backups().job;
      if (!job || !jobAbort) return false;
      if (job.stopping) return true;
      jobAbort.abort();
      patchJob({ stopping: true });
      notify(`stopping the ${job.kind}${job.archive ? ` of ${job.archive}` : ''}…`);
      return true;
    },
  };

  // Read when the pane is shown (and again at most every READ_EVERY_MS while it stays shown: the
  // 2 s refresh ticks this), and as soon as a backup operation ends.
  subscribe((state: AppState, previous: AppState) => {
    if (state.pane === 'backups' && state.selectedEnv) void actions.readBackups();
    const view = state.operation;
    if (view?.result && !previous.operation?.result && view.op.kind.startsWith('backup.') && view.op.environment) void actions.readBackups({ env: view.op.environment, force: true });
  });

  return {
    state: { backups: { byEnv: {}, details: false, detailsScroll: 0, job: null, lastVerify: null } },
    actions,
    stopJob: () => actions.stopBackupJob(),
  };
}
