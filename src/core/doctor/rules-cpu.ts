// The doctor's CPU rule: a unit held back by its CPUQuota=. Whenever it uses up its quota within
// a scheduler period, the kernel stops all its threads until the next one, so requests wait
// while the host may have cores idle. Fed by host-checks.ts's read of the units' cpu.stat.
import type { Rule } from './facts.js';
import { show } from './finding.js';

/** Throttled in at least this share of the periods it ran: the limit shapes how it runs, not a spike. */
export const CPU_THROTTLED_SHARE = 0.25;
/** Fewer periods than this (1 s of wanting the CPU at the default 100 ms) say too little. */
export const CPU_MIN_PERIODS = 10;

const seconds = (usec: number) => `${(usec / 1e6).toFixed(usec < 10e6 ? 1 : 0)} s`;
const quotaPercent = (perSecUsec: number) => `${Math.round(perSecUsec / 1e4)}%`;

export const cpuRule: Rule = ({ status, cpu = [] }, emit) => {
  for (const { unit: name, periods, throttled, throttledUsec, from } of cpu) {
    const unit = [status.unit, ...status.relatedUnits].find((u) => u?.name === name);
    if (!unit || unit.cpuQuotaPerSecUsec === null || periods < CPU_MIN_PERIODS || throttled < CPU_THROTTLED_SHARE * periods) continue;
    const quota = `CPUQuota=${quotaPercent(unit.cpuQuotaPerSecUsec)}`;
    emit('cpu-throttled', 'warning', {
      key: unit === status.unit ? undefined : unit.name,
      title: `${unit.name} is held back by its CPU limit: throttled in ${throttled} of ${periods} periods (${Math.round((throttled / periods) * 100)} %) at ${quota}`,
      evidence: [
        { text: `nr_periods ${periods}, nr_throttled ${throttled}: stopped ${seconds(throttledUsec)} in all since it started or got its limit (cgroup ${unit.controlGroup})`, from },
        { text: `CPUQuotaPerSecUSec=${unit.cpuQuotaPerSecUsec}us: ${quota} of one CPU`, from: show(unit.name, 'CPUQuotaPerSecUSec') },
      ],
      note: `each time it uses up its quota within a 100 ms period the kernel stops it until the next, and requests wait: find what burns the CPU, or raise CPUQuota= (opsdeck unit override)`,
    });
  }
};
