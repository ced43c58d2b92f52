// How often the kernel held a unit back at its CPUQuota=: the CPU controller's bandwidth counters
// in the unit's cgroup (cpu.stat). systemd does not show them, and CPUUsageNSec= is unset where
// the cpuacct controller is apart (cgroup v1). cgroup v2 keeps the file in the unit's own cgroup,
// v1 under the cpu controller's hierarchy: one grep reads every place for every unit and skips
// the ones that do not exist.
import type { Host, RunOptions } from '../host/host.js';

/** The CPU bandwidth counters of one cgroup, since it was made (the unit's start) or got its quota. */
export interface CpuThrottling {
  /** Scheduler periods (100 ms by default) in which the cgroup wanted to run. */
  periods: number;
  /** Of those, the periods in which it used up its quota and was stopped until the next. */
  throttled: number;
  /** Time spent stopped, in µs. */
  throttledUsec: number;
}

/** Where a cgroup's cpu.stat may be: cgroup v2's single tree, then v1's cpu controller (joint with cpuacct or not). */
const ROOTS = ['/sys/fs/cgroup', '/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct'];

/** A control group as systemd names it: absolute, and never leading out of the cgroup tree. */
const isControlGroup = (group: string) => group.startsWith('/') && !group.split('/').includes('..') && !/[\0\n]/.test(group);

function cpuStatFiles(group: string): string[] {
  return isControlGroup(group) ? ROOTS.map((root) => `${root}${group === '/' ? '' : group}/cpu.stat`) : [];
}

export function cpuStatArgv(groups: readonly string[]): string[] {
  // -s: a place that does not exist on this host is no error to report; -H: each line says its file.
  return ['grep', '-s', '-H', '-e', '', '--', ...groups.flatMap(cpuStatFiles)];
}

/** cpu.stat's lines, as `grep -H` printed them, for one cgroup: the first place that has the bandwidth counters, and that place. */
export function parseCpuStat(output: string, group: string): (CpuThrottling & { file: string }) | null {
  for (const file of cpuStatFiles(group)) {
    const prefix = `${file}:`;
    const values = new Map<string, number>();
    for (const line of output.split('\n')) {
      if (!line.startsWith(prefix)) continue;
      const [key, value] = line.slice(prefix.length).split(' ');
      if (key && value && /^\d+$/.test(value)) values.set(key, Number(value));
    }
    const periods = values.get('nr_periods');
    const throttled = values.get('nr_throttled');
    if (periods === undefined || throttled === undefined) continue;
    // v2 counts the time in µs, v1 in ns.
    const throttledUsec = values.get('throttled_usec') ?? Math.round((values.get('throttled_time') ?? 0) / 1000);
    return { periods, throttled, throttledUsec, file };
  }
  return null;
}

/** The bandwidth counters of each of `groups` (by group) that has them, in one command. */
export async function cpuThrottling(host: Host, groups: readonly string[], options: RunOptions = {}): Promise<Map<string, CpuThrottling & { file: string }>> {
  const wanted = groups.filter(isControlGroup);
  const out = new Map<string, CpuThrottling & { file: string }>();
  if (wanted.length === 0) return out;
  // 1: nothing matched; 2: a place did not exist (-s keeps it quiet, not the exit status; an
  // unreadable cpu.stat, which cgroups never have, would look the same: no counters, no finding).
  const { stdout } = await host.run(cpuStatArgv(wanted), { ...options, okExitCodes: [0, 1, 2] });
  for (const group of wanted) {
    const stat = parseCpuStat(stdout, group);
    if (stat) out.set(group, stat);
  }
  return out;
}
