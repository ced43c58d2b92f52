// What a status refresh holds (collect.ts fills it; the doctor's rules and every view read it).
// Types only, apart from collecting, so the doctor's rules can read a report without importing
// the code that collects one.
import type { BackupListing } from '../backups/listing.js';
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
  problems: Problem[];
  /** What could not be collected, and why. */
  errors: string[];
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


