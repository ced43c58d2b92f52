// Helpers for the backup tests on a lab of their own: the built CLI against that lab (its own
// audit log), configs derived from the lab's, the archives and partials as the disk holds them,
// the lab's view of a path (tmpfs mounted in its mount namespace only), and who holds a file open.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { scenarioPaths } from '../../src/lab/scenario.js';
import { opsdeck, type privateLab } from './lab.js';
import { until } from './until.js';

export type Lab = Awaited<ReturnType<typeof privateLab>>;

export function backupPaths(lab: Lab) {
  const p = scenarioPaths(lab.state.dir);
  return {
    ...p,
    devData: path.join(p.development, 'data'),
    devBackups: path.join(p.srv, 'development-backups'),
    locks: path.join(p.state, 'locks'),
  };
}

/** The CLI against `config`, with the test's own audit log. */
export function cliFor(config: string, auditLog: string) {
  return (args: string[], timeout = 90_000) => opsdeck([...args, '--config', config], { env: { OPSDECK_AUDIT_LOG: auditLog }, timeout });
}

/** A copy of the lab's config with `edit` applied to it (as parsed YAML), written beside it. */
export function deriveConfig(lab: Lab, name: string, edit: (doc: { environments: Record<string, { backups: Record<string, unknown> }> }) => void): string {
  const doc = parse(readFileSync(lab.config, 'utf8'));
  edit(doc);
  const file = path.join(lab.state.dir, `${name}.yaml`);
  writeFileSync(file, stringify(doc));
  return file;
}

/** The JSON lines an operation prints with --json (events, then its result). */
export function jsonLines(stdout: string): Array<Record<string, any>> {
  return stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

export function resultOf(stdout: string): Record<string, any> {
  return jsonLines(stdout).at(-1)!.result;
}

/** Archive file names in a directory (no sidecars, no partials), oldest first. */
export function archivesIn(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((n) => /\.tar\.(gz|zst)$/.test(n)).sort() : [];
}

export function sha256Of(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** A path as the lab's mount namespace sees it (a tmpfs mounted in the lab is only visible there). */
export function inLab(lab: Lab, p: string): string {
  return `/proc/${lab.state.pid}/root${p}`;
}

/** PIDs (as this machine numbers them) with `file` open, or whose command line names it. */
export function processesUsing(file: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(file)) {
        found.push(Number(entry));
        continue;
      }
      for (const fd of readdirSync(`/proc/${entry}/fd`)) {
        if (readlinkSync(`/proc/${entry}/fd/${fd}`) === file) {
          found.push(Number(entry));
          break;
        }
      }
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Archive names carry the time to the second: wait until no archive in `dir` has the current one. */
export async function untilFreshSecond(dir: string): Promise<void> {
  const stamp = () => new Date().toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
  await until('a second no archive is named after', () => !archivesIn(dir).some((n) => n.includes(stamp())), { timeoutMs: 5000 });
}

/** The operation holding an environment's lock on the lab host (the lock is a link naming its owner). */
export function lockHolder(lab: Lab, env: string): string | null {
  try {
    return (JSON.parse(readlinkSync(path.join(backupPaths(lab).locks, `${env}.lock`))) as { op: string }).op;
  } catch {
    return null;
  }
}
