// The doctor's rules about how things are set up rather than how they run: environments of the
// config that share a data dir, a port or a unit; secrets in a unit's Environment=; a unit file
// changed on disk; a unit near its cgroup's memory or tasks limit. Pure, like rules.ts (whose
// environmentFindings calls configFindings), and fed by the same one `systemctl show`.
import path from 'node:path';
import type { EnvironmentConfig } from '../../config/schema.js';
import type { UnitStatus } from '../systemd/units.js';
import { formatBytes } from '../text/humanize.js';
import type { EnvironmentStatus } from '../status/report.js';
import { isInside } from '../backups/policy.js';
import { plural, show, type FindingEvidence, type FindingSeverity, type Fix } from './finding.js';

/** What these rules read: of rules.ts's EnvironmentFacts the environment, its config and its
 *  status (declared here, not imported, so the two rooms do not import each other), and the
 *  config's other environments. */
export interface ConfigFacts {
  environment: string;
  env: EnvironmentConfig;
  status: EnvironmentStatus;
  /** Every environment of the config by name (this one included); absent: isolation is not judged. */
  peers?: Readonly<Record<string, EnvironmentConfig>> | undefined;
}

type Draft = { title: string; evidence: FindingEvidence[]; fix?: Fix | null; note?: string | null; key?: string };
/** rules.ts's emit: it adds the id, the environment and the host, and sanitizes. */
export type ConfigEmit = (code: string, severity: FindingSeverity, draft: Draft) => void;
type Rule = (facts: ConfigFacts, emit: ConfigEmit) => void;

/** Above this share of a cgroup limit, a unit is about to hit it. */
export const NEAR_LIMIT = 0.9;

export function configFindings(facts: ConfigFacts, emit: ConfigEmit): void {
  for (const rule of RULES) rule(facts, emit);
}

const normal = (p: string) => path.posix.normalize(p).replace(/(.)\/$/, '$1');
/** The environment's units as the refresh saw them: its unit first, then its related units. */
const unitsOf = ({ status }: ConfigFacts) => [...(status.unit ? [status.unit] : []), ...status.relatedUnits];
/** The environment's own unit needs no key in an id; a related unit is named. */
const keyOf = ({ status }: ConfigFacts, unit: UnitStatus) => (unit === status.unit ? undefined : unit.name);

// ---------------------------------------------------------------------------------------------
// Isolation: environments on one host must not share what they write, listen on or run as

/** The directories an environment writes or archives: dataDir and backups.source, each said once. */
function dataDirsOf(env: EnvironmentConfig): Array<{ dir: string; settings: string }> {
  const out = new Map<string, string[]>();
  for (const [setting, dir] of [['dataDir', env.dataDir], ['backups.source', env.backups?.source]] as const) {
    if (dir) out.set(normal(dir), [...(out.get(normal(dir)) ?? []), setting]);
  }
  return [...out].map(([dir, settings]) => ({ dir, settings: settings.join(' and ') }));
}

const isolationRule: Rule = ({ environment, env, peers }, emit) => {
  if (!peers) return;
  const from = (other: string, mine: string, theirs: string) => `the config: environments.${environment}.${mine}, environments.${other}.${theirs}`;
  for (const [other, peer] of Object.entries(peers)) {
    if (other === environment || peer.host !== env.host) continue;

    const shared = dataDirsOf(env).flatMap((mine) => dataDirsOf(peer).filter((theirs) => isInside(mine.dir, theirs.dir) || isInside(theirs.dir, mine.dir)).map((theirs) => ({ mine, theirs })));
    if (shared.length > 0) {
      const how = ({ mine, theirs }: (typeof shared)[number]) => `${environment}'s ${mine.settings} ${mine.dir} ${mine.dir === theirs.dir ? 'is also' : isInside(mine.dir, theirs.dir) ? 'is inside' : 'holds'} ${other}'s ${theirs.settings} ${theirs.dir}`;
      emit('shared-data-dir', 'warning', {
        key: other,
        title: `${environment} shares a data directory with ${other} on host ${env.host}: ${how(shared[0]!)}`,
        evidence: shared.map((s) => ({ text: how(s), from: from(other, s.mine.settings, s.theirs.settings) })),
        note: `give each environment a directory of its own: a restore or a cleanup of one then cannot touch the other's data`,
      });
    }

    const ports = env.ports.filter((p) => peer.ports.includes(p));
    if (ports.length > 0) {
      emit('shared-port', 'warning', {
        key: other,
        title: `${environment} and ${other} both claim ${ports.length === 1 ? 'port' : 'ports'} ${ports.join(', ')} on host ${env.host}: only one can listen there`,
        evidence: [{ text: `ports ${env.ports.join(', ')} (${environment}) and ${peer.ports.join(', ')} (${other})`, from: from(other, 'ports', 'ports') }],
        note: `give ${environment} or ${other} another port in the config (and in its unit)`,
      });
    }

    if (env.unit && peer.unit && env.unit === peer.unit) {
      emit('shared-unit', 'warning', {
        key: other,
        title: `${environment} and ${other} are the same unit ${env.unit} on host ${env.host}: a restart or a deploy of one is one of the other`,
        evidence: [{ text: `unit: ${env.unit} (${environment}), unit: ${peer.unit} (${other})`, from: from(other, 'unit', 'unit') }],
        note: `run each environment as a unit of its own`,
      });
    }
  }
};

// ---------------------------------------------------------------------------------------------
// Unit files: secrets in Environment=, and a file changed on disk

const secretsRule: Rule = (facts, emit) => {
  for (const unit of unitsOf(facts)) {
    const secrets = unit.secretEnv;
    if (secrets.length === 0) continue;
    const files = [unit.fragmentPath, ...unit.dropInPaths].filter(Boolean);
    emit('secret-in-unit', 'warning', {
      key: keyOf(facts, unit),
      title: `${unit.name} keeps ${secrets.length === 1 ? 'a secret' : `${secrets.length} secrets`} in Environment=: ${secrets.map((s) => `${s.name}=${s.redacted}`).join(', ')}`,
      evidence: secrets.map((s) => ({ text: `Environment= ${s.name}=${s.redacted}: readable by every user on host ${facts.status.host} (systemctl show), and in ${files.length > 0 ? files.join(', ') : 'the unit file'}`, from: show(unit.name, 'Environment') })),
      note: `move ${secrets.map((s) => s.name).join(', ')} into an EnvironmentFile= with mode 0600 owned by root (e.g. /etc/${unit.name.replace(/\.service$/, '')}.env), remove the Environment= lines, then daemon-reload and restart ${unit.name}`,
    });
  }
};

const daemonReloadRule: Rule = (facts, emit) => {
  const changed = unitsOf(facts).filter((u) => u.needDaemonReload);
  if (changed.length === 0) return;
  const names = changed.map((u) => u.name).join(', ');
  emit('daemon-reload', 'warning', {
    title: `${names} changed on disk: run daemon-reload`,
    evidence: changed.flatMap((u) => [
      { text: `${u.name}: NeedDaemonReload=yes: systemd runs an older version of the unit file than the one on disk`, from: show(u.name, 'NeedDaemonReload') },
      { text: `unit file ${u.fragmentPath || '(none)'}; ${u.dropInPaths.length > 0 ? `${plural(u.dropInPaths.length, 'drop-in')}: ${u.dropInPaths.join(' ')}` : 'no drop-ins'}`, from: show(u.name, 'FragmentPath,DropInPaths') },
    ]),
    fix: { title: `systemctl daemon-reload on host ${facts.status.host}: systemd reads ${names} from disk again`, plan: { kind: 'daemon-reload', environment: facts.environment } },
    note: `a running service keeps its old settings until it restarts: restart ${names} afterwards when convenient`,
  });
};

// ---------------------------------------------------------------------------------------------
// Resources: the unit's cgroup against its limits

const percent = (used: number, max: number) => `${Math.round((used / max) * 100)} %`;

const resourcesRule: Rule = (facts, emit) => {
  for (const unit of unitsOf(facts)) {
    const cgroup = unit.controlGroup ? ` (cgroup ${unit.controlGroup})` : '';
    const memory = unit.memoryBytes;
    const memoryMax = unit.memoryMax ?? null;
    if (memory !== null && memoryMax !== null && memoryMax > 0 && memory > NEAR_LIMIT * memoryMax) {
      emit('memory-near-limit', 'warning', {
        key: keyOf(facts, unit),
        title: `${unit.name} uses ${percent(memory, memoryMax)} of its memory limit: ${formatBytes(memory)} of MemoryMax=${formatBytes(memoryMax)}`,
        evidence: [{ text: `MemoryCurrent=${memory} of MemoryMax=${memoryMax}${cgroup}`, from: show(unit.name, 'MemoryCurrent,MemoryMax') }],
        note: `at the limit the kernel reclaims and then OOM-kills the service: find what grows, or raise MemoryMax= (opsdeck unit override)`,
      });
    }
    const tasks = unit.tasks;
    const tasksMax = unit.tasksMax ?? null;
    if (tasks !== null && tasksMax !== null && tasksMax > 0 && tasks > NEAR_LIMIT * tasksMax) {
      emit('tasks-near-limit', 'warning', {
        key: keyOf(facts, unit),
        title: `${unit.name} runs ${percent(tasks, tasksMax)} of its tasks limit: ${tasks} of TasksMax=${tasksMax}`,
        evidence: [{ text: `TasksCurrent=${tasks} of TasksMax=${tasksMax}${cgroup}`, from: show(unit.name, 'TasksCurrent,TasksMax') }],
        note: `at the limit new threads and processes fail (fork: EAGAIN): find what leaks them, or raise TasksMax= (opsdeck unit override)`,
      });
    }
  }
};

const RULES: Rule[] = [isolationRule, daemonReloadRule, secretsRule, resourcesRule];
