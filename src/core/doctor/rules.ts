// The doctor's rules: pure functions from what is known of an environment to findings. Status
// runs them over a refresh, the doctor's per-host looks included (its problems are the findings
// above info); the doctor runs the same rules with one fact more (doctor.ts: what a hand-started
// port holder is, which adds evidence), so the two agree, and the doctor says why. (Both judge
// CPU throttling over a stretch of time: theirs may end a few seconds apart.)
// The rules live in rules-*.ts by what they look at; this file runs them in order and makes
// their text safe to print.
// Tests drive them with facts recorded from the lab.
import type { Problem } from '../status/report.js';
import { bySeverity, isAlarm, safeFinding, type Finding } from './finding.js';
import type { EnvironmentFacts, Emit, Rule } from './facts.js';
import { configFindings } from './rules-config.js';
import { portConflictRule, portRule } from './rules-ports.js';
import { sandboxRule } from './rules-sandbox.js';
import { backupRule, healthRule } from './rules-service.js';
import { collectErrorRule, hostRule, unitRule, unitVerifyRule } from './rules-unit.js';
import { cpuRule } from './rules-cpu.js';
import { diskRule } from './rules-disk.js';

export type { EnvironmentFacts, JournalFacts, ProcessFacts } from './facts.js';

/** Every finding of an environment, most severe first, everything in them safe to print. */
export function environmentFindings(facts: EnvironmentFacts): Finding[] {
  const findings: Finding[] = [];
  const emit: Emit = (code, severity, { key, fix, note, ...draft }) => {
    findings.push({ id: `${facts.environment}/${code}${key ? `:${key}` : ''}`, code, severity, environment: facts.environment, host: facts.status.host, fix: fix ?? null, note: note ?? null, ...draft });
  };
  for (const rule of RULES) rule(facts, emit);
  configFindings(facts, emit); // isolation, secrets, unit file changed, resources: rules-config.ts
  return withCauses(findings).map(safeFinding).sort(bySeverity);
}

/** What makes a unit fail, when the doctor found it: the failing unit's finding then points at it. */
const CAUSES = ['sandbox-path', 'port-conflict'];

/** A crash loop or failed unit has no fix of its own: its cause's fix ends it, and the note says which. */
function withCauses(findings: Finding[]): Finding[] {
  const causes = findings.filter((f) => CAUSES.includes(f.code));
  if (causes.length === 0) return findings;
  const named = causes.map((c) => `${c.id}${c.fix ? ' (its fix ends this)' : ''}`).join(', ');
  return findings.map((f) => ((f.code === 'crash-loop' || f.code === 'unit-failed') && !f.fix && !f.note ? { ...f, note: `caused by ${named}` } : f));
}

/** Status's problems: the findings above info. */
export function problemsOf(findings: readonly Finding[]): Problem[] {
  return findings.filter(isAlarm).map((f) => ({ code: f.code, severity: f.severity as Problem['severity'], message: f.title }));
}


/** In this order: among findings of one severity, a cause follows its symptom. */
const RULES: Rule[] = [hostRule, unitRule, sandboxRule, portConflictRule, portRule, healthRule, backupRule, diskRule, cpuRule, unitVerifyRule, collectErrorRule];
