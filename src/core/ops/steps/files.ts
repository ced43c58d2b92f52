// Steps that change files: written atomically (temporary file, fsync, rename) or removed, the
// file as it was copied into the operation's journal first (content, mode, owner, times), so
// undo puts it back byte for byte, or removes what was not there. A link or a directory where
// a file is expected is refused: opsdeck never writes through a link it did not make.
import path from 'node:path';
import { copyExactly, fileInfo, makeDirectory, readFileBytes, removeFile, restoreExactly, writeFileAtomic, type FileInfo } from '../../host/files.js';
import { unifiedDiff } from '../../text/diff.js';
import type { Host } from '../../host/host.js';
import type { Step } from '../operation.js';
import { backupPath } from '../state.js';
import { StepFailure, type StepEnv, type StepKind } from './kind.js';

type WriteStep = Extract<Step, { kind: 'write-file' }>;
const dirname = (file: string) => path.posix.dirname(file);
type RemoveStep = Extract<Step, { kind: 'remove-file' }>;

function refuseOddFile(path: string, info: FileInfo): void {
  if (info.exists && info.type !== 'file') throw new StepFailure(`${path} is a ${info.type === 'link' ? 'symbolic link' : info.type}, not a regular file: opsdeck does not write through it`);
}

/** The file's directory must be a directory itself, not a link to one elsewhere (or be missing, to be made). */
async function refuseOddDirectory(host: Host, file: string): Promise<FileInfo> {
  const info = await fileInfo(host, dirname(file));
  if (info.exists && info.type !== 'directory') throw new StepFailure(`${dirname(file)} is a ${info.type === 'link' ? 'symbolic link' : info.type}, not a directory: opsdeck does not write through it`);
  return info;
}

/** What a step's start recorded about the file; a record without it cannot be undone safely. */
function existedBefore(data: Record<string, unknown>, path: string): boolean {
  if (typeof data.existed !== 'boolean') throw new StepFailure(`the journal does not say whether ${path} existed before: it is left as it is`);
  return data.existed;
}

async function currentText(host: Host, path: string): Promise<{ info: FileInfo; text: string | null }> {
  const info = await fileInfo(host, path);
  const bytes = info.type === 'file' ? await readFileBytes(host, path) : null;
  return { info, text: bytes === null ? null : bytes.toString('utf8') };
}

/** Keep the file as it is now (once: a resumed step keeps the first copy, the original). */
async function keep(env: StepEnv, path: string, before: Record<string, unknown> | undefined): Promise<void> {
  if (!before?.existed) return;
  const copy = backupPath(env.op.id, env.index);
  const kept = await fileInfo(env.host, copy);
  if (!kept.exists) await copyExactly(env.host, path, copy);
}

/**
 * Put the file back as it was. The copy is made (complete, renamed into place) before the file
 * is touched, so a step cut off before its copy exists never touched the file either.
 */
async function putBack(env: StepEnv, path: string, data: Record<string, unknown>): Promise<void> {
  if (!existedBefore(data, path)) return removeFile(env.host, path);
  const copy = backupPath(env.op.id, env.index);
  if ((await fileInfo(env.host, copy)).exists) await restoreExactly(env.host, copy, path);
  else env.emit({ type: 'output', line: `${path} was not touched (no copy of it was made yet): nothing to put back` });
}

export const writeFileStep: StepKind<WriteStep> = {
  argv: (step) => ['write-file', step.path, `mode=${step.mode.toString(8)}`],
  undoesBegun: true,
  async preview(step, env) {
    const { info, text } = await currentText(env.host, step.path);
    const notes = info.exists && info.type !== 'file' ? [`${step.path} is a ${info.type}: the step will refuse it`] : [];
    const tmp = `${step.path.replace(/[^/]*$/, '')}.${step.path.split('/').pop()}.opsdeck-XXXXXX`;
    return {
      commands: [
        ...(info.exists ? [['cp', '-a', '--no-dereference', '--', step.path, backupPath(env.op.id, env.index)]] : [['mkdir', '-p', '-m', '755', '--', dirname(step.path)]]),
        ['dd', `of=${tmp}`, 'conv=excl,fsync', 'oflag=nofollow', 'status=none'],
        ['chmod', step.mode.toString(8), '--', tmp],
        ['mv', '-T', '-f', '--', tmp, step.path],
      ],
      diff: unifiedDiff(step.path, text, step.content) || `(${step.path} unchanged)`,
      undo: this.undoText(step),
      notes,
    };
  },
  async before(step, env) {
    const info = await fileInfo(env.host, step.path);
    refuseOddFile(step.path, info);
    return { existed: info.exists, dirExisted: (await refuseOddDirectory(env.host, step.path)).exists };
  },
  async run(step, env, before) {
    await refuseOddDirectory(env.host, step.path);
    refuseOddFile(step.path, await fileInfo(env.host, step.path));
    await keep(env, step.path, before);
    if (!before?.dirExisted) await makeDirectory(env.host, dirname(step.path), 0o755);
    await writeFileAtomic(env.host, step.path, step.content, step.mode);
    return { exitCode: 0, data: { existed: Boolean(before?.existed), dirExisted: Boolean(before?.dirExisted) } };
  },
  async undo(step, env, data) {
    await putBack(env, step.path, data);
    // A directory made for the file goes too, if nothing else was put in it meanwhile.
    if (data.dirExisted === false) await env.host.run(['rmdir', '--ignore-fail-on-non-empty', '--', dirname(step.path)], { okExitCodes: [0, 1] });
  },
  undoText(step) {
    return `put ${step.path} back as it was (or remove it, if it was not there)`;
  },
};

export const removeFileStep: StepKind<RemoveStep> = {
  argv: (step) => ['remove-file', step.path],
  undoesBegun: true,
  async preview(step, env) {
    const { info, text } = await currentText(env.host, step.path);
    return {
      commands: [...(info.exists ? [['cp', '-a', '--no-dereference', '--', step.path, backupPath(env.op.id, env.index)]] : []), ['rm', '-f', '--', step.path]],
      diff: info.exists ? unifiedDiff(step.path, text, null) : `(${step.path} does not exist: nothing to remove)`,
      undo: this.undoText(step),
      notes: info.exists && info.type !== 'file' ? [`${step.path} is a ${info.type}: the step will refuse it`] : [],
    };
  },
  async before(step, env) {
    await refuseOddDirectory(env.host, step.path);
    const info = await fileInfo(env.host, step.path);
    refuseOddFile(step.path, info);
    return { existed: info.exists };
  },
  async run(step, env, before) {
    await refuseOddDirectory(env.host, step.path);
    await keep(env, step.path, before);
    await removeFile(env.host, step.path);
    return { exitCode: 0, data: { existed: Boolean(before?.existed) } };
  },
  async undo(step, env, data) {
    if (existedBefore(data, step.path)) await putBack(env, step.path, data);
  },
  undoText(step) {
    return `put ${step.path} back as it was`;
  },
};
