// Source sanity: is the directory a backup archives the one the service really writes to, and
// do the archives already made hold that live data? The incident it exists for: a unit's
// ReadWritePaths= named a stale copy, a hand-started process wrote the live data elsewhere, and
// the backup job archived the stale copy every 6 h. Gathering and judging are apart:
// sanity-facts.ts gathers (a few commands per host); judgeSanity here judges (pure: the tests
// drive it with facts recorded from the lab).
// Facts hold paths as the host gave them; everything judgeSanity returns is safe to print.
import { formatAge } from '../text/humanize.js';
import { sanitizeLine } from '../text/sanitize.js';
import { isInside } from './policy.js';
import { gatherSanityFacts, liveDirClues, type ArchiveFacts, type Clue, type DirFacts, type Evidence, type SanityFacts, type SanityInput } from './sanity-facts.js';
import type { Host, RunOptions } from '../host/host.js';

export type { Evidence, SanityFacts, SanityInput } from './sanity-facts.js';

export type SanityVerdict = 'ok' | 'stale-source' | 'archives-stale' | 'unknown';

export interface SourceSanity {
  verdict: SanityVerdict;
  environment: string;
  source: string;
  /** Where the service writes, as its processes (or its unit's Environment=) say. */
  liveDirs: string[];
  summary: string;
  /** The reasons for the verdict first, then everything gathered. */
  evidence: Evidence[];
  newestArchive: { name: string; newestMtime: number | null; matches: string | null } | null;
  sourceScan: DirFacts | null;
  checkedAt: string;
}

/** A place the service writes whose newest file beats the source's by more than this is not a side note. */
export const FRESHER_BY_SEC = 3600;
/** The newest archive may lag the source's newest file by twice its own age plus this (see judgeSanity). */
export const ARCHIVE_SLACK_SEC = 3600;
const newestOf = (facts: SanityFacts, dir: string) => facts.dirs.find((d) => d.dir === dir && d.exists)?.newestMtime ?? null;

/**
 * The verdict, in this order:
 * - stale-source: a strong clue names a directory outside the source while none names the
 *   source; or a directory the service writes (not inside the source) holds a file more than
 *   FRESHER_BY_SEC newer than the source's newest. A working directory counts only that second
 *   way, and only beside the source, not around it (logs live there).
 * - archives-stale: the newest archive's newest file is older than the source's newest by more
 *   than twice the archive's age plus ARCHIVE_SLACK_SEC (a fresh archive of a busy source lags
 *   it by about its own age; of a quiet one, by nothing), or its files match another directory
 *   while fewer than half match the source, or its manifest names another source.
 * - unknown: the source does not exist or could not be scanned, or nothing says where the
 *   service writes and there is no archive to compare with. Otherwise ok.
 */
export function judgeSanity(facts: SanityFacts): SourceSanity {
  const { source, now } = facts;
  const newestIn = (dir: string) => newestOf(facts, dir);
  const sourceScan = facts.dirs.find((d) => d.dir === source) ?? null;
  const sourceNewest = newestIn(source);
  const clues = liveDirClues(facts.unit, facts.processes);
  const related = (dir: string) => isInside(dir, source) || isInside(source, dir);
  const muchFresher = (dir: string) => {
    const theirs = newestIn(dir);
    return theirs !== null && (sourceNewest === null || theirs - sourceNewest > FRESHER_BY_SEC);
  };
  const touching = clues.filter((c) => related(c.dir));
  const writesElsewhere = clues.filter((c) => {
    if (isInside(c.dir, source)) return false;
    if (!c.strong) return !isInside(source, c.dir) && muchFresher(c.dir);
    return muchFresher(c.dir) || touching.length === 0;
  });

  const a = facts.archive && !facts.archive.error ? facts.archive : null;
  const matchedSource = a?.matches.find((m) => m.dir === source)?.matched ?? 0;
  const best = a?.matches.filter((m) => m.matched > 0 && m.matched * 2 >= m.total).sort((x, y) => y.matched - x.matched || Number(y.dir === source) - Number(x.dir === source))[0];
  const archivedElsewhere = best && !related(best.dir) && matchedSource * 2 < best.total ? best.dir : a?.manifestSource && !related(a.manifestSource) ? a.manifestSource : null;
  const madeAgo = a ? Math.max(0, now - a.madeAt) : 0;
  const lag = a && a.newestMtime !== null && sourceNewest !== null ? sourceNewest - a.newestMtime : null;
  const lagging = lag !== null && lag > 2 * madeAgo + ARCHIVE_SLACK_SEC;

  let verdict: SanityVerdict = 'ok';
  if (writesElsewhere.length > 0) verdict = 'stale-source';
  else if (lagging || archivedElsewhere) verdict = 'archives-stale';
  else if (!sourceScan?.exists || (touching.length === 0 && lag === null)) verdict = 'unknown';

  const matches = best?.dir ?? a?.manifestSource ?? null;
  const text = explain(facts, verdict, { clues, touching, writesElsewhere, archive: a, lag: lagging ? lag : null, madeAgo, archivedElsewhere });
  const live = touching.length > 0 || writesElsewhere.length > 0 ? [...touching, ...writesElsewhere] : clues;
  return {
    verdict,
    environment: sanitizeLine(facts.environment),
    source: sanitizeLine(source),
    liveDirs: live.map((c) => sanitizeLine(c.dir)),
    summary: text.summary,
    evidence: [...text.reasons, ...gathered(facts, clues)].filter((e, i, all) => all.findIndex((o) => o.text === e.text) === i),
    newestArchive: facts.archive ? { name: sanitizeLine(facts.archive.name), newestMtime: facts.archive.newestMtime, matches: matches === null ? null : sanitizeLine(matches) } : null,
    sourceScan: sourceScan ? { ...sourceScan, dir: sanitizeLine(sourceScan.dir), newestPath: sourceScan.newestPath === null ? null : sanitizeLine(sourceScan.newestPath) } : null,
    checkedAt: new Date(now * 1000).toISOString(),
  };
}

const s = sanitizeLine;
const ago = (now: number, t: number | null) => (t === null ? 'never' : `${formatAge(Math.max(0, now - t))} ago`);

/** " (the source, mcp.service's ReadWritePaths=, PID 12's DATA_DIR)": what a directory is to the environment. */
function roleOf(facts: SanityFacts, clues: readonly Clue[], dir: string): string {
  const roles = [...(dir === facts.source ? ['the source'] : []), ...(facts.unit?.readWritePaths.includes(dir) ? [`${facts.unit.name}'s ReadWritePaths=`] : []), ...(clues.find((c) => c.dir === dir)?.why ?? [])];
  return roles.length > 0 ? ` (${s(roles.join(', '))})` : '';
}

interface Judged {
  clues: Clue[];
  touching: Clue[];
  writesElsewhere: Clue[];
  archive: ArchiveFacts | null;
  /** How far the archive lags the source, when more than allowed. */
  lag: number | null;
  madeAgo: number;
  archivedElsewhere: string | null;
}

/** The one-line summary and the evidence that decided the verdict. */
function explain(facts: SanityFacts, verdict: SanityVerdict, j: Judged): { summary: string; reasons: Evidence[] } {
  const { now, source } = facts;
  const env = s(facts.environment);
  const newestIn = (dir: string) => newestOf(facts, dir);
  const says = (c: Clue) => `${s(c.dir)} (${s(c.why.join(', '))})`;
  const a = j.archive;
  if (verdict === 'stale-source') {
    return {
      summary: j.touching.length === 0
        ? `${env}: the backup source ${s(source)} is not where the service writes: ${says(j.writesElsewhere[0]!)} is; a backup now would archive stale data`
        : `${env}: the service writes newer data to ${says(j.writesElsewhere[0]!)} than to the backup source ${s(source)}; a backup now would miss it`,
      reasons: j.writesElsewhere.map((c) => ({ text: `the service writes to ${says(c)}; its newest file is ${ago(now, newestIn(c.dir))}, the source's ${ago(now, newestIn(source))}`, from: s(c.from) })),
    };
  }
  if (verdict === 'archives-stale' && a) {
    const reasons: Evidence[] = [];
    if (j.lag !== null) {
      reasons.push({ text: `the newest archive's newest file is ${formatAge(j.lag)} older than the source's (allowed: twice the archive's age plus 1 h, ${formatAge(2 * j.madeAgo + ARCHIVE_SLACK_SEC)})`, from: s(`${a.from}; find ${source}`) });
    }
    const match = a.matches.find((m) => m.dir === j.archivedElsewhere);
    if (match) reasons.push({ text: `${match.matched} of ${match.total} files in ${s(a.name)} match ${s(match.dir)}${roleOf(facts, j.clues, match.dir)} by size and mtime`, from: s(`${a.from}; find ${match.dir}`) });
    else if (j.archivedElsewhere) reasons.push({ text: `${s(a.name)} was made from ${s(j.archivedElsewhere)}, its manifest says`, from: s(a.from) });
    const what = j.archivedElsewhere ? `the existing backups archive ${s(j.archivedElsewhere)}${roleOf(facts, j.clues, j.archivedElsewhere)}, not the live data in ${s(source)}` : `the existing backups do not hold the live data in ${s(source)}`;
    return { summary: `${env}: ${what}: the newest (${s(a.name)}, made ${ago(now, a.madeAt)}) holds nothing newer than ${ago(now, a.newestMtime)}, the source's newest file is ${ago(now, newestIn(source))}`, reasons };
  }
  if (verdict === 'unknown') {
    const scanned = facts.dirs.find((d) => d.dir === source);
    const why = !scanned ? `the source ${s(source)} could not be scanned` : !scanned.exists ? `the source ${s(source)} does not exist on host ${s(facts.host)}` : 'nothing says where the service writes (no data variable in its unit, no process on its ports) and no archive could be compared with the source';
    return { summary: `${env}: cannot tell whether the backups hold the live data: ${why}`, reasons: [] };
  }
  const writer = j.touching.length > 0 ? `the source ${s(source)} is where the service writes (${s(j.touching.flatMap((c) => c.why).join(', '))})` : `the source ${s(source)} is as fresh as its newest archive`;
  const archived = a ? `the newest archive (made ${ago(now, a.madeAt)}) holds files up to ${ago(now, a.newestMtime)}` : facts.archive ? 'the newest archive could not be read' : 'there is no archive yet';
  return { summary: `${env}: ${writer}; ${archived}`, reasons: j.touching.map((c) => ({ text: `the service writes to ${says(c)}`, from: s(c.from) })) };
}

/** Everything gathered, as the operator reads it. */
function gathered(facts: SanityFacts, clues: readonly Clue[]): Evidence[] {
  const out: Evidence[] = [];
  const add = (text: string, from: string) => out.push({ text: s(text), from: s(from) });
  const u = facts.unit;
  if (u) {
    const show = `systemctl show ${u.name} -p`;
    add(`${u.name} is ${u.activeState}${u.loadState === 'loaded' ? '' : ` (${u.loadState})`}, ${u.mainPid ? `main PID ${u.mainPid}` : 'no main PID'}`, `${show} ActiveState,MainPID`);
    if (u.workingDirectory) add(`${u.name}: WorkingDirectory=${u.workingDirectory}`, `${show} WorkingDirectory`);
    if (u.readWritePaths.length > 0) add(`${u.name}: ReadWritePaths=${u.readWritePaths.join(' ')}`, `${show} ReadWritePaths`);
    for (const e of u.dataEnv) add(`${u.name}: Environment=${e.name}=${e.dir}`, `${show} Environment`);
  }
  for (const p of facts.processes) {
    add(`PID ${p.pid} ${p.role}${p.seen ? '' : ' (gone since, or not readable by this user)'}`, p.roleFrom);
    for (const e of p.dataEnv) add(`PID ${p.pid} has ${e.name}=${e.dir}`, `/proc/${p.pid}/environ`);
    for (const f of p.writing.slice(0, 3)) add(`PID ${p.pid} has ${f} open for writing`, `/proc/${p.pid}/fd`);
    if (p.cwd) add(`PID ${p.pid} runs in ${p.cwd}`, `/proc/${p.pid}/cwd`);
  }
  for (const d of facts.dirs) {
    const held = !d.exists ? 'does not exist' : d.files === 0 ? 'holds no files' : `${d.files} files, the newest ${s(d.newestPath ?? '')} modified ${ago(facts.now, d.newestMtime)}`;
    out.push({ text: `${s(d.dir)}${roleOf(facts, clues, d.dir)}: ${held}`, from: s(`find ${d.dir}`) });
  }
  const a = facts.archive;
  if (a?.error) add(`the newest archive ${a.name} could not be read: ${a.error}`, a.from);
  else if (a) {
    add(`the newest archive ${a.name}, made ${ago(facts.now, a.madeAt)}: ${a.files} files, the newest ${a.newestPath ?? '-'} modified ${ago(facts.now, a.newestMtime)}`, a.from);
    for (const m of a.matches) out.push({ text: `${m.matched} of ${m.total} files in ${s(a.name)} match ${s(m.dir)}${roleOf(facts, clues, m.dir)} by size and mtime`, from: s(`${a.from}; find ${m.dir}`) });
  }
  return [...out, ...facts.problems];
}

/** Gather the facts on the environment's host and judge them. */
export async function checkSourceSanity(host: Host, input: SanityInput, options: RunOptions = {}): Promise<SourceSanity> {
  return judgeSanity(await gatherSanityFacts(host, input, options));
}

/** Why a backup of the policy's source is refused, or null: the service writes elsewhere (the evidence is the sanity's). */
export function staleSourceRefusal(sanity: Pick<SourceSanity, 'verdict' | 'liveDirs'> | null, source: string, environment: string): string | null {
  if (sanity?.verdict !== 'stale-source') return null;
  const live = sanity.liveDirs.filter((d) => d !== source);
  return `refusing to back up ${source}: it is not the directory ${environment}'s service writes to${live.length > 0 ? ` (that is ${live.join(', ')})` : ''}`;
}
