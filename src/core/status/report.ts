// What a status refresh holds (collect.ts fills it; the doctor's rules and every view read it).
// Types only, apart from collecting, so the doctor's rules can read a report without importing
// the code that collects one.
import type { BackupListing } from '../backups/listing.js';
import type { CpuThrottling } from '../systemd/cgroup.js';
import type { LogEntry } from '../journal/parse.js';
import type { SourceSanity } from '../backups/sanity.js';
import type { Listener } from '../systemd/listeners.js';
import type { UnitStatus } from '../systemd/units.js';
import type { HealthResult } from './health.js';

export type Severity = 'critical' | 'warning';

export interface Problem {
  code: string;
  severity: Severity;
  message: string;
}

export interface EnvironmentStatus {
  name: string;
  host: string;
  transport: string;
  protected: boolean;
  unit: UnitStatus | null;
  relatedUnits: UnitStatus[];
  health: HealthResult | null;
  /** Sockets listening on the environment's ports. */
  listeners: Listener[];
  backups: BackupListing | null;
  /** Do the backups hold the data the service writes (sanity.ts)? Asked with the slow parts. */
  backupSanity: SourceSanity | null;
  /** opsdeck's backup timer of the environment (opsdeck backup schedule), as the refresh's show saw it; null without backups. */
  backupTimer: UnitStatus | null;
  /** While the unit fails or crash-loops: its newest notice-or-worse journal lines, read when it
   *  starts failing and then with the slow parts (unit-journal.ts); null otherwise. */
  journal: UnitJournal | null;
  /** The doctor's per-host looks (doctor/host-checks.ts), asked with the slow parts; null when the host could not be reached. */
  checks: HostChecks | null;
  problems: Problem[];
  /** What could not be collected, and why. */
  errors: string[];
}

/** What the doctor's per-host looks (doctor/host-checks.ts) found of one environment. */
export interface HostChecks {
  /** The file systems holding its code, data and backups (stat -f). */
  disks: DiskFacts[];
  /** What `systemd-analyze verify` says of its unit file. */
  unitVerify: UnitVerifyFacts | null;
  /** How often its backups run: the schedule's OnCalendar= and its interval, when opsdeck's timer runs them (systemd-analyze calendar). */
  backupSchedule: { schedule: string; seconds: number; from: string } | null;
  /** How often the kernel held back its units that have a CPUQuota= (their cgroups' cpu.stat). */
  cpu: CpuFacts[];
  /** The looks it needed that could not be asked, and why (its findings then say less). */
  errors: string[];
}

/** One file system, and which of the environment's directories it holds. */
export interface DiskFacts {
  /** The directories on it and what each is ("data /srv/app/data"). */
  dirs: Array<{ dir: string; role: 'code' | 'data' | 'backups' }>;
  sizeBytes: number;
  freeBytes: number;
  inodes: number;
  freeInodes: number;
  from: string;
}

export interface UnitVerifyFacts {
  unit: string;
  /** Its complaints, sanitized, one per line. */
  lines: string[];
  from: string;
}

/** A unit's CPU bandwidth counters, and the stretch of time its findings judge. */
export interface CpuFacts {
  unit: string;
  /** The run of the unit they belong to (a restart makes a new cgroup: the counters start again). */
  invocationId: string;
  /** The counters as read (since the unit started or got its quota), and when (ms since the epoch). */
  total: CpuThrottling & { readAt: number };
  /** The earlier read they were judged against (null: since the run began); the next read may use it when this one is too recent. */
  baseline: (CpuThrottling & { readAt: number }) | null;
  /** What is judged: since the baseline (that many seconds), else since the run began (null). */
  windowSec: number | null;
  periods: number;
  throttled: number;
  throttledUsec: number;
  from: string;
}

/** A unit's journal lines, oldest first, and the command they came from. */
export interface UnitJournal {
  unit: string;
  from: string;
  entries: Array<Pick<LogEntry, 'timeUs' | 'priority' | 'message' | 'origin'>>;
}

export interface StatusReport {
  collectedAt: string;
  durationMs: number;
  environments: EnvironmentStatus[];
  hosts: HostStatus[];
}

export interface HostStatus {
  name: string;
  transport: string;
  reachable: boolean;
  error: string | null;
  /** Processes this refresh spawned on the host. */
  spawned: number;
  /** Every listening socket on the host (environments keep those on their ports). */
  listeners: Listener[];
}


