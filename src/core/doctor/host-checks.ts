// The doctor's per-host looks, which status asks with its slow parts: once per host for all its
// environments (four commands at most however many there are), the space left where their code,
// data and backups live (stat -f), what systemd-analyze verify says of their units, how often
// their backups run (systemd-analyze calendar), and how often the kernel held back those with a
// CPUQuota= (cpu.stat). Verify's answer is kept while a unit's files and their reload state stay
// as they were (ten minutes at most), a calendar's for good: a console refreshing all day asks
// them again only when something changed.
import type { EnvironmentConfig } from '../../config/schema.js';
import { fileSystemSpace } from '../host/files.js';
import type { Host } from '../host/host.js';
import { calendarArgv, calendarIntervals, verifyArgv, verifyUnits } from '../systemd/analyze.js';
import { cpuThrottling } from '../systemd/cgroup.js';
import { barePath, type UnitStatus } from '../systemd/units.js';
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

/**
 * Per host and unit: what verify said, and of which state of the unit: its files, whether they
 * changed since the last reload, when it was asked. Editing a file flips NeedDaemonReload, a
 * reload flips it back: either way the state differs from the one kept, and verify runs again;
 * and at least every VERIFY_FOR_MS (what verify checks beyond the files, an ExecStart= binary, may change).
 */
const verifyCache = new WeakMap<Host, Map<string, { state: string; lines: string[]; at: number }>>();
const VERIFY_FOR_MS = 10 * 60_000;
const unitState = (u: UnitStatus) => [u.fragmentPath, ...u.dropInPaths, String(u.needDaemonReload)].join('\0');
/** CPU throttling is judged since a read at least this long before (else since the unit started): a shorter stretch says too little. */
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
  add(env.workingDir ?? (status.unit ? barePath(status.unit.workingDirectory) : undefined), 'code');
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

type Look = 'space' | 'verify' | 'calendar' | 'cpu';

/** The looks for every environment of one host; each says which of the looks it needed could not be asked. */
export async function hostChecks(host: Host, entries: readonly Entry[], signal?: AbortSignal): Promise<HostChecks[]> {
  const options = signal ? { signal } : {};
  const verified = cacheOf(verifyCache, host);
  const intervals = cacheOf(calendarCache, host);
  const readAt = Date.now();
  // What each environment wants looked at, worked out once.
  const wanted = entries.map((entry) => ({ entry, dirs: dirsOf(entry), unit: unitOf(entry), schedule: scheduleOf(entry), quotaUnits: quotaUnitsOf(entry) }));
  const dirs = [...new Set(wanted.flatMap((w) => w.dirs.map((d) => d.dir)))];
  const units = [...new Map(wanted.map((w) => w.unit).filter((u) => u !== null).map((u) => [u.name, u])).values()];
  const toVerify = units.filter((u) => {
    const kept = verified.get(u.name);
    return !kept || kept.state !== unitState(u) || readAt - kept.at > VERIFY_FOR_MS;
  });
  const schedules = [...new Set(wanted.map((w) => w.schedule).filter((s) => s !== null))];
  const groups = [...new Set(wanted.flatMap((w) => w.quotaUnits.map((u) => u.controlGroup)))];
  const failures = new Map<Look, string>();
  const failed = (look: Look, what: string) => (error: unknown) => {
    failures.set(look, sanitizeLine(`host ${host.name}: ${what}: ${describeError(error)}`));
    return null;
  };
  const [space, , , throttling] = await Promise.all([
    dirs.length > 0 ? fileSystemSpace(host, dirs, options).catch(failed('space', 'the space left on its disks')) : null,
    toVerify.length > 0
      ? verifyUnits(host, toVerify, options).then((complaints) => toVerify.forEach((u) => verified.set(u.name, { state: unitState(u), lines: complaints.get(u.name) ?? [], at: readAt })), failed('verify', 'systemd-analyze verify'))
      : null,
    schedules.some((s) => !intervals.has(s))
      ? calendarIntervals(host, schedules, options).then((found) => schedules.forEach((s) => intervals.set(s, found.get(s) ?? null)), failed('calendar', 'systemd-analyze calendar'))
      : null,
    groups.length > 0 ? cpuThrottling(host, groups, options).catch(failed('cpu', 'the CPU counters of its cgroups')) : null,
  ]);
  const spaceFrom = `stat -f ${dirs.join(' ')}`;
  const verifyFrom = verifyArgv(units).join(' ');
  const calendarFrom = calendarArgv(schedules).join(' ');
  return wanted.map(({ entry, dirs: mine, unit, schedule, quotaUnits }): HostChecks => {
    const disks = new Map<string, DiskFacts>();
    for (const d of mine) {
      const fs = space?.get(d.dir);
      if (!fs) continue;
      const disk = disks.get(fs.id) ?? { dirs: [], sizeBytes: fs.sizeBytes, freeBytes: fs.freeBytes, inodes: fs.inodes, freeInodes: fs.freeInodes, from: spaceFrom };
      disk.dirs.push(d);
      disks.set(fs.id, disk);
    }
    const kept = unit ? verified.get(unit.name) : undefined;
    const lines = kept && kept.state === unitState(unit!) ? kept.lines : undefined;
    const unitVerify: UnitVerifyFacts | null = unit && lines ? { unit: unit.name, lines, from: verifyFrom } : null;
    const seconds = schedule ? intervals.get(schedule) : null;
    const cpu = quotaUnits.flatMap((u): CpuFacts[] => {
      const stat = throttling?.get(u.controlGroup);
      if (!stat) return [];
      const { file, ...counters } = stat;
      // The newest earlier read of the same run at least CPU_WINDOW_MS old: the one before, or the one it was judged against (the doctor pane may run just after a refresh).
      const before = entry.previous?.cpu.find((c) => c.unit === u.name && c.invocationId === u.invocationId);
      const baseline = [before?.total, before?.baseline].find((b) => b && b.periods <= counters.periods && readAt - b.readAt >= CPU_WINDOW_MS) ?? null;
      const judged = baseline
        ? { windowSec: Math.round((readAt - baseline.readAt) / 1000), periods: counters.periods - baseline.periods, throttled: counters.throttled - baseline.throttled, throttledUsec: counters.throttledUsec - baseline.throttledUsec }
        : { windowSec: null, ...counters };
      return [{ unit: u.name, invocationId: u.invocationId, total: { ...counters, readAt }, baseline, ...judged, from: `cat ${file}` }];
    });
    // Only the looks this environment needed: a failed verify is no concern of one without a unit.
    const needed: Array<[Look, boolean]> = [['space', mine.length > 0], ['verify', unit !== null && toVerify.some((u) => u.name === unit.name)], ['calendar', schedule !== null], ['cpu', quotaUnits.length > 0]];
    const errors = needed.filter(([look, wanted]) => wanted && failures.has(look)).map(([look]) => failures.get(look)!);
    return { disks: [...disks.values()], unitVerify, backupSchedule: schedule && seconds ? { schedule, seconds, from: calendarFrom } : null, cpu, errors };
  });
}
