// The doctor's rules: pure functions from what is known of an environment to findings. Status
// runs them over a refresh (its problems are the findings above info); the doctor runs the same
// rules with a few facts more (gather.ts: the journal lines of a failing unit, the cwd and age of
// a hand-started port holder), so the two can never disagree, and the doctor says why.
// Tests drive them with facts recorded from the lab.
import path from 'node:path';
import type { EnvironmentConfig } from '../../config/schema.js';
import type { LogEntry } from '../journal/parse.js';
import type { EnvironmentStatus, Problem } from '../status/report.js';
import type { UnitStatus } from '../systemd/units.js';
import { formatAge } from '../text/humanize.js';
import { sanitizeLine } from '../text/sanitize.js';
import { isInside } from '../backups/policy.js';
import { bySeverity, isAlarm, plural, show, signalName, type Finding, type FindingEvidence, type FindingSeverity, type Fix } from './finding.js';
import { configFindings } from './rules-config.js';

/** The journal lines of the environment's unit the doctor read (gather.ts), oldest first. */
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

/** A backup older than this is stale. */
export const BACKUP_STALE_SEC = 26 * 3600;
/** Evidence items taken from source sanity (its reasons come first). */
const MAX_SANITY_EVIDENCE = 10;

type Draft = Omit<Finding, 'id' | 'environment' | 'host' | 'code' | 'severity' | 'fix' | 'note'> & { fix?: Fix | null; note?: string | null; key?: string };
type Emit = (code: string, severity: FindingSeverity, draft: Draft) => void;
type Rule = (facts: EnvironmentFacts, emit: Emit) => void;

/** Every finding of an environment, most severe first, everything in them safe to print. */
export function environmentFindings(facts: EnvironmentFacts): Finding[] {
  const findings: Finding[] = [];
  const emit: Emit = (code, severity, { key, fix, note, ...draft }) => {
    findings.push({ id: `${facts.environment}/${code}${key ? `:${key}` : ''}`, code, severity, environment: facts.environment, host: facts.status.host, fix: fix ?? null, note: note ?? null, ...draft });
  };
  for (const rule of RULES) rule(facts, emit);
  configFindings(facts, emit); // isolation, secrets, unit file changed, resources: rules-config.ts
  return findings.map(sanitized).sort(bySeverity);
}

/** Status's problems: the findings above info. */
export function problemsOf(findings: readonly Finding[]): Problem[] {
  return findings.filter(isAlarm).map((f) => ({ code: f.code, severity: f.severity as Problem['severity'], message: f.title }));
}

// Messages quote what the system said (errors, command lines, URLs, journal lines): sanitized
// once here, for the CLI, the console and --json alike.
function sanitized(f: Finding): Finding {
  return {
    ...f,
    title: sanitizeLine(f.title),
    evidence: f.evidence.map((e) => ({ text: sanitizeLine(e.text), from: sanitizeLine(e.from), ...(e.quote ? { quote: e.quote.map(sanitizeLine) } : {}) })),
    fix: f.fix ? { ...f.fix, title: sanitizeLine(f.fix.title) } : null,
    note: f.note === null ? null : sanitizeLine(f.note),
  };
}

const utc = (ms: number) => `${new Date(ms).toISOString().replace('T', ' ').slice(0, 19)} UTC`;
/** A path in a unit's path settings may carry systemd's prefixes: "-" (may be missing), "+", "!". */
const bare = (p: string) => p.replace(/^[-+!]+/, '');
const within = isInside;

// ---------------------------------------------------------------------------------------------
// The host and the unit

const hostRule: Rule = ({ hostError }, emit) => {
  if (hostError) emit('host-unreachable', 'critical', { title: hostError, evidence: [] });
};

/** How the main process last ended, from the unit's properties: "exit status 3", "killed by SIGKILL". */
function exitOf(unit: UnitStatus): string | null {
  if (unit.execMainStatus === null) return null;
  if (unit.execMainCode === 'killed' || unit.execMainCode === 'dumped') {
    return `${unit.execMainCode === 'dumped' ? 'dumped core on' : 'killed by'} ${signalName(unit.execMainStatus)}`;
  }
  return `exit status ${unit.execMainStatus}`;
}

const EXITED = /Main process exited, code=(\w+), status=(\S+)/;
const FAILED = /Failed with result '([^']+)'/;
const START_LIMIT = /Start request repeated too quickly|start-limit-hit/;

/** What the journal says of a failing unit: its exits (rate, since when, how), and its own last error. */
function journalEvidence(unit: UnitStatus, journal: JournalFacts, now: number): FindingEvidence[] {
  const out: FindingEvidence[] = [];
  const systemd = journal.entries.filter((e) => e.origin === 'systemd');
  const exits = systemd.filter((e) => EXITED.test(e.message));
  const ends = exits.length > 0 ? exits : systemd.filter((e) => FAILED.test(e.message));
  if (ends.length > 0) {
    const first = ends[0]!.timeUs / 1000;
    const last = ends[ends.length - 1]!.timeUs / 1000;
    const ago = (ms: number) => `${formatAge(Math.max(0, Math.round((now - ms) / 1000)))} ago`;
    const interval = ends.length > 1 ? Math.max(1, Math.round((last - first) / 1000 / (ends.length - 1))) : null;
    out.push({
      text: `${plural(ends.length, 'failure')} in the lines read, from ${utc(first)} (${ago(first)}) to ${ago(last)}${interval ? `: about one every ${formatAge(interval)}` : ''}`,
      from: journal.from,
      quote: [ends[ends.length - 1]!.message],
    });
    // The lines read reach back only so far: past them, NRestarts at the same rate says since when.
    const since = unit.nRestarts > ends.length && interval ? now - unit.nRestarts * interval * 1000 : first;
    out.push({
      text: since < first ? `crash-looping since about ${utc(since)} (${ago(since)}): ${plural(unit.nRestarts, 'restart')} at that rate` : `crash-looping since ${utc(first)} (${ago(first)})`,
      from: `${journal.from}; ${show(unit.name, 'NRestarts')}`,
    });
  }
  const limit = systemd.findLast((e) => START_LIMIT.test(e.message));
  if (limit) out.push({ text: 'systemd gave up restarting it: the start limit was hit', from: journal.from, quote: [limit.message] });
  const own = journal.entries.findLast((e) => e.origin === 'unit' && e.priority !== null && e.priority <= 3);
  if (own) out.push({ text: `${unit.name}'s last error`, from: journal.from, quote: [own.message] });
  return out;
}

const unitRule: Rule = ({ status, journal, now = Date.now() }, emit) => {
  const unit = status.unit;
  if (!unit) return;
  const state = { text: `${unit.name} is ${unit.activeState}/${unit.subState}, ${plural(unit.nRestarts, 'restart')} (NRestarts), last result ${unit.result || '-'}${exitOf(unit) ? `, ${exitOf(unit)}` : ''}`, from: show(unit.name, 'ActiveState,SubState,NRestarts,Result,ExecMainStatus') };
  const told = journal && journal.unit === unit.name ? journalEvidence(unit, journal, now) : [];
  if (unit.loadState === 'not-found') {
    emit('unit-not-found', 'critical', { title: `${unit.name} does not exist on host ${status.host}`, evidence: [{ text: `LoadState=not-found`, from: show(unit.name, 'LoadState') }] });
  } else if (unit.crashLooping) {
    const why = unit.result && unit.result !== 'success' ? `, last result ${unit.result}${unit.execMainStatus ? ` (exit status ${unit.execMainStatus})` : ''}` : '';
    const count = unit.nRestarts === 0 ? 'it failed and systemd is about to restart it' : plural(unit.nRestarts, 'restart');
    emit('crash-loop', 'critical', { title: `${unit.name} is crash-looping: ${count}${why}`, evidence: [state, ...told] });
  } else if (unit.activeState === 'failed') {
    emit('unit-failed', 'critical', { title: `${unit.name} has failed (result ${unit.result})`, evidence: [state, ...told] });
  } else if (unit.activeState !== 'active') {
    emit('unit-inactive', 'critical', { title: `${unit.name} is ${unit.activeState}`, evidence: [state] });
  }
};

// ---------------------------------------------------------------------------------------------
// Sandbox paths: the service cannot write where it keeps its data, or cannot even start

const NAMESPACE_MISSING = /Failed to set up mount namespacing: (\S.*?): No such file or directory/;
const EROFS = /EROFS|read-only file system/i;
/** Absolute paths in a message ("... to /srv/a/state.json: EROFS ..., open '/srv/a/state.json.tmp'"). */
const PATHS = /(?:^|[\s'"(=`])(\/[^\s'"():,`]+)/g;

/** Is a path read-only for the service because of its sandbox settings? ProtectSystem= as systemd documents it. */
function readOnlyBySandbox(unit: UnitStatus, p: string): string | null {
  const ro = (unit.readOnlyPaths ?? []).find((r) => within(p, bare(r)));
  if (ro) return `ReadOnlyPaths=${ro}`;
  const protect = unit.protectSystem;
  if (protect === 'strict') return 'ProtectSystem=strict';
  if (protect === 'full' && /^\/(usr|boot|efi|etc)(\/|$)/.test(p)) return 'ProtectSystem=full';
  if ((protect === 'yes' || protect === 'true') && /^\/(usr|boot|efi)(\/|$)/.test(p)) return `ProtectSystem=${protect}`;
  return null;
}

/** ReadWritePaths= as a value for a drop-in: paths with a space or a quote in double quotes. */
function pathList(paths: readonly string[]): string {
  return [...new Set(paths)].map((p) => (/[\s"\\]/.test(p) ? `"${p.replace(/["\\]/g, (c) => `\\${c}`)}"` : p)).join(' ');
}

function where(unit: UnitStatus): string {
  return `${show(unit.name, 'ProtectSystem,ReadWritePaths,ReadOnlyPaths')} (${unit.dropInPaths.length > 0 ? `the unit file and ${plural(unit.dropInPaths.length, 'drop-in')}: ${unit.dropInPaths.join(' ')}` : 'the unit file, no drop-ins'})`;
}

const sandboxRule: Rule = ({ environment, env, status, journal }, emit) => {
  const unit = status.unit;
  if (!unit || !(unit.crashLooping || unit.activeState === 'failed')) return;
  const entries = journal && journal.unit === unit.name ? journal.entries : [];
  const from = journal?.from ?? '';
  const rw = unit.readWritePaths.map(bare);
  const dataDirs = [...unit.dataEnv.map((d) => d.dir), ...(env.dataDir ? [env.dataDir] : [])];
  // While another process holds the unit's port, a restart cannot pass a health gate whatever the
  // settings: the override only writes and reloads, and the adoption (the port's fix) starts the unit.
  const portTaken = status.listeners.some((l) => env.ports.includes(l.port) && l.pid !== null && l.unit !== unit.name);
  const override = (paths: string[], why: string): Fix => ({
    title: `${why}: unit override ReadWritePaths=${pathList(paths)} (${portTaken ? 'drop-in and daemon-reload; the unit starts when its port is handed over to it' : 'drop-in, daemon-reload, restart, health gate'})`,
    plan: { kind: 'unit-override', environment, unit: unit.name, settings: [`ReadWritePaths=${pathList(paths)}`], ...(portTaken ? { restart: false } : {}) },
  });

  // 226/NAMESPACE: a path named in the sandbox settings does not exist, so the sandbox cannot be built.
  const nsLine = entries.findLast((e) => NAMESPACE_MISSING.test(e.message));
  const nsExit = entries.findLast((e) => /status=226\/NAMESPACE/.test(e.message));
  if (nsLine || unit.execMainStatus === 226) {
    const missing = nsLine ? NAMESPACE_MISSING.exec(nsLine.message)![1]!.replace(/^\/run\/systemd\/unit-root(?=\/)/, '') : null;
    const quote = [nsLine, nsExit].filter((e) => e !== undefined).map((e) => e.message);
    const evidence: FindingEvidence[] = [{ text: `ReadWritePaths=${unit.readWritePaths.join(' ') || '(none)'}; ProtectSystem=${unit.protectSystem || 'no'}`, from: where(unit) }];
    if (quote.length > 0) evidence.push({ text: missing ? `systemd cannot set up the service's mount namespace: ${missing} does not exist` : 'systemd cannot set up the service\'s mount namespace', from, quote });
    else evidence.push({ text: 'the main process exited with status 226 (NAMESPACE) before the service ran', from: show(unit.name, 'ExecMainStatus') });
    const keep = missing ? rw.filter((p) => p !== missing) : rw;
    const data = dataDirs.find((d) => missing === null || (d !== missing && !within(d, missing)));
    const fix = missing && data && (unit.readWritePaths.some((p) => bare(p) === missing) || !rw.includes(data)) ? override([...keep, data], `grant ${data} instead of the missing ${missing}`) : null;
    emit('sandbox-path', 'critical', {
      title: missing ? `${unit.name} cannot start: its sandbox names ${missing}, which does not exist (226/NAMESPACE)` : `${unit.name} cannot start: a path its sandbox names does not exist (226/NAMESPACE)`,
      evidence,
      fix,
      note: fix ? null : missing ? `create ${missing}, or remove it from ${unit.name}'s path settings` : `read the unit's journal (opsdeck logs ${environment} -p err) for the missing path`,
    });
    return;
  }

  // EROFS: the service writes where its sandbox makes the file system read-only.
  const erofs = entries.findLast((e) => e.origin === 'unit' && EROFS.test(e.message));
  if (!erofs) return;
  const paths = [...erofs.message.matchAll(PATHS)].map((m) => m[1]!);
  for (const p of paths) {
    const cause = readOnlyBySandbox(unit, p);
    if (!cause || rw.some((r) => within(p, r))) continue;
    const data = dataDirs.find((d) => within(p, d)) ?? path.posix.dirname(p);
    const dataVar = unit.dataEnv.find((d) => d.dir === data);
    const evidence: FindingEvidence[] = [
      { text: `${cause}: ${cause.startsWith('ProtectSystem=strict') ? 'the whole file system is read-only for the service' : `${p} is read-only for the service`}, except ReadWritePaths=`, from: show(unit.name, 'ProtectSystem,ReadOnlyPaths') },
      { text: `ReadWritePaths=${unit.readWritePaths.join(' ') || '(none)'}: ${p} is not inside ${rw.length === 1 ? 'it' : 'any of them'}`, from: where(unit) },
      ...(dataVar ? [{ text: `Environment= ${dataVar.name}=${dataVar.dir}: where the service keeps its data`, from: show(unit.name, 'Environment') }] : []),
      { text: `the service fails writing ${p}: read-only file system (EROFS)`, from, quote: [erofs.message] },
    ];
    emit('sandbox-path', 'critical', {
      title: `${unit.name} cannot write ${p}: ${cause} makes it read-only and ReadWritePaths= does not grant ${data}`,
      evidence,
      fix: override([...rw, data], `grant ${unit.name} write access to ${data}`),
    });
    return;
  }
};

// ---------------------------------------------------------------------------------------------
// Ports

/** The transient units a rolled-back adoption starts the process again in (ops/relaunch.ts). */
const READOPT_PREFIX = 'opsdeck-readopt-';

/** The port a health probe's URL asks (its scheme's when none is written); null when it cannot be read. */
function probePort(url: string): number | null {
  try {
    const u = new URL(url);
    return u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : u.protocol === 'http:' ? 80 : null;
  } catch {
    return null;
  }
}

const portRule: Rule = ({ environment, env, status, hostError, processes = [] }, emit) => {
  for (const port of env.ports) {
    const all = status.listeners.filter((l) => l.port === port);
    const holders = all.filter((l, i) => l.pid === null || all.findIndex((o) => o.pid === l.pid) === i);
    const tcp = { text: '', from: '/proc/net/tcp, /proc/net/tcp6' };
    if (holders.length === 0 && !hostError && status.errors.length === 0) {
      emit('port-not-listening', 'critical', { key: String(port), title: `nothing listens on port ${port}`, evidence: [{ ...tcp, text: `no listening socket on port ${port}` }] });
    }
    for (const holder of holders) {
      const key = holders.length > 1 ? `${port}-${holder.pid ?? 'hidden'}` : String(port);
      if (holder.pid === null) {
        // Other users' sockets show their owners only to root: without one, "no unit" would be a false alarm.
        emit('port-owner-unknown', 'warning', { key, title: `port ${port} is listening, but its process is not visible (run opsdeck as root on host ${status.host} to see it)`, evidence: [{ ...tcp, text: `a socket listens on ${holder.address}:${port}; /proc/*/fd shows no holder to this user` }] });
      } else if (holder.unit === null || holder.unit.startsWith(READOPT_PREFIX)) {
        // A process opsdeck started again in a transient unit (a rolled-back adoption) is still the hand-started one: adopt it again.
        const facts = processes.find((p) => p.pid === holder.pid);
        const addresses = all.filter((l) => l.pid === holder.pid).map((l) => `${l.address}:${port}`);
        const evidence: FindingEvidence[] = [
          { text: `PID ${holder.pid} listens on ${addresses.join(', ')}`, from: `/proc/net/tcp, /proc/${holder.pid}/fd` },
          { text: `command line: ${holder.command || `[${holder.process}]`}`, from: `/proc/${holder.pid}/cmdline` },
          holder.unit === null
            ? { text: `cgroup ${holder.cgroup ?? '(unknown)'}: in no systemd unit (started by hand, or by something outside systemd)`, from: `/proc/${holder.pid}/cgroup` }
            : { text: `in ${holder.unit}: the hand-started process, started again by opsdeck when an adoption was rolled back`, from: `/proc/${holder.pid}/cgroup` },
        ];
        if (facts?.cwd) evidence.push({ text: `working directory: ${facts.cwd}`, from: `/proc/${holder.pid}/cwd` });
        if (facts?.runningSec !== null && facts?.runningSec !== undefined) evidence.push({ text: `running for ${formatAge(facts.runningSec)}`, from: `ps -o etimes= -p ${holder.pid}` });
        if (status.unit && status.unit.activeState !== 'active') evidence.push({ text: `meanwhile ${status.unit.name} is ${status.unit.activeState}/${status.unit.subState}: PID ${holder.pid} is what serves port ${port}${status.health?.ok ? ', and it answers the health check' : ''}`, from: show(status.unit.name, 'ActiveState,SubState') });
        // It is the service that really serves when it alone holds the port the environment's health probe asks, and that probe answers.
        const serves = env.unit && env.health && status.health?.ok && holders.length === 1 && probePort(env.health.url) === port;
        emit('port-unmanaged', 'critical', {
          key,
          title: `port ${port} is held by PID ${holder.pid} (${holder.command || holder.process || 'unknown'}), which ${holder.unit === null ? 'no systemd unit manages' : `runs in ${holder.unit}, not ${env.unit ?? 'a unit of the environment'}`}`,
          evidence,
          fix: serves
            ? { title: `adopt it: hand port ${port} to ${env.unit} (stop ${env.unit}, TERM PID ${holder.pid}, start ${env.unit}, health gate); rolled back by starting PID ${holder.pid}'s command again from its recorded command line, cwd and environment`, plan: { kind: 'adopt', environment, unit: env.unit!, pid: holder.pid, port } }
            : { title: `stop it: TERM PID ${holder.pid}, then KILL`, plan: { kind: 'stop-pid', environment, pid: holder.pid } },
          note: serves ? null : `it is not what answers ${environment}'s health probe${env.unit ? '' : ' (and the environment has no unit to hand the port to)'}: stopping it frees port ${port}`,
        });
      } else if (env.unit && holder.unit !== env.unit) {
        emit('port-other-unit', 'warning', { key, title: `port ${port} is held by ${holder.unit}, not ${env.unit}`, evidence: [{ text: `PID ${holder.pid} (${holder.command || holder.process}) is in ${holder.unit}`, from: `/proc/${holder.pid}/cgroup` }] });
      }
    }
  }
};

// ---------------------------------------------------------------------------------------------
// Health

const healthRule: Rule = ({ status }, emit) => {
  const h = status.health;
  if (!h || h.ok) return;
  emit('health-failing', 'critical', {
    title: `health check ${h.url} fails: ${h.failures.join('; ')}`,
    evidence: [
      ...h.failures.map((text) => ({ text, from: `curl ${h.url}` })),
      ...(h.httpStatus !== null ? [{ text: `HTTP ${h.httpStatus} in ${h.latencyMs ?? '?'} ms${h.bodyPreview ? `: ${h.bodyPreview.slice(0, 200)}` : ''}`, from: `curl ${h.url}` }] : []),
    ],
  });
};

// ---------------------------------------------------------------------------------------------
// Backups

const backupRule: Rule = ({ environment, env, status }, emit) => {
  const backups = status.backups;
  const source = env.backups?.source ?? env.dataDir;
  const create = (dir: string, why: string): Fix => ({ title: `${why}: back up ${dir} now (opsdeck backup create ${environment})`, plan: { kind: 'backup-create', environment, source: dir } });
  const listed = (text: string) => ({ text, from: backups ? `ls ${backups.dir}` : '' });
  if (backups) {
    if (backups.error) emit('backup-dir', 'warning', { title: `backups: ${backups.error}`, evidence: [listed(backups.error)] });
    else if (!backups.newest) emit('backup-none', 'warning', { title: `no backups in ${backups.dir}`, evidence: [listed(`${backups.dir} holds no archive`)], fix: source ? create(source, 'make the first backup') : null });
    else if ((backups.newestAgeSec ?? 0) > BACKUP_STALE_SEC) {
      emit('backup-stale', 'warning', {
        title: `newest backup ${backups.newest.name} is ${Math.round((backups.newestAgeSec ?? 0) / 3600)} h old`,
        evidence: [listed(`the newest archive, ${backups.newest.name}, was written ${formatAge(backups.newestAgeSec)} ago (allowed: ${formatAge(BACKUP_STALE_SEC)})`)],
        fix: source ? create(source, 'bring the backups up to date') : null,
      });
    }
  }
  const sanity = status.backupSanity;
  if (!sanity) return;
  const evidence = sanity.evidence.slice(0, MAX_SANITY_EVIDENCE);
  if (sanity.verdict === 'stale-source') {
    const live = sanity.liveDirs.find((d) => d !== sanity.source) ?? null;
    emit('backup-source-stale', 'critical', {
      title: `backups would archive the wrong directory: ${sanity.summary}`,
      evidence,
      fix: live ? create(live, 'keep the live data safe first') : null,
      note: `set backups.source (or dataDir) of ${environment} to ${live ?? 'the directory the service writes'} in the config`,
    });
  }
  if (sanity.verdict === 'archives-stale') emit('backup-archives-stale', 'critical', { title: `the live data has no backup: ${sanity.summary}`, evidence, fix: create(sanity.source, 'no archive holds the live data') });
  if (sanity.verdict === 'unknown') emit('backup-sanity-unknown', 'info', { title: sanity.summary, evidence });
};

const collectErrorRule: Rule = ({ status, hostError }, emit) => {
  if (hostError) return;
  status.errors.forEach((error, i) => emit('collect-error', 'warning', { key: status.errors.length > 1 ? String(i + 1) : undefined, title: error, evidence: [] }));
};

/** In this order: among findings of one severity, a cause follows its symptom. */
const RULES: Rule[] = [hostRule, unitRule, sandboxRule, portRule, healthRule, backupRule, collectErrorRule];
