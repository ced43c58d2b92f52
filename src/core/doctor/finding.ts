// What the doctor says: a finding (what is wrong, how sure, the evidence and where it was seen)
// and its fix as data: which operation builder to call with which arguments (fix.ts builds it
// when one is chosen), so a finding can be printed, sent as JSON and applied later alike.
import { constants } from 'node:os';
import { redactSecretsIn } from '../systemd/secret-env.js';
import { sanitizeLine } from '../text/sanitize.js';

export type FindingSeverity = 'critical' | 'warning' | 'info';

export interface FindingEvidence {
  text: string;
  /** The command or file it came from, so the operator can look again. */
  from: string;
  /** Journal lines quoted as they were logged (sanitized). */
  quote?: string[];
}

/** How to build a fix's operation: the builder and its arguments. */
export type FixPlan =
  /** ops/plans.ts unitOverrideOperation: a drop-in with these settings (Key=Value), daemon-reload, restart, health gate. */
  /** restart false: drop-in and daemon-reload only (the unit's port is held by a process the adoption hands over). */
  | { kind: 'unit-override'; environment: string; unit: string; settings: string[]; restart?: boolean }
  /** backups/plans.ts createBackupOperation: archive `source` into the environment's backups dir. */
  | { kind: 'backup-create'; environment: string; source: string }
  /** ops/plans.ts adoptOperation: hand `port` from PID (outside any unit) to `unit`; rolled back by starting the process again. */
  | { kind: 'adopt'; environment: string; unit: string; pid: number; port: number }
  /** ops/plans.ts killPidOperation: TERM, then KILL. */
  | { kind: 'stop-pid'; environment: string; pid: number }
  /** ops/plans.ts daemonReloadOperation: systemctl daemon-reload on the environment's host. */
  | { kind: 'daemon-reload'; environment: string };

export interface Fix {
  /** What the fix does, one line. */
  title: string;
  plan: FixPlan;
}

export interface Finding {
  /** Stable across runs while the problem lasts: "production/crash-loop", "production/port-unmanaged:3444". */
  id: string;
  code: string;
  severity: FindingSeverity;
  environment: string | null;
  host: string;
  /** One line. */
  title: string;
  evidence: FindingEvidence[];
  fix: Fix | null;
  /** What the doctor cannot do about it yet, or what to do by hand. */
  note: string | null;
}

const RANK: Record<FindingSeverity, number> = { critical: 0, warning: 1, info: 2 };

/** Most severe first; a finding's place among its equals is kept (the rules' order: causes near their symptoms). */
export function bySeverity(a: Pick<Finding, 'severity'>, b: Pick<Finding, 'severity'>): number {
  return RANK[a.severity] - RANK[b.severity];
}

/** Anything above info: something is wrong (the doctor's and status's exit code 1). */
export function isAlarm(finding: Pick<Finding, 'severity'>): boolean {
  return finding.severity !== 'info';
}

/** Where a unit's property comes from, as evidence says it. */
export const show = (unit: string, props: string) => `systemctl show ${unit} -p ${props}`;
export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** How a main process ended by a signal, as systemd's code=killed|dumped says it: "killed by SIGKILL", "dumped core on SIGSEGV". */
export function endedBy(code: 'killed' | 'dumped', signal: string): string {
  return `${code === 'dumped' ? 'dumped core on' : 'killed by'} ${signal}`;
}

/** A signal's name from its number ("SIGKILL"), as a finding quotes how a process ended. */
export function signalName(n: number): string {
  return Object.entries(constants.signals).find(([, value]) => value === n)?.[0] ?? `signal ${n}`;
}

/** What the system said, made safe to print: control sequences stripped, and what looks like a secret (a token, NAME=value, a URL's password) redacted, for a journal line or a command line may carry one. */
export const safeLine = (text: string) => redactSecretsIn(sanitizeLine(text));

// Messages quote what the system said (errors, command lines, URLs, journal lines): made safe
// once, by the rules that make findings, for the CLI, the console and --json alike.
export function safeFinding(f: Finding): Finding {
  return {
    ...f,
    title: safeLine(f.title),
    evidence: f.evidence.map((e) => ({ text: safeLine(e.text), from: safeLine(e.from), ...(e.quote ? { quote: e.quote.map(safeLine) } : {}) })),
    fix: f.fix ? { ...f.fix, title: safeLine(f.fix.title) } : null,
    note: f.note === null ? null : safeLine(f.note),
  };
}

/** "✗ CRITICAL", "! WARNING", "i INFO": how the CLI and the console name a finding's severity. */
export function severityLabel(severity: FindingSeverity): string {
  return `${SEVERITY_MARKS[severity]} ${severity.toUpperCase()}`;
}
const SEVERITY_MARKS: Record<FindingSeverity, string> = { critical: '✗', warning: '!', info: 'i' };
