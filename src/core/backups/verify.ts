// Verify an archive the way a restore would need it: its bytes are the ones recorded when it was
// made (SHA-256), its compressed stream and tar structure are whole (the host's tar extracts
// all of it into a temporary directory beside it), and what came out is what the manifest says
// went in (files, directories, links, bytes, newest file). Archives opsdeck did not make have
// no checksum or manifest: they are extracted all the same and what they hold is reported.
// The result is kept beside the archive (NAME.verified.json) for the list and the pane.
import path from 'node:path';
import type { Host } from '../host/host.js';
import { freeSpace, readFileBytes, writeFileAtomic } from '../host/files.js';
import { formatBytes } from '../text/humanize.js';
import type { CatalogEntry } from './catalog.js';
import { parseSha256 } from './create.js';
import type { Manifest, VerifyRecord } from './manifest.js';
import { compressionOf, SIDECARS } from './policy.js';
import { scanTree, type TreeScan } from './scan.js';
import { extractArgv, runTar } from './tar.js';

export interface VerifyReport extends VerifyRecord {
  host: string;
  path: string;
  /** What the test extraction held, or null when it did not get that far. */
  content: Pick<TreeScan, 'files' | 'dirs' | 'links' | 'bytes' | 'newestMtime' | 'newestPath'> | null;
  madeByOpsdeck: boolean;
}

export interface VerifyProgress {
  phase: 'checksum' | 'extraction';
  bytes: number;
  files: number;
  totalBytes: number | null;
  totalFiles: number | null;
}

/** The checksum recorded for an archive: its manifest's, else its NAME.sha256 (sha256sum format). */
async function recordedChecksum(host: Host, archive: string, manifest: Manifest | null): Promise<string | null> {
  if (manifest) return manifest.sha256;
  const bytes = await readFileBytes(host, SIDECARS.checksum(archive), { maxBytes: 4096 }).catch(() => null);
  return bytes ? (/^\\?([0-9a-f]{64})\s/.exec(bytes.toString('utf8'))?.[1] ?? null) : null;
}

/** Where what came out differs from what the manifest says went in. */
export function compareWithManifest(found: Pick<TreeScan, 'files' | 'dirs' | 'links' | 'bytes' | 'newestMtime'>, manifest: Manifest): string[] {
  const differences: string[] = [];
  const count = (what: string, got: number, want: number) => {
    if (got !== want) differences.push(`${what}: ${got}, the manifest says ${want}`);
  };
  count('files', found.files, manifest.files);
  count('directories', found.dirs, manifest.dirs);
  count('links', found.links, manifest.links);
  if (found.bytes !== manifest.bytes) differences.push(`bytes: ${found.bytes}, the manifest says ${manifest.bytes}`);
  if (manifest.newestMtime !== null && (found.newestMtime === null || Math.abs(found.newestMtime - manifest.newestMtime) > 1)) differences.push('the newest file inside is not the one the manifest names');
  return differences;
}

export async function verifyArchive(host: Host, entry: Pick<CatalogEntry, 'path' | 'name' | 'sizeBytes' | 'modifiedAt' | 'manifest'>, options: { signal?: AbortSignal; onProgress?: (p: VerifyProgress) => void; record?: boolean } = {}): Promise<VerifyReport> {
  const checks: VerifyRecord['checks'] = [];
  const manifest = entry.manifest;
  let sha256: string | null = null;
  let content: VerifyReport['content'] = null;
  const dir = path.posix.dirname(entry.path);

  options.onProgress?.({ phase: 'checksum', bytes: 0, files: 0, totalBytes: entry.sizeBytes, totalFiles: null });
  // Esc (the signal) stops whichever command runs: the checksum of a big archive takes a while.
  const stoppable = options.signal ? { signal: options.signal } : {};
  const [actual, recorded] = await Promise.all([parseSha256(host, entry.path, stoppable), recordedChecksum(host, entry.path, manifest)]);
  sha256 = actual;
  if (recorded === null) checks.push({ name: 'checksum', ok: true, detail: `no checksum recorded (not made by opsdeck); sha256 now ${actual}` });
  else if (recorded === actual) checks.push({ name: 'checksum', ok: true, detail: `sha256 ${actual} as recorded` });
  else checks.push({ name: 'checksum', ok: false, detail: `sha256 is ${actual}, ${recorded} was recorded when it was made: the file changed or is damaged` });

  if (checks[0]!.ok) {
    const need = manifest?.bytes ?? null;
    const free = await freeSpace(host, dir).catch(() => null);
    if (need !== null && free !== null && free < need * 1.05 + 1_048_576) {
      checks.push({ name: 'extraction', ok: false, detail: `a test extraction needs about ${formatBytes(need)} in ${dir}, only ${formatBytes(free)} is free` });
    } else {
      const { stdout } = await host.run(['mktemp', '-d', '-p', dir, '.opsdeck-verify.XXXXXXXX'], stoppable);
      const into = stdout.trim();
      try {
        const run = await runTar(host, extractArgv(entry.path, into, compressionOf(path.posix.basename(entry.path))), {
          signal: options.signal,
          onProgress: (p) => options.onProgress?.({ phase: 'extraction', bytes: p.bytes, files: p.files, totalBytes: manifest?.bytes ?? null, totalFiles: manifest?.files ?? null }),
        });
        if (run.canceled) throw new Error(`verify of ${entry.path} was stopped`);
        if (run.exitCode !== 0) {
          const c = run.complaints;
          const why = c.noSpace ? `no space left in ${dir} for the test extraction` : [...c.corrupt, ...c.other, ...c.unreadable].slice(0, 2).join('; ') || `tar exited with ${run.exitCode ?? 'no code'}`;
          checks.push({ name: 'extraction', ok: false, detail: `${c.noSpace ? '' : 'the archive is damaged: '}${why}` });
        } else {
          checks.push({ name: 'extraction', ok: true, detail: `${run.tally.files} files extracted whole (${formatBytes(run.tally.bytes)})` });
          const found = await scanTree(host, into, { timeoutMs: 600_000, ...stoppable });
          content = { files: found.files, dirs: found.dirs, links: found.links, bytes: found.bytes, newestMtime: found.newestMtime, newestPath: found.newestPath };
          if (manifest) {
            const differences = compareWithManifest(found, manifest);
            checks.push({ name: 'manifest', ok: differences.length === 0, detail: differences.length === 0 ? `matches the manifest: ${found.files} files, ${found.dirs} directories, ${found.links} links, ${formatBytes(found.bytes)}` : differences.join('; ') });
          } else {
            checks.push({ name: 'manifest', ok: true, detail: `no manifest (not made by opsdeck); holds ${found.files} files, ${formatBytes(found.bytes)}` });
          }
        }
      } finally {
        await host.run(['rm', '-rf', '--one-file-system', '--', into], { timeoutMs: 600_000 }).catch(() => undefined);
      }
    }
  }
  const record: VerifyRecord = { version: 1, archive: entry.name, ok: checks.every((c) => c.ok), verifiedAt: new Date().toISOString(), sha256, checks, archiveBytes: entry.sizeBytes, archiveMtime: Date.parse(entry.modifiedAt) / 1000, files: content?.files ?? null, bytes: content?.bytes ?? null };
  // The record is a convenience for the list: a directory opsdeck may not write does not fail the verify.
  if (options.record !== false) await writeFileAtomic(host, SIDECARS.verified(entry.path), JSON.stringify(record, null, 2) + '\n', 0o640).catch(() => undefined);
  return { ...record, host: host.name, path: entry.path, content, madeByOpsdeck: manifest !== null };
}
