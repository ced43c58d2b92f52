// What the doctor's rules read of an environment, and how a rule says a finding: the types the
// rule files (rules-*.ts) share, apart from rules.ts, which runs them, so none imports another.
import type { EnvironmentConfig } from '../../config/schema.js';
import type { LogEntry } from '../journal/parse.js';
import type { EnvironmentStatus } from '../status/report.js';
import type { Finding, FindingSeverity, Fix } from './finding.js';

/** The journal lines of the environment's unit the doctor read (doctor.ts), oldest first. */
export interface JournalFacts {
  unit: string;
  /** The command they came from. */
  from: string;
  entries: Array<Pick<LogEntry, 'timeUs' | 'priority' | 'message' | 'origin'>>;
}

/** What the doctor learned of a process holding one of the environment's ports. */
export interface ProcessFacts {
  pid: number;
  cwd: string | null;
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
  /** Milliseconds since the epoch (the tests pin it). */
  now?: number;
}

export type Draft = Omit<Finding, 'id' | 'environment' | 'host' | 'code' | 'severity' | 'fix' | 'note'> & { fix?: Fix | null; note?: string | null; key?: string };
export type Emit = (code: string, severity: FindingSeverity, draft: Draft) => void;
export type Rule = (facts: EnvironmentFacts, emit: Emit) => void;

