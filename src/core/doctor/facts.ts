// What the doctor's rules read of an environment, and how a rule says a finding: the types the
// rule files (rules-*.ts) share, apart from rules.ts, which runs them, so none imports another.
import type { EnvironmentConfig } from '../../config/schema.js';
import type { EnvironmentStatus, HostChecks, UnitJournal } from '../status/report.js';
import type { DataVar } from '../systemd/data-env.js';
import type { Finding, FindingSeverity, Fix } from './finding.js';

export type { CpuFacts, DiskFacts, UnitVerifyFacts } from '../status/report.js';

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

/** Disk space, verify, the backups' schedule, CPU throttling: the per-host looks (host-checks.ts), as status keeps them. */
export interface EnvironmentFacts extends Partial<HostChecks> {
  environment: string;
  env: EnvironmentConfig;
  status: EnvironmentStatus;
  hostError: string | null;
  /** Extra facts: absent when only status is asked (the rules then say what they can without them). */
  journal?: JournalFacts | null;
  processes?: ProcessFacts[];
  /** Milliseconds since the epoch (the tests pin it). */
  now?: number;
}

export type Draft = Omit<Finding, 'id' | 'environment' | 'host' | 'code' | 'severity' | 'fix' | 'note'> & { fix?: Fix | null; note?: string | null; key?: string };
export type Emit = (code: string, severity: FindingSeverity, draft: Draft) => void;
export type Rule = (facts: EnvironmentFacts, emit: Emit) => void;

