// What the doctor's rules read of an environment, and how a rule says a finding: the types the
// rule files (rules-*.ts) share, apart from rules.ts, which runs them, so none imports another.
import type { EnvironmentConfig } from '../../config/schema.js';
import type { EnvironmentStatus, UnitJournal } from '../status/report.js';
import type { CpuThrottling } from '../systemd/cgroup.js';
import type { DataVar } from '../systemd/data-env.js';
import type { UnitStatus } from '../systemd/units.js';
import type { Finding, FindingSeverity, Fix } from './finding.js';

/** The journal lines of the environment's failing unit (status reads them: unit-journal.ts), oldest first. */
export type JournalFacts = UnitJournal;

/** What the doctor learned of a process holding one of the environment's ports. */
export interface ProcessFacts {
  pid: number;
  cwd: string | null;
  /** Its environment's variables that name a data directory (DATA_DIR=…): only those, never its secrets. */
  dataEnv?: DataVar[];
  /** Regular files it has open for writing (neither stdio nor logs). */
  writing?: string[];
  /** Seconds it has been running. */
  runningSec: number | null;
}

export interface EnvironmentFacts {
  environment: string;
  env: EnvironmentConfig;
  status: EnvironmentStatus;
  hostError: string | null;
  /** Extra facts: absent when only status is asked (the rules then say what they can without them). */
  journal?: JournalFacts | null;
  processes?: ProcessFacts[];
  /** How often the backups run: the schedule's OnCalendar= and its interval (host-checks.ts asks systemd-analyze calendar, when opsdeck's timer runs them). */
  backupSchedule?: { schedule: string; seconds: number; from: string } | null;
  /** The file systems holding the environment's code, data and backups (host-checks.ts: stat -f). */
  disks?: DiskFacts[];
  /** What `systemd-analyze verify` says of the environment's unit file (host-checks.ts). */
  unitVerify?: UnitVerifyFacts | null;
  /** How often the kernel held back the environment's units that have a CPUQuota= (host-checks.ts: their cgroups' cpu.stat). */
  cpu?: CpuFacts[];
  /** Milliseconds since the epoch (the tests pin it). */
  now?: number;
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

export interface CpuFacts extends CpuThrottling {
  unit: UnitStatus;
  from: string;
}

export interface UnitVerifyFacts {
  unit: string;
  /** Its complaints, sanitized, one per line. */
  lines: string[];
  from: string;
}

export type Draft = Omit<Finding, 'id' | 'environment' | 'host' | 'code' | 'severity' | 'fix' | 'note'> & { fix?: Fix | null; note?: string | null; key?: string };
export type Emit = (code: string, severity: FindingSeverity, draft: Draft) => void;
export type Rule = (facts: EnvironmentFacts, emit: Emit) => void;

