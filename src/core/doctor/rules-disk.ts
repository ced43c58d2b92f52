// The doctor's disk rule: little space or few inodes left on a file system holding the
// environment's code, data or backups. A full data disk stops the service writing; a full backups
// disk stops the backups (the create then fails, its partial removed). Fed by doctor.ts's one
// `stat -f` of those directories; one finding per file system, naming what lives there.
import { formatBytes } from '../text/humanize.js';
import type { FindingSeverity } from './finding.js';
import type { DiskFacts, Rule } from './facts.js';

/** Below this share free: warning; below this too in bytes (a big volume kept 91 % full by retention still has room). */
const DISK_LOW = { share: 0.1, bytes: 5 * 2 ** 30, inodes: 100_000 };
/** Below this share free and this much: critical (hours, not days, at a service's usual write rate). */
const DISK_CRITICAL = { share: 0.03, bytes: 2 ** 30, inodes: 20_000 };

const share = (free: number, total: number) => (total > 0 ? free / total : 1);
const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)} %`;

/** Low in share and in amount alike, of space or of inodes (a file system without inodes reports 0 of them). */
function severityOf(disk: DiskFacts): FindingSeverity | null {
  const below = (limit: typeof DISK_LOW) =>
    (share(disk.freeBytes, disk.sizeBytes) < limit.share && disk.freeBytes < limit.bytes) || (disk.inodes > 0 && share(disk.freeInodes, disk.inodes) < limit.share && disk.freeInodes < limit.inodes);
  return below(DISK_CRITICAL) ? 'critical' : below(DISK_LOW) ? 'warning' : null;
}

export const diskRule: Rule = ({ status, disks = [] }, emit) => {
  for (const disk of disks) {
    const severity = severityOf(disk);
    if (!severity) continue;
    const bytes = share(disk.freeBytes, disk.sizeBytes);
    const inodes = share(disk.freeInodes, disk.inodes);
    const what = disk.dirs.map((d) => `${d.role} ${d.dir}`).join(', ');
    const short = bytes <= inodes ? `${formatBytes(disk.freeBytes)} free of ${formatBytes(disk.sizeBytes)} (${pct(bytes)})` : `${disk.freeInodes} inodes free of ${disk.inodes} (${pct(inodes)})`;
    emit('disk-low', severity, {
      key: disk.dirs[0]!.dir,
      title: `low disk space on host ${status.host} for ${what}: ${short}`,
      evidence: [
        { text: `${formatBytes(disk.freeBytes)} of ${formatBytes(disk.sizeBytes)} free (${pct(bytes)}); ${disk.freeInodes} of ${disk.inodes} inodes free (${pct(inodes)})`, from: disk.from },
        ...disk.dirs.map((d) => ({ text: `${d.dir} (${d.role}) is on this file system`, from: disk.from })),
      ],
      note: disk.dirs.some((d) => d.role === 'backups') ? `free space there (opsdeck backup prune removes archives the retention policy no longer keeps), or move the data to a larger disk` : `free space on that file system, or move the data to a larger disk`,
    });
  }
};
