// The doctor's CPU rule: a unit held back by its CPUQuota=. Whenever it uses up its quota within
// a scheduler period, the kernel stops all its threads until the next one, so requests wait
// while the host may have cores idle. Fed by host-checks.ts's read of the units' cpu.stat: judged
// since an earlier read at least 10 s old (the console's, every 30 s), else since the unit started.
import { formatAge } from '../text/humanize.js';
import type { Rule } from './facts.js';
import { show } from './finding.js';

/** Throttled in at least this share of the periods it ran: the limit shapes how it runs, not a spike. */
export const CPU_THROTTLED_SHARE = 0.25;
/** Fewer periods than this (1 s of wanting the CPU at the default 100 ms) say too little. */
export const CPU_MIN_PERIODS = 10;

const seconds = (usec: number) => `${(usec / 1e6).toFixed(usec < 10e6 ? 1 : 0)} s`;
/** CPUQuota= as written: 20%, 12.5%, 150%. */
const quotaPercent = (perSecUsec: number) => `${Math.round(perSecUsec / 1e3) / 10}%`;

export const cpuRule: Rule = ({ status, cpu = [] }, emit) => {
  for (const { unit: name, periods, throttled, throttledUsec, windowSec, total, from } of cpu) {
    const unit = [status.unit, ...status.relatedUnits].find((u) => u?.name === name);
    if (!unit || unit.cpuQuotaPerSecUsec === null || periods < CPU_MIN_PERIODS || throttled < CPU_THROTTLED_SHARE * periods) continue;
    const quota = `CPUQuota=${quotaPercent(unit.cpuQuotaPerSecUsec)}`;
    const when = windowSec === null ? 'since it started' : `in the last ${formatAge(windowSec)}`;
    emit('cpu-throttled', 'warning', {
      key: unit === status.unit ? undefined : unit.name,
      title: `${unit.name} is held back by its CPU limit: throttled in ${throttled} of ${periods} periods (${Math.round((throttled / periods) * 100)} %) ${when}, at ${quota}`,
      evidence: [
        {
          text: `${windowSec === null ? 'since it started or got its limit' : `${when} (since an earlier read)`}: ${periods} periods it wanted the CPU, ${throttled} of them stopped, ${seconds(throttledUsec)} stopped in all (cgroup ${unit.controlGroup}: nr_periods ${total.periods}, nr_throttled ${total.throttled})`,
          from,
        },
        { text: `${quota} of one CPU: ${Math.round(unit.cpuQuotaPerSecUsec / 1000)} ms of CPU time per second`, from: show(unit.name, 'CPUQuotaPerSecUSec') },
      ],
      note: `each time it uses up its quota within a scheduler period (100 ms unless CPUQuotaPeriodSec= sets another) the kernel stops it until the next, and requests wait: find what burns the CPU, or raise CPUQuota= (opsdeck unit override)`,
    });
  }
};
