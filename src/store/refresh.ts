// One refresh of the console's state: collect every environment's status (one systemctl per
// host), append the sparkline samples, and, when the processes pane lists every service,
// those too; then one store update. Refreshes never overlap: a slow host delays the next one.
import { describeError } from '../core/errors.js';
import { collectStatus, type StatusReport } from '../core/status.js';
import { listUnits, showUnits } from '../core/systemd.js';
import type { AppDeps, AppState, HostUnit } from './app-store.js';

const HISTORY = 60;
/** Backups listings and tool counts change slowly: asked for this often only. */
const SLOW_EVERY_MS = 30_000;

export function createRefresher(deps: AppDeps, get: () => AppState, set: (patch: Partial<AppState>) => void, afterUpdate: () => void): () => Promise<void> {
  const now = deps.now ?? Date.now;
  let inFlight: Promise<void> | null = null;
  let slowCollectedAt = -Infinity;
  return () => {
    if (inFlight) return inFlight;
    const started = now();
    inFlight = (async () => {
      try {
        const reuse = now() - slowCollectedAt < SLOW_EVERY_MS ? (get().status ?? undefined) : undefined;
        const report = await collectStatus(deps.config, deps.hosts, undefined, { reuseSlow: reuse });
        if (!reuse) slowCollectedAt = now();
        const history = { ...get().history };
        for (const env of report.environments) {
          const samples = [...(history[env.name] ?? []), { at: now(), latencyMs: env.health?.latencyMs ?? null, restarts: env.unit?.nRestarts ?? 0 }];
          history[env.name] = samples.slice(-HISTORY);
        }
        const allUnits = get().processes.showAll ? await collectAllUnits(deps, report) : get().allUnits;
        const selectedEnv = get().selectedEnv ?? report.environments[0]?.name ?? null;
        // One update per refresh: every render costs CPU on a console left open all day.
        set({ status: report, statusError: null, history, allUnits, selectedEnv, lastRefreshMs: now() - started, lastRefreshAt: now() });
        afterUpdate();
      } catch (error) {
        // lastRefreshAt stays: the data on screen is as old as the last refresh that worked.
        set({ statusError: describeError(error), lastRefreshMs: now() - started });
      } finally {
        inFlight = null;
      }
    })();
    return inFlight;
  };
}

/** Every service unit on the environments' hosts, with full properties (two calls per host). */
async function collectAllUnits(deps: AppDeps, report: StatusReport): Promise<HostUnit[]> {
  const results = await Promise.all(
    report.hosts
      .filter((h) => h.reachable)
      .map(async (h) => {
        const host = deps.hosts.get(h.name);
        const names = (await listUnits(host, { types: ['service'] })).map((u) => u.name);
        const units = await showUnits(host, names);
        return [...units.values()].map((u) => ({ ...u, host: h.name }));
      }),
  );
  return results.flat();
}
