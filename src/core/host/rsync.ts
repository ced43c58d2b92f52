// Directory sync with rsync, on one host (deploys, data snapshots). A dry run first lists what
// would change (`--itemize-changes`), so every sync can be previewed before it runs.
import { UsageError } from '../text/errors.js';
import type { Host, RunOptions } from './host.js';
import { sanitizeLine } from '../text/sanitize.js';

export interface RsyncOptions {
  source: string;
  destination: string;
  /** Delete files in the destination that the source does not have. */
  delete?: boolean;
  dryRun?: boolean;
  exclude?: readonly string[];
}

export interface RsyncChange {
  /** rsync's 11-character change summary, e.g. ">f+++++++++" for a new file, "*deleting" for a deletion. */
  code: string;
  path: string;
}

export interface RsyncResult {
  changes: RsyncChange[];
  dryRun: boolean;
}

function requireAbsolute(what: string, dir: string): string {
  if (!dir.startsWith('/')) throw new UsageError(`${what} ${JSON.stringify(dir)} must be an absolute path`);
  // A trailing slash on the source means "the contents of", which is what a sync of two dirs wants.
  return dir.endsWith('/') ? dir : `${dir}/`;
}

export function rsyncArgv(options: RsyncOptions): string[] {
  const argv = ['rsync', '--archive', '--itemize-changes', '--human-readable'];
  if (options.delete) argv.push('--delete');
  if (options.dryRun) argv.push('--dry-run');
  for (const pattern of options.exclude ?? []) argv.push(`--exclude=${pattern}`);
  argv.push('--', requireAbsolute('source', options.source), requireAbsolute('destination', options.destination));
  return argv;
}

export function parseItemized(stdout: string): RsyncChange[] {
  const changes: RsyncChange[] = [];
  for (const line of stdout.split(/\r?\n|\r/)) {
    const match = line.match(/^(\*deleting|[<>ch.*][fdLDS][.+?a-zA-Z]{9})\s+(.*)$/);
    if (match && match[2] !== './') changes.push({ code: match[1]!, path: sanitizeLine(match[2]!) });
  }
  return changes;
}

export async function rsync(host: Host, options: RsyncOptions, runOptions: RunOptions = {}): Promise<RsyncResult> {
  const { stdout } = await host.run(rsyncArgv(options), { timeoutMs: 600_000, ...runOptions });
  return { changes: parseItemized(stdout), dryRun: Boolean(options.dryRun) };
}
