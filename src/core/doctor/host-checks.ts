// The doctor's per-host looks, which status asks with its slow parts: once per host for all its
// environments (four commands at most however many there are), the space left where their code,
// data and backups live (stat -f), what systemd-analyze verify says of their units, how often
// their backups run (systemd-analyze calendar), and how often the kernel held back those with a
// CPUQuota= (cpu.stat). Verify's answer is kept while a unit's files stay the same, a calendar's
// for good: a console refreshing all day asks them again only when something changed.
import type { EnvironmentConfig } from '../../config/schema.js';
import { fileSystemSpace } from '../host/files.js';
import type { Host } from '../host/host.js';
import { calendarArgv, calendarIntervals, verifyArgv, verifyUnits } from '../systemd/analyze.js';
import { cpuThrottling } from '../systemd/cgroup.js';
import type { UnitStatus } from '../systemd/units.js';
import { describeError } from '../text/errors.js';
import { sanitizeLine } from '../text/sanitize.js';
import type { CpuFacts, DiskFacts, EnvironmentStatus, HostChecks, UnitVerifyFacts } from '../status/report.js';

type Role = DiskFacts['dirs'][number]['role'];
interface Entry {
  env: EnvironmentConfig;
  status: EnvironmentStatus;
  /** The looks of the refresh before, if any: CPU throttling is judged since then. */
  previous?: HostChecks | null;
}

/** Per host: what verify said of a unit while its files, their reload and its run are the same (editing a file flips NeedDaemonReload, a reload flips it back). */
const verifyCache = new WeakMap<Host, Map<string, string[]>>();
const verifyKey = (u: UnitStatus) => [u.name, u.fragmentPath, ...u.dropInPaths, String(u.needDaemonReload), u.invocationId].join('\0');
/** CPU throttling is judged since the read before only when that was at least this long ago; else since the unit started. */
const CPU_WINDOW_MS = 10_000;
/** Per host: a calendar expression's interval (it never changes). */
const calendarCache = new WeakMap<Host, Map<string, number | null>>();

function cacheOf<V>(caches: WeakMap<Host, Map<string, V>>, host: Host): Map<string, V> {
  let cache = caches.get(host);
  if (!cache || cache.size > 1000) caches.set(host, (cache = new Map()));
  return cache;
}

/** The directories of an environment whose file systems matter: its code, data and backups. */
function dirsOf({ env, status }: Entry): Array<{ dir: string; role: Role }> {
  const out: Array<{ dir: string; role: Role }> = [];
  const add = (dir: string | undefined, role: Role) => {
    if (dir && dir.startsWith('/') && !out.some((r) => r.dir === dir)) out.push({ dir, role });
  };
  // The code: the config's workingDir, else the unit's WorkingDirectory= (without systemd's "-" prefix: may be missing).
  add(env.workingDir ?? status.unit?.workingDirectory.replace(/^[-!~]+/, ''), 'code');
  add(env.dataDir, 'data');
  add(env.backups?.source, 'data');
  add(env.backups?.dir, 'backups');
  return out;
}

/** The units worth verifying: loaded ones (a missing one has its own finding). */
const unitOf = ({ status }: Entry) => (status.unit && status.unit.loadState === 'loaded' ? status.unit : null);
/** The units (its own and related) that run under a CPU quota: the ones the kernel may hold back. */
const quotaUnitsOf = ({ status }: Entry): UnitStatus[] =>
  [...(status.unit ? [status.unit] : []), ...status.relatedUnits].filter((u) => u.cpuQuotaPerSecUsec !== null && u.activeState === 'active' && u.controlGroup !== '');
/** A schedule worth knowing: opsdeck's timer runs the backups on it, and there is a newest archive to judge by it (backups made by cron, by hand or by an old job follow no schedule opsdeck knows). */
const scheduleOf = ({ env, status }: Entry) => (env.backups && status.backups?.newest && status.backupTimer?.loadState === 'loaded' ? env.backups.schedule : null);

/** The looks for every environment of one host; each says which of the looks it needed could not be asked. */
export async function hostChecks(host: Host, entries: readonly Entry[], signal?: AbortSignal): Promise<HostChecks[]> {
  const options = signal ? { signal } : {};
  const verified = cacheOf(verifyCache, host);
  const intervals = cacheOf(calendarCache, host);
  const dirs = [...new Set(entries.flatMap((e) => dirsOf(e).map((d) => d.dir)))];
  const units = [...new Map(entries.map(unitOf).filter((u) => u !== null).map((u) => [u.name, u])).values()];
  const toVerify = units.filter((u) => !verified.has(verifyKey(u)));
  const schedules = [...new Set(entries.map(scheduleOf).filter((s) => s !== null))];
  const groups = [...new Set(entries.flatMap((e) => quotaUnitsOf(e).map((u) => u.controlGroup)))];
  const failures = new Map<'space' | 'verify' | 'calendar' | 'cpu', string>();
  const failed = (look: 'space' | 'verify' | 'calendar' | 'cpu', what: string) => (error: unknown) => {
    failures.set(look, sanitizeLine(`host ${host.name}: ${what}: ${describeError(error)}`));
    return null;
  };
  const readAt = Date.now();
  const [space, , , throttling] = await Promise.all([
    dirs.length > 0 ? fileSystemSpace(host, dirs, options).catch(failed('space', 'the space left on its disks')) : null,
    toVerify.length > 0
      ? verifyUnits(host, toVerify, options).then((complaints) => toVerify.forEach((u) => verified.set(verifyKey(u), complaints.get(u.name) ?? [])), failed('verify', 'systemd-analyze verify'))
      : null,
    schedules.some((s) => !intervals.has(s))
      ? calendarIntervals(host, schedules, options).then((found) => schedules.forEach((s) => intervals.set(s, found.get(s) ?? null)), failed('calendar', 'systemd-analyze calendar'))
      : null,
    groups.length > 0 ? cpuThrottling(host, groups, options).catch(failed('cpu', 'the CPU counters of its cgroups')) : null,
  ]);
  const spaceFrom = `stat -f ${dirs.join(' ')}`;
  const verifyFrom = verifyArgv(units).join(' ');
  const calendarFrom = calendarArgv(schedules).join(' ');
  return entries.map((entry): HostChecks => {
    const disks = new Map<string, DiskFacts>();
    for (const d of dirsOf(entry)) {
      const fs = space?.get(d.dir);
      if (!fs) continue;
      const disk = disks.get(fs.id) ?? { dirs: [], sizeBytes: fs.sizeBytes, freeBytes: fs.freeBytes, inodes: fs.inodes, freeInodes: fs.freeInodes, from: spaceFrom };
      disk.dirs.push(d);
      disks.set(fs.id, disk);
    }
    const unit = unitOf(entry);
    const lines = unit ? verified.get(verifyKey(unit)) : undefined;
    const unitVerify: UnitVerifyFacts | null = unit && lines ? { unit: unit.name, lines, from: verifyFrom } : null;
    const schedule = scheduleOf(entry);
    const seconds = schedule ? intervals.get(schedule) : null;
    const quotaUnits = quotaUnitsOf(entry);
    const cpu = quotaUnits.flatMap((u): CpuFacts[] => {
      const stat = throttling?.get(u.controlGroup);
      if (!stat) return [];
      const { file, ...counters } = stat;
      // A read of the same run at least CPU_WINDOW_MS before: a shorter stretch says too little (the doctor pane may run just after a refresh).
      const before = entry.previous?.cpu.find((c) => c.unit === u.name && c.invocationId === u.invocationId && c.total.periods <= counters.periods && readAt - c.total.readAt >= CPU_WINDOW_MS);
      const judged = before
        ? { windowSec: Math.round((readAt - before.total.readAt) / 1000), periods: counters.periods - before.total.periods, throttled: counters.throttled - before.total.throttled, throttledUsec: counters.throttledUsec - before.total.throttledUsec }
        : { windowSec: null, ...counters };
      return [{ unit: u.name, invocationId: u.invocationId, total: { ...counters, readAt }, ...judged, from: `cat ${file}` }];
    });
    // Only the looks this environment needed: a failed verify is no concern of one without a unit.
    const needed: Array<['space' | 'verify' | 'calendar' | 'cpu', boolean]> = [['space', dirsOf(entry).length > 0], ['verify', unit !== null], ['calendar', schedule !== null], ['cpu', quotaUnits.length > 0]];
    const errors = needed.filter(([look, wanted]) => wanted && failures.has(look)).map(([look]) => failures.get(look)!);
    return { disks: [...disks.values()], unitVerify, backupSchedule: schedule && seconds ? { schedule, seconds, from: calendarFrom } : null, cpu, errors };
  });
}
