// Where a restore goes, as the host sees it: a link is resolved first (so the extraction
// beside it and the swap by rename happen on the data's own file system), and whether anything
// is there now (then it is archived first). The CLI and the console plan restores from this.
import { fileInfo } from '../host/files.js';
import type { Host } from '../host/host.js';
import { UsageError } from '../text/errors.js';
import { scanTree } from './scan.js';

export async function restoreTarget(host: Host, dir: string): Promise<{ target: string; hasData: boolean }> {
  const info = await fileInfo(host, dir);
  if (!info.exists) return { target: dir, hasData: false };
  const { stdout } = await host.run(['realpath', '-e', '--', dir]);
  const target = stdout.replace(/\n$/, '');
  const real = await fileInfo(host, target);
  if (real.type !== 'directory') throw new UsageError(`${dir} on host ${host.name} is not a directory`, 'restore into a directory (or a path that does not exist yet)');
  const scan = await scanTree(host, target);
  return { target, hasData: scan.files + scan.dirs + scan.links + scan.others > 0 };
}
