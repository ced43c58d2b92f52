// Planning a restore, for the CLI and the console alike: where it may go (never into or around
// the backups), where it goes as the host sees it (a link resolved first, so the extraction
// beside it and the swap by rename happen on the data's own file system), whether anything is
// there now (then it is archived first), and the operation. The archive was verified just before.
import { fileInfo } from '../host/files.js';
import type { Host, RunOptions } from '../host/host.js';
import type { OperationTarget } from '../ops/plans.js';
import type { Operation } from '../ops/operation.js';
import { UsageError } from '../text/errors.js';
import { restoreOperation, type RestorePlan } from './plans.js';
import { isInside, type ResolvedPolicy } from './policy.js';
import type { SourceSanity } from './sanity.js';
import { scanTree } from './scan.js';

/** Why `into` cannot take a restore, or null: it holds the backups, or is inside them. */
export function restoreIntoRefusal(into: string, policy: Pick<ResolvedPolicy, 'dir'>): string | null {
  return isInside(into, policy.dir) || isInside(policy.dir, into) ? `cannot restore into ${into}: it holds or is inside the backups directory ${policy.dir}` : null;
}

async function restoreTarget(host: Host, dir: string, options: RunOptions = {}): Promise<{ target: string; hasData: boolean }> {
  const info = await fileInfo(host, dir, options);
  if (!info.exists) return { target: dir, hasData: false };
  const { stdout } = await host.run(['realpath', '-e', '--', dir], options);
  const target = stdout.replace(/\n$/, '');
  const real = await fileInfo(host, target, options);
  if (real.type !== 'directory') throw new UsageError(`${dir} on host ${host.name} is not a directory`, 'restore into a directory (or a path that does not exist yet)');
  const scan = await scanTree(host, target, options);
  return { target, hasData: scan.files + scan.dirs + scan.links + scan.others > 0 };
}

export interface RestoreRequest extends Omit<RestorePlan, 'target' | 'targetHasData' | 'now'> {
  /** The directory asked for (the backups' source unless another was given). */
  into: string;
  /** Source sanity as last read: a restore into a directory the service does not read says so. */
  sanity?: SourceSanity | null;
}

export async function planRestore(host: Host, where: OperationTarget, request: RestoreRequest, options: RunOptions = {}): Promise<Operation> {
  const { into, sanity, ...plan } = request;
  const { target, hasData } = await restoreTarget(host, into, options);
  const op = restoreOperation(where, { ...plan, target, targetHasData: hasData });
  if (sanity?.verdict === 'stale-source' && into === plan.policy.source) {
    op.details.push(`WARNING: source sanity says ${plan.environment}'s service writes to ${sanity.liveDirs.join(', ') || 'another directory'}, not to ${target}: the service will not read what this restores`);
  }
  return op;
}
