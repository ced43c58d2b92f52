// Steps that change files: written atomically (temporary file, fsync, rename) or removed, the
// file as it was copied into the operation's journal first (content, mode, owner, times), so
// undo puts it back byte for byte, or removes what was not there. A link or a directory where
// a file is expected is refused: opsdeck never writes through a link it did not make.
import path from 'node:path';
import { atomicWriteArgvs, copyExactly, exactCopyArgvs, fileInfo, makeDirectory, readFileBytes, removeArgv, removeFile, temporaryBeside, writeFileAtomic, type FileInfo } from '../../host/files.js';
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

/**
 * The file and its directory, both looked at (at once) and refused if odd: the file must be a
 * regular one (or missing), its directory a directory itself, not a link to one elsewhere (or
 * missing, to be made).
 */
async function checkPlace(host: Host, file: string): Promise<{ file: FileInfo; dir: FileInfo }> {
  const [info, dir] = await Promise.all([fileInfo(host, file), fileInfo(host, dirname(file))]);
  if (dir.exists && dir.type !== 'directory') throw new StepFailure(`${dirname(file)} is a ${dir.type === 'link' ? 'symbolic link' : dir.type}, not a directory: opsdeck does not write through it`);
  refuseOddFile(file, info);
  return { file: info, dir };
}

/** How a file is kept before it changes, as a preview shows it. */
function keepArgvs(env: { op: { id: string }; index: number }, path: string): string[][] {
  const copy = backupPath(env.op.id, env.index);
  return exactCopyArgvs(path, copy, temporaryBeside(copy, 'XXXXXX'));
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
  if ((await fileInfo(env.host, copy)).exists) await copyExactly(env.host, copy, path);
  else env.emit({ type: 'output', line: `${path} was not touched (no copy of it was made yet): nothing to put back` });
}

export const writeFileStep: StepKind<WriteStep> = {
  argv: (step) => ['write-file', step.path, `mode=${step.mode.toString(8)}`],
  undoesBegun: true,
  async preview(step, env) {
    const { info, text } = await currentText(env.host, step.path);
    const notes = info.exists && info.type !== 'file' ? [`${step.path} is a ${info.type}: the step will refuse it`] : [];
    return {
      commands: [
        ...(info.exists ? keepArgvs(env, step.path) : [['mkdir', '-p', '-m', '755', '--', dirname(step.path)]]),
        ...atomicWriteArgvs(step.path, temporaryBeside(step.path, 'XXXXXX'), step.mode),
      ],
      diff: unifiedDiff(step.path, text, step.content) || `(${step.path} unchanged)`,
      undo: this.undoText(step),
      notes,
    };
  },
  async before(step, env) {
    const { file, dir } = await checkPlace(env.host, step.path);
    return { existed: file.exists, dirExisted: dir.exists };
  },
  async run(step, env, before) {
    // Looked at again right before: what was checked when the step began may have changed (or it is a resume).
    await checkPlace(env.host, step.path);
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
      commands: [...(info.exists ? keepArgvs(env, step.path) : []), removeArgv(step.path)],
      diff: info.exists ? unifiedDiff(step.path, text, null) : `(${step.path} does not exist: nothing to remove)`,
      undo: this.undoText(step),
      notes: info.exists && info.type !== 'file' ? [`${step.path} is a ${info.type}: the step will refuse it`] : [],
    };
  },
  async before(step, env) {
    return { existed: (await checkPlace(env.host, step.path)).file.exists };
  },
  async run(step, env, before) {
    await checkPlace(env.host, step.path);
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
