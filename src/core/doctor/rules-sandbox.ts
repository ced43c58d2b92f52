// The doctor's sandbox-path rule: the service cannot write where it keeps its data
// (ProtectSystem=, ReadOnlyPaths= or InaccessiblePaths=, with EROFS or EACCES in its journal),
// or cannot even start (a path in its sandbox settings missing: 226/NAMESPACE). Its fix: a
// drop-in granting the data dir, or taking out of the lists an entry no grant can overrule.
import path from 'node:path';
import { barePath, type UnitStatus } from '../systemd/units.js';
import { isFailing } from '../status/unit-journal.js';
import { isInside } from '../backups/policy.js';
import { plural, show, type FindingEvidence, type Fix } from './finding.js';
import type { Rule } from './facts.js';



const NAMESPACE_MISSING = /Failed to set up mount namespacing: (\S.*?): No such file or directory/;
const EROFS = /EROFS|read-only file system/i;
const EACCES = /EACCES|permission denied/i;
/** Absolute paths in a message ("... to /srv/a/state.json: EROFS ..., open '/srv/a/state.json.tmp'"). */
const PATHS = /(?:^|[\s'"(=`])(\/[^\s'"():,`]+)/g;

type Mode = 'hidden' | 'read-only' | 'writable';
/** One entry of the unit's path settings: which setting, as written (prefixes kept), and its path. */
interface PathEntry {
  key: 'InaccessiblePaths' | 'ReadOnlyPaths' | 'ReadWritePaths';
  raw: string;
  path: string;
  mode: Mode;
}

const STRICTNESS: Record<Mode, number> = { hidden: 2, 'read-only': 1, writable: 0 };

function entriesOf(unit: UnitStatus): PathEntry[] {
  const of = (key: PathEntry['key'], list: readonly string[], mode: Mode) => list.map((raw) => ({ key, raw, path: barePath(raw), mode }));
  return [...of('InaccessiblePaths', unit.inaccessiblePaths, 'hidden'), ...of('ReadOnlyPaths', unit.readOnlyPaths, 'read-only'), ...of('ReadWritePaths', unit.readWritePaths, 'writable')];
}

/**
 * The path setting that decides what the service may do with `p`, as systemd builds the sandbox:
 * the most specific path containing it; of equal paths the strictest (InaccessiblePaths= over
 * ReadOnlyPaths= over ReadWritePaths=, as the lab shows). Null: only ProtectSystem= applies.
 */
function decidingEntry(unit: UnitStatus, p: string): PathEntry | null {
  const containing = entriesOf(unit).filter((e) => isInside(p, e.path));
  containing.sort((a, b) => b.path.length - a.path.length || STRICTNESS[b.mode] - STRICTNESS[a.mode]);
  return containing[0] ?? null;
}

/** Read-only by ProtectSystem= alone, as systemd documents it. */
function protectedBySystem(unit: UnitStatus, p: string): string | null {
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

export const sandboxRule: Rule = ({ environment, env, status, journal }, emit) => {
  const unit = status.unit;
  if (!isFailing(unit)) return;
  const entries = journal && journal.unit === unit.name ? journal.entries : [];
  const from = journal?.from ?? '';
  const rw = unit.readWritePaths.map(barePath);
  const dataDirs = [...unit.dataEnv.map((d) => d.dir), ...(env.dataDir ? [env.dataDir] : [])];
  // While another process holds the unit's port, a restart cannot pass a health gate whatever the
  // settings: the override only writes and reloads, and the adoption (the port's fix) starts the unit.
  const portTaken = status.listeners.some((l) => env.ports.includes(l.port) && l.pid !== null && l.unit !== unit.name);
  const override = (settings: string[], why: string): Fix => ({
    title: `${why}: unit override ${settings.join(' ')} (${portTaken ? 'drop-in and daemon-reload; the unit starts when its port is handed over to it' : 'drop-in, daemon-reload, restart, health gate'})`,
    plan: { kind: 'unit-override', environment, unit: unit.name, settings, ...(portTaken ? { restart: false } : {}) },
  });
  const grant = (paths: string[], why: string) => override([`ReadWritePaths=${pathList(paths)}`], why);
  /**
   * Each list without `drop` (the override's empty assignment first replaces a list), and the
   * grant of `data` with every ReadWritePaths= entry there is: whatever else holds the path back
   * loses to it, and a grant that lived in the drop-in this override replaces is kept.
   */
  const withoutEntries = (drop: PathEntry[], data: string): Fix => {
    const keys = [...new Set(drop.map((e) => e.key))];
    const settings = keys.map((key) => `${key}=${pathList(entriesOf(unit).filter((e) => e.key === key && !drop.some((d) => d.path === e.path)).map((e) => e.raw))}`);
    settings.push(`ReadWritePaths=${pathList([...unit.readWritePaths, data])}`);
    const dropped = [...new Set(drop.map((e) => e.path))].join(' ');
    return override(settings, `take ${dropped} out of ${unit.name}'s ${keys.map((k) => `${k}=`).join(' and ')} and grant it`);
  };

  // 226/NAMESPACE: a path named in the sandbox settings does not exist, so the sandbox cannot be built.
  const nsLine = entries.findLast((e) => NAMESPACE_MISSING.test(e.message));
  const nsExit = entries.findLast((e) => /status=226\/NAMESPACE/.test(e.message));
  if (nsLine || unit.execMainStatus === 226) {
    const missing = nsLine ? NAMESPACE_MISSING.exec(nsLine.message)![1]!.replace(/^\/run\/systemd\/unit-root(?=\/)/, '') : null;
    const quote = [nsLine, nsExit].filter((e) => e !== undefined).map((e) => e.message);
    const evidence: FindingEvidence[] = [{ text: `ReadWritePaths=${unit.readWritePaths.join(' ') || '(none)'}; ProtectSystem=${unit.protectSystem || 'no'}`, from: where(unit) }];
    if (quote.length > 0) evidence.push({ text: missing ? `systemd cannot set up the service's mount namespace: ${missing} does not exist` : 'systemd cannot set up the service\'s mount namespace', from, quote });
    else evidence.push({ text: 'the main process exited with status 226 (NAMESPACE) before the service ran', from: show(unit.name, 'ExecMainStatus') });
    const keep = unit.readWritePaths.filter((p) => barePath(p) !== missing);
    const data = dataDirs.find((d) => missing === null || (d !== missing && !isInside(d, missing)));
    const fix = missing && data && (unit.readWritePaths.some((p) => barePath(p) === missing) || !rw.includes(data)) ? grant([...keep, data], `grant ${data} instead of the missing ${missing}`) : null;
    emit('sandbox-path', 'critical', {
      title: missing ? `${unit.name} cannot start: its sandbox names ${missing}, which does not exist (226/NAMESPACE)` : `${unit.name} cannot start: a path its sandbox names does not exist (226/NAMESPACE)`,
      evidence,
      fix,
      note: fix ? null : missing ? `create ${missing}, or remove it from ${unit.name}'s path settings` : `read the unit's journal (opsdeck logs ${environment} -p err) for the missing path`,
    });
    return;
  }

  // EROFS: the service writes where its sandbox makes the file system read-only; EACCES: where
  // InaccessiblePaths= hides it. ReadWritePaths= granting its data dir mends it when the entry in
  // the way is above the data dir (the most specific path wins); one at or inside it must go.
  const denied = entries.findLast((e) => e.origin === 'unit' && (EROFS.test(e.message) || EACCES.test(e.message)));
  if (!denied) return;
  const readOnly = EROFS.test(denied.message);
  const paths = [...denied.message.matchAll(PATHS)].map((m) => m[1]!);
  for (const p of paths) {
    const entry = decidingEntry(unit, p);
    if (entry?.mode === 'writable') continue;
    // A root service meets an inaccessible path as read-only too (it bypasses the mode, not the mount).
    if (entry?.mode === 'read-only' && !readOnly) continue;
    const cause = entry ? `${entry.key}=${entry.raw}` : readOnly ? protectedBySystem(unit, p) : null;
    if (!cause) continue;
    const knownData = dataDirs.find((d) => isInside(p, d)) ?? null;
    const data = knownData ?? path.posix.dirname(p);
    const dataVar = unit.dataEnv.find((d) => d.dir === data);
    const what = entry?.mode === 'hidden' ? 'inaccessible' : 'read-only';
    // Granted, yet overruled: an entry at or inside the data dir, as specific as the grant or more.
    const overruled = entry ? unit.readWritePaths.find((r) => isInside(p, barePath(r))) : undefined;
    // In the way, where a grant cannot win: every entry that holds p back at or inside the service's
    // own data dir (one the config or the unit names: a path only guessed at is no reason to drop one).
    const inTheWay = knownData ? entriesOf(unit).filter((e) => e.mode !== 'writable' && isInside(p, e.path) && isInside(e.path, knownData)) : [];
    const evidence: FindingEvidence[] = [
      { text: `${cause}: ${cause === 'ProtectSystem=strict' ? 'the whole file system is read-only for the service' : `${p} is ${what} for the service`}${overruled ? '' : ', except ReadWritePaths='}`, from: show(unit.name, entry?.key ?? 'ProtectSystem,ReadOnlyPaths') },
      overruled
        ? { text: `ReadWritePaths=${overruled} grants ${p}, but ${cause} names ${entry!.path === barePath(overruled) ? 'the same path' : 'a path inside it'} and wins`, from: where(unit) }
        : { text: `ReadWritePaths=${unit.readWritePaths.join(' ') || '(none)'}: ${p} is not inside ${rw.length === 1 ? 'it' : 'any of them'}`, from: where(unit) },
      ...(dataVar ? [{ text: `Environment= ${dataVar.name}=${dataVar.dir}: where the service keeps its data`, from: show(unit.name, 'Environment') }] : []),
      { text: readOnly ? `the service fails writing ${p}: read-only file system (EROFS)` : `the service is denied ${p}: permission denied (EACCES)`, from, quote: [denied.message] },
    ];
    emit('sandbox-path', 'critical', {
      title: overruled ? `${unit.name} cannot write ${p}: ${cause} makes it ${what}, over ReadWritePaths=${overruled}` : `${unit.name} cannot write ${p}: ${cause} makes it ${what} and ReadWritePaths= does not grant ${data}`,
      evidence,
      ...(inTheWay.length > 0
        ? { fix: withoutEntries(inTheWay, data) }
        : entry && isInside(entry.path, data)
          ? { fix: null, note: `${cause} names ${entry.path} itself, which no grant of ${data} overrules: if the service must write it, take it out of the unit's ${entry.key}= (opsdeck unit override)` }
          : { fix: grant([...unit.readWritePaths, data], `grant ${unit.name} write access to ${data}`) }),
    });
    return;
  }
};
