// The doctor's quick looks beyond a refresh, asked once per host for all its environments (four
// commands at most however many there are): the space left where their code, data and backups
// live (stat -f), what systemd-analyze verify says of their units, how often their backups run
// (systemd-analyze calendar), and how often the kernel held back those with a CPUQuota= (cpu.stat).
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

/** The looks for every environment of one host; what could not be asked goes to `errors` (the findings then say less). */
export async function hostChecks(host: Host, entries: readonly Entry[], errors: string[], signal?: AbortSignal): Promise<HostChecks[]> {
  const options = signal ? { signal } : {};
  const dirs = [...new Set(entries.flatMap((e) => dirsOf(e).map((d) => d.dir)))];
  const units = [...new Map(entries.map(unitOf).filter((u) => u !== null).map((u) => [u.name, u])).values()];
  const schedules = [...new Set(entries.map(scheduleOf).filter((s) => s !== null))];
  const groups = [...new Set(entries.flatMap((e) => quotaUnitsOf(e).map((u) => u.controlGroup)))];
  const failed = (what: string) => (error: unknown) => {
    errors.push(sanitizeLine(`host ${host.name}: ${what}: ${describeError(error)}`));
    return null;
  };
  const [space, verified, intervals, throttling] = await Promise.all([
    dirs.length > 0 ? fileSystemSpace(host, dirs, options).catch(failed('the space left on its disks')) : null,
    units.length > 0 ? verifyUnits(host, units, options).catch(failed('systemd-analyze verify')) : null,
    schedules.length > 0 ? calendarIntervals(host, schedules, options).catch(failed('systemd-analyze calendar')) : null,
    groups.length > 0 ? cpuThrottling(host, groups, options).catch(failed('the CPU counters of its cgroups')) : null,
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
    const lines = unit ? verified?.get(unit.name) : undefined;
    const unitVerify: UnitVerifyFacts | null = unit && lines ? { unit: unit.name, lines, from: verifyFrom } : null;
    const schedule = scheduleOf(entry);
    const seconds = schedule ? intervals?.get(schedule) : null;
    const cpu = quotaUnitsOf(entry).flatMap((u): CpuFacts[] => {
      const stat = throttling?.get(u.controlGroup);
      return stat ? [{ ...stat, unit: u.name, from: `cat ${stat.file}` }] : [];
    });
    return { disks: [...disks.values()], unitVerify, backupSchedule: schedule && seconds ? { schedule, seconds, from: calendarFrom } : null, cpu };
  });
}
