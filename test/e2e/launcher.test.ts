// The launcher keeps V8's compiled code of the bundle in the user's cache dir: private, keyed by
// the build, and never in the way (a damaged, foreign or unwritable cache only costs speed).
import { execa } from 'execa';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { opsdeckBin } from '../support/lab.js';

const version = JSON.parse(readFileSync(path.join(import.meta.dirname, '../../package.json'), 'utf8')).version as string;

let cacheHome: string;
beforeEach(() => {
  cacheHome = mkdtempSync(path.join(os.tmpdir(), 'opsdeck-cache-test-'));
});
afterEach(() => rmSync(cacheHome, { recursive: true, force: true }));

async function opsdeckVersion(env: Record<string, string> = {}) {
  const result = await execa(process.execPath, [opsdeckBin, '--version'], { env: { XDG_CACHE_HOME: cacheHome, ...env }, reject: false });
  expect(result.exitCode).toBe(0);
  expect(result.stdout).toBe(version);
  expect(result.stderr).toBe('');
  return result;
}

function cacheFiles(): string[] {
  const dir = path.join(cacheHome, 'opsdeck');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.v8'))
    .map((name) => path.join(dir, name));
}

describe('the code cache', () => {
  it('is written on the first run, private to the user, and used by the next', async () => {
    await opsdeckVersion();
    const [file, ...others] = cacheFiles();
    expect(others).toEqual([]);
    expect(statSync(path.dirname(file!)).mode & 0o777).toBe(0o700);
    const first = statSync(file!);
    expect(first.mode & 0o777).toBe(0o600);
    expect(first.size).toBeGreaterThan(10_000);

    // Accepted by V8, so not written again.
    await opsdeckVersion();
    expect(statSync(file!).mtimeMs).toBe(first.mtimeMs);
    expect(statSync(file!).ino).toBe(first.ino);
  });

  it('replaces a damaged cache, and opsdeck runs as usual', async () => {
    await opsdeckVersion();
    const [file] = cacheFiles();
    writeFileSync(file!, Buffer.alloc(4096, 0x41), { mode: 0o600 });
    await opsdeckVersion();
    expect(readFileSync(file!).subarray(0, 16)).not.toEqual(Buffer.alloc(16, 0x41));
  });

  it('does not use a cache file that others can write, and replaces it', async () => {
    await opsdeckVersion();
    const [file] = cacheFiles();
    chmodSync(file!, 0o666);
    const before = statSync(file!).ino;
    await opsdeckVersion();
    expect(statSync(file!).ino).not.toBe(before);
    expect(statSync(file!).mode & 0o777).toBe(0o600);
  });

  it('is off with OPSDECK_CODE_CACHE=0', async () => {
    await opsdeckVersion({ OPSDECK_CODE_CACHE: '0' });
    expect(readdirSync(cacheHome)).toEqual([]);
  });

  it('costs nothing but speed when the cache dir cannot be written', async () => {
    const notADir = path.join(cacheHome, 'file');
    writeFileSync(notADir, '');
    await opsdeckVersion({ XDG_CACHE_HOME: notADir });
  });
});
