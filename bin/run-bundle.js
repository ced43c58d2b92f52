// Runs the bundle (dist/opsdeck.cjs) as a script with V8's code cache. The first run compiles
// it and, a moment later (or at exit, if sooner), saves the compiled code under the user's cache
// dir; later runs start from that (~40 ms less of a ~300 ms start on a small machine). Node 22
// does this by itself (module.enableCompileCache); Node 20, which the machines run, does not.
// OPSDECK_CODE_CACHE=0 turns it off.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';

/** Saved once start-up is over, so the cache holds the code the first frame needed. */
const SAVE_AFTER_MS = 2000;
/** Cache files kept (one per build and Node version): a few checkouts or versions side by side. */
const KEEP_FILES = 4;

export function runBundle(file) {
  const source = readFileSync(file, 'utf8');
  const cacheFile = codeCachePath(source);
  const cachedData = cacheFile ? readOwnFile(cacheFile) : undefined;
  // The wrapper Node gives CommonJS modules, on the script's first line so line numbers hold.
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new vm.Script(wrapped, { filename: file, cachedData });
  if (cacheFile) {
    if (cachedData === undefined || script.cachedDataRejected) saveLater(script, cacheFile);
    // A cache saved by a short run (opsdeck --version) lacks the console's code: a run that
    // lasts tops it up once it has more.
    else setTimeout(() => saveIfMore(script, cacheFile, cachedData.length), SAVE_AFTER_MS).unref();
  }
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file));
  return module.exports;
}

function codeCachePath(source) {
  if (process.env.OPSDECK_CODE_CACHE === '0') return undefined;
  const xdg = process.env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : os.homedir() ? path.join(os.homedir(), '.cache') : undefined;
  if (!base) return undefined;
  // V8 checks only its own version and the source's length: the key names the exact bundle.
  const key = createHash('sha256').update(source).update(process.version).update(process.arch).digest('hex').slice(0, 20);
  return path.join(base, 'opsdeck', `code-${key}.v8`);
}

/** The cache is code to run: only used from a directory and file that are ours and that no one else can write. */
function readOwnFile(file) {
  const uid = process.getuid?.();
  const trusted = (stat) => (uid === undefined || stat.uid === uid) && (stat.mode & 0o022) === 0;
  let fd;
  try {
    if (!trusted(statSync(path.dirname(file)))) return undefined;
    fd = openSync(file, 'r');
    return trusted(fstatSync(fd)) ? readFileSync(fd) : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function saveLater(script, file) {
  let saved = false;
  const save = () => {
    if (saved) return;
    saved = true;
    write(file, script.createCachedData());
  };
  setTimeout(save, SAVE_AFTER_MS).unref();
  process.once('exit', save);
}

function saveIfMore(script, file, loadedBytes) {
  const data = script.createCachedData();
  if (data.length > loadedBytes * 1.1) write(file, data);
}

function write(file, data) {
  try {
    const dir = path.dirname(file);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, data, { mode: 0o600 });
    renameSync(temporary, file);
    pruneOldFiles(dir);
  } catch {
    // No cache (read-only home, full disk): the next start compiles again, that is all.
  }
}

function pruneOldFiles(dir) {
  const files = readdirSync(dir)
    .filter((name) => /^code-[0-9a-f]+\.v8$/.test(name))
    .map((name) => ({ name, mtime: statSync(path.join(dir, name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const { name } of files.slice(KEEP_FILES)) unlinkSync(path.join(dir, name));
}
