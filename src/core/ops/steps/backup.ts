// The steps of backups: making an archive, extracting one into a new directory beside where it
// goes, swapping that directory into place by rename (the old one kept beside it), and removing
// pruned archives. A failed extraction leaves no half directory; a swap is undone by renaming
// back, whichever of its two renames a crash came between.
import path from 'node:path';
import { archivePath, BackupError, createCommands, parseSha256, removeArchive, sha256Argv, writeArchive } from '../../backups/create.js';
import { parseManifest } from '../../backups/manifest.js';
import { compressionOf, SIDECARS } from '../../backups/policy.js';
import { archiveTools, compressorFor, extractArgv, runTar } from '../../backups/tar.js';
import { fileInfo, freeSpace, readFileBytes } from '../../host/files.js';
import type { Host } from '../../host/host.js';
import { formatBytes } from '../../text/humanize.js';
import type { Step } from '../operation.js';
import { StepFailure, stepError, type StepEnv, type StepKind } from './kind.js';

type CreateStep = Extract<Step, { kind: 'backup-create' }>;
type ExtractStep = Extract<Step, { kind: 'extract' }>;
type SwapStep = Extract<Step, { kind: 'swap-dir' }>;
type RemoveFilesStep = Extract<Step, { kind: 'remove-files' }>;

const parent = (p: string) => path.posix.dirname(p);

/** A BackupError (what, where, what to do) as a step's failure; a lost host stays a lost host. */
function asStepError(error: unknown): Error {
  if (error instanceof BackupError) return new StepFailure(error.hint ? `${error.message} (${error.hint})` : error.message);
  return stepError(error);
}

async function run(env: StepEnv, argv: string[], timeoutMs = 120_000): Promise<void> {
  try {
    await env.host.run(argv, { timeoutMs, ...(env.signal ? { signal: env.signal } : {}) });
  } catch (error) {
    throw stepError(error);
  }
}

export const backupCreateStep: StepKind<CreateStep> = {
  argv: (step) => ['tar', '--create', `--file=${archivePath(step)}`, `--directory=${step.source}`, '.'],
  undoesBegun: true,
  async preview(step, env) {
    const tools = await archiveTools(env.host);
    return { commands: createCommands(spec(step, env.op.id), compressorFor(step.compression, tools, env.host.name), tools), diff: null, undo: this.undoText(step), notes: [`then ${SIDECARS.checksum(step.name)} and ${SIDECARS.manifest(step.name)} beside it`] };
  },
  async run(step, env, _before, resume) {
    const file = archivePath(step);
    if (resume) {
      // It got as far as its manifest: the archive is whole, do not make it twice.
      const manifest = await readFileBytes(env.host, SIDECARS.manifest(file)).catch(() => null);
      const parsed = manifest ? parseManifest(manifest.toString('utf8')) : null;
      if (parsed && (await fileInfo(env.host, file)).exists) return { exitCode: 0, data: { archive: file, sha256: parsed.sha256, resumedDone: true } };
      await removeArchive(env.host, file).catch((error: unknown) => { throw stepError(error); });
    }
    try {
      const manifest = await writeArchive(env.host, spec(step, env.op.id), {
        signal: env.signal,
        onProgress: (p) => env.emit({ type: 'progress', done: p.bytes, total: p.totalBytes, unit: 'bytes', files: { done: p.files, total: p.totalFiles } }),
      });
      for (const changed of manifest.changedWhileReading.slice(0, 20)) env.emit({ type: 'output', line: `changed while being read (kept as read): ${changed}` });
      env.emit({ type: 'output', line: `${manifest.archive}: ${formatBytes(manifest.archiveBytes)}, ${manifest.files} files (${formatBytes(manifest.bytes)}), sha256 ${manifest.sha256}` });
      return { exitCode: 0, data: { archive: file, sha256: manifest.sha256, archiveBytes: manifest.archiveBytes, files: manifest.files } };
    } catch (error) {
      throw asStepError(error);
    }
  },
  async undo(step, env) {
    await removeArchive(env.host, archivePath(step)).catch((error: unknown) => { throw stepError(error); });
  },
  undoText(step) {
    return `remove ${step.name} and its checksum and manifest`;
  },
};

function spec(step: CreateStep, operation: string) {
  return { environment: step.environment, source: step.source, dir: step.dir, name: step.name, compression: step.compression, unit: step.unit, operation, createdBy: 'opsdeck' };
}

/** rm -rf of a directory opsdeck made (a temporary extraction): never crosses into another file system. */
function removeTreeArgv(dir: string): string[] {
  return ['rm', '-rf', '--one-file-system', '--', dir];
}

export const extractStep: StepKind<ExtractStep> = {
  argv: (step) => extractArgv(step.archive, step.into, compressionOf(step.archive)),
  undoesBegun: true,
  async preview(step, env) {
    const commands = [...(step.sha256 ? [sha256Argv(step.archive, await archiveTools(env.host))] : []), ['mkdir', '-m', '700', '--', step.into], extractArgv(step.archive, step.into, compressionOf(step.archive))];
    return { commands, diff: null, undo: this.undoText(step), notes: step.sha256 ? [`the archive must still have sha256 ${step.sha256}`] : ['no recorded checksum for this archive: only its own integrity is checked'] };
  },
  async run(step, env) {
    try {
      if (step.sha256) {
        const now = await parseSha256(env.host, step.archive);
        if (now !== step.sha256) throw new StepFailure(`${step.archive} on host ${env.host.name} changed since it was checked (sha256 ${now}, expected ${step.sha256}): not restored`);
      }
      // A directory left by an attempt that was cut off is opsdeck's own: start it again.
      await env.host.run(removeTreeArgv(step.into));
      await env.host.run(['mkdir', '-m', '700', '--', step.into]);
    } catch (error) {
      throw error instanceof StepFailure ? error : stepError(error);
    }
    const result = await runTar(env.host, extractArgv(step.archive, step.into, compressionOf(step.archive)), {
      signal: env.signal,
      onProgress: (p) => env.emit({ type: 'progress', done: p.bytes, total: null, unit: 'bytes', files: { done: p.files, total: null } }),
    });
    if (result.exitCode === 0 && !result.canceled) return { exitCode: 0, data: { files: result.tally.files, bytes: result.tally.bytes } };
    await env.host.run(removeTreeArgv(step.into), { timeoutMs: 600_000 }).catch(() => undefined);
    if (result.canceled) throw new StepFailure(`extracting ${step.archive} was stopped; ${step.into} was removed`);
    const c = result.complaints;
    if (c.noSpace) {
      const free = await freeSpace(env.host, parent(step.into)).catch(() => null);
      throw new StepFailure(`no space left in ${parent(step.into)} on host ${env.host.name}${free !== null ? ` (${formatBytes(free)} free)` : ''} while extracting ${step.archive}; the partial extraction was removed, nothing else was touched`);
    }
    const said = [...c.corrupt, ...c.unreadable, ...c.other].slice(0, 3).join('; ');
    throw new StepFailure(`extracting ${step.archive} on host ${env.host.name} failed (exit code ${result.exitCode ?? 'none'})${said ? `: ${said}` : ''}; the partial extraction was removed, nothing else was touched`, result.exitCode ?? null);
  },
  async undo(step, env) {
    await run(env, removeTreeArgv(step.into), 600_000);
  },
  undoText(step) {
    return `remove ${step.into}`;
  },
};

async function exists(host: Host, p: string): Promise<boolean> {
  return (await fileInfo(host, p)).exists;
}

/** Whether a directory is at `p`; anything else there (a link, a file) is refused. */
async function directoryThere(host: Host, p: string): Promise<boolean> {
  const info = await fileInfo(host, p);
  if (info.exists && info.type !== 'directory') throw new StepFailure(`${p} on host ${host.name} is a ${info.type === 'link' ? 'symbolic link' : info.type}, not a directory: opsdeck does not swap it`);
  return info.exists;
}

export const swapDirStep: StepKind<SwapStep> = {
  argv: (step) => ['mv', '-T', '--', step.replacement, step.target],
  undoesBegun: true,
  async preview(step) {
    return { commands: [['mv', '-T', '--', step.target, step.keepAs], ['mv', '-T', '--', step.replacement, step.target], ['sync', '--', parent(step.target)]], diff: null, undo: this.undoText(step), notes: [`what is in ${step.target} now is kept as ${step.keepAs} (remove it yourself once satisfied)`] };
  },
  async before(step, env) {
    return { targetExisted: await exists(env.host, step.target).catch((error: unknown) => { throw stepError(error); }) };
  },
  async run(step, env, before, resume) {
    try {
      const [target, replacement] = await Promise.all([directoryThere(env.host, step.target), exists(env.host, step.replacement)]);
      if (resume && !replacement && target) return { exitCode: 0, data: { resumedDone: true } };
      if (!replacement) throw new StepFailure(`${step.replacement} is not there on host ${env.host.name}: nothing to put in place`);
      if (await exists(env.host, step.keepAs)) {
        if (target) throw new StepFailure(`${step.keepAs} is already there on host ${env.host.name}: opsdeck does not overwrite it`);
      } else if (target) await env.host.run(['mv', '-T', '--', step.target, step.keepAs]);
      await env.host.run(['mv', '-T', '--', step.replacement, step.target]);
      await env.host.run(['sync', '--', parent(step.target)]);
      return { exitCode: 0, data: { kept: before?.targetExisted === true } };
    } catch (error) {
      throw error instanceof StepFailure ? error : stepError(error);
    }
  },
  async undo(step, env, data) {
    try {
      const [target, replacement, kept] = await Promise.all([exists(env.host, step.target), exists(env.host, step.replacement), exists(env.host, step.keepAs)]);
      // The restored tree is in place only if the old one was moved aside (or there was none):
      // it goes back to where it was extracted (the extract's undo removes it)…
      const restoredInPlace = target && !replacement && (kept || data.targetExisted === false);
      if (restoredInPlace) await env.host.run(['mv', '-T', '--', step.target, step.replacement]);
      // …and what was there before comes back.
      if (kept && (restoredInPlace || !target)) await env.host.run(['mv', '-T', '--', step.keepAs, step.target]);
      await env.host.run(['sync', '--', parent(step.target)]);
    } catch (error) {
      throw stepError(error);
    }
  },
  undoText(step) {
    return `rename ${step.target} back to ${step.replacement}, and ${step.keepAs} back to ${step.target}`;
  },
};

export const removeFilesStep: StepKind<RemoveFilesStep> = {
  argv: (step) => ['rm', '-f', '--', ...step.paths],
  async preview(step) {
    const dirs = [...new Set(step.paths.map(parent))];
    return { commands: [['rm', '-f', '--', ...step.paths], ...dirs.map((d) => ['sync', '--', d])], diff: null, undo: this.undoText(step), notes: [] };
  },
  async run(step, env) {
    await run(env, ['rm', '-f', '--', ...step.paths]);
    for (const dir of new Set(step.paths.map(parent))) await run(env, ['sync', '--', dir]);
    return { exitCode: 0 };
  },
  undoText() {
    return 'removed files cannot be brought back';
  },
};
