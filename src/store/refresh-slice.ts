// Refreshing the status: collect every environment's status (one systemctl per host), append
// the sparkline samples, and, when the processes pane lists every service, those too; then one
// store update. Refreshes never overlap: a slow host delays the next one.
import { describeError } from '../core/text/errors.js';
import type { Host } from '../core/host/host.js';
import { collectStatus } from '../core/status/collect.js';
import { listUnits, showUnits } from '../core/systemd/units.js';
import type { AppDeps, HostUnit, RefreshActions, Slice, SliceContext } from './types.js';

const HISTORY = 60;
/** Backups listings, tool counts, a failing unit's journal and the doctor's per-host looks change slowly: asked for this often only. */
const SLOW_EVERY_MS = 30_000;

export type RefreshSlice = Slice<'status' | 'statusError' | 'lastRefreshMs' | 'lastRefreshAt' | 'history' | 'allUnits', RefreshActions>;

/** `afterUpdate` runs right after each refresh's update (the navigation keeps its selected row). */
export function createRefreshSlice({ deps, set, get, now }: SliceContext, afterUpdate: () => void): RefreshSlice {
  let inFlight: Promise<void> | null = null;
  let slowCollectedAt = -Infinity;
  /** Asked for (an operation ended: it changed what the slow parts saw): the next refresh asks them all again. */
  let slowStale = false;
  const serviceNames = new Map<Host, { names: string[]; at: number }>();
  const refresh: RefreshActions['refresh'] = ({ slow = false } = {}) => {
    if (slow) slowStale = true;
    if (inFlight) return inFlight;
    const started = now();
    inFlight = (async () => {
      try {
        const reuse = now() - slowCollectedAt < SLOW_EVERY_MS && !slowStale ? (get().status ?? undefined) : undefined;
        slowStale = false;
        // The processes pane's "every service" list is asked alongside, not after, the status.
        const [report, allUnits] = await Promise.all([
          collectStatus(deps.config, deps.hosts, undefined, { reuseSlow: reuse, previous: get().status }),
          get().processes.showAll ? collectAllUnits(deps, serviceNames, now) : get().allUnits,
        ]);
        if (!reuse) slowCollectedAt = now();
        const history = { ...get().history };
        for (const env of report.environments) {
          const samples = [...(history[env.name] ?? []), { at: now(), latencyMs: env.health?.latencyMs ?? null, restarts: env.unit?.nRestarts ?? 0 }];
          history[env.name] = samples.slice(-HISTORY);
        }
        const selectedEnv = get().selectedEnv ?? report.environments[0]?.name ?? null;
        // One update per refresh: every render costs CPU on a console left open all day.
        set({ status: report, statusError: null, history, allUnits, selectedEnv, lastRefreshMs: now() - started, lastRefreshAt: now() });
        // Operations left open on the hosts, for the header (asked every few seconds, not every refresh).
        void get().actions.refreshOpenOperations();
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
  return {
    state: { status: null, statusError: null, lastRefreshMs: null, lastRefreshAt: null, history: {}, allUnits: [] },
    actions: { refresh },
  };
}

/**
 * Every service unit on the environments' hosts, with full properties: one `systemctl show`
 * per host, and the list of their names (`list-units`) only as often as the slow data. A host
 * that does not answer has no rows; its status says why.
 */
async function collectAllUnits(deps: AppDeps, names: Map<Host, { names: string[]; at: number }>, now: () => number): Promise<HostUnit[]> {
  const hosts = new Set(Object.values(deps.config.environments).map((env) => deps.hosts.get(env.host)));
  const results = await Promise.all(
    [...hosts].map(async (host) => {
      try {
        let known = names.get(host);
        if (!known || now() - known.at >= SLOW_EVERY_MS) {
          known = { names: (await listUnits(host, { types: ['service'] })).map((u) => u.name), at: now() };
          names.set(host, known);
        }
        const units = await showUnits(host, known.names);
        return [...units.values()].map((u) => ({ ...u, host: host.name }));
      } catch {
        return [];
      }
    }),
  );
  return results.flat();
}
