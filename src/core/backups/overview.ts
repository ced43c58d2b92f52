// An environment's backups at a glance, for `opsdeck backup list` and the backups pane: the
// archives (catalog.ts), the source-sanity verdict (sanity.ts), and the scheduled job (its
// timer's last and next run, the last run's result).
import type { EnvironmentConfig } from '../../config/schema.js';
import type { Host, RunOptions } from '../host/host.js';
import { showUnits } from '../systemd/units.js';
import { readCatalog, type BackupCatalog } from './catalog.js';
import { scheduleUnits } from './plans.js';
import type { ResolvedPolicy } from './policy.js';
import { checkSourceSanity, type SourceSanity } from './sanity.js';

export interface ScheduleState {
  timer: string;
  installed: boolean;
  active: boolean;
  nextRun: string | null;
  lastRun: string | null;
  /** The service's last result (success, exit-code…; running while it runs), or null when it never ran. */
  lastResult: string | null;
}

export interface BackupOverview {
  environment: string;
  host: string;
  policy: ResolvedPolicy;
  catalog: BackupCatalog;
  sanity: SourceSanity | null;
  schedule: ScheduleState;
}

async function readSchedule(host: Host, environment: string, options: RunOptions = {}): Promise<ScheduleState> {
  const units = scheduleUnits(environment);
  const states = await showUnits(host, [units.timer, units.service], options);
  const timer = states.get(units.timer);
  const service = states.get(units.service);
  const installed = Boolean(timer && timer.loadState === 'loaded');
  // A run by hand (systemctl start) counts too: the service's own last invocation says when and how it ended.
  const ran = service && service.loadState === 'loaded' && service.invocationId !== '' ? service : null;
  const running = ran && (ran.activeState === 'activating' || ran.activeState === 'active');
  const times = [installed ? timer!.lastTrigger : null, ran?.stateChangedAt ?? null].filter((t): t is string => t !== null).sort();
  return {
    timer: units.timer,
    installed,
    active: installed && timer!.activeState === 'active',
    nextRun: installed ? timer!.nextElapse : null,
    lastRun: times.at(-1) ?? null,
    lastResult: running ? 'running' : ran ? ran.result : null,
  };
}

export async function readOverview(host: Host, environment: string, env: EnvironmentConfig, policy: ResolvedPolicy, options: RunOptions & { sanity?: boolean } = {}): Promise<BackupOverview> {
  const { sanity: withSanity = true, ...run } = options;
  const [catalog, schedule] = await Promise.all([readCatalog(host, policy, run), readSchedule(host, environment, run)]);
  const sanity = withSanity ? await checkSourceSanity(host, { envName: environment, env, policy, archives: catalog.entries }, run) : null;
  return { environment, host: host.name, policy, catalog, sanity, schedule };
}
