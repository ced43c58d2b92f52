// The audit log as a hostile or unlucky file system presents it: links, devices, FIFOs, files
// of another user. opsdeck often runs as root: it must never write through a link or change
// the mode of anything but its own regular file.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog, type AuditRecord } from '../../src/core/ops/audit.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'opsdeck-audit-test-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const record: AuditRecord = {
  time: '2026-11-29T12:00:00.000Z', user: 'root', host: 'lab', environment: 'development', action: 'restart x.service', target: 'x.service',
  argv: ['systemctl', 'restart', '--', 'x.service'], wrappedArgv: [], exitCode: 0, durationMs: 5, outcome: 'ok', confirmedBy: '--yes',
};
const isRoot = process.getuid?.() === 0;

describe('audit log', () => {
  it('creates its file with mode 0600 and appends one JSON line per record', () => {
    const file = path.join(dir, 'sub', 'audit.jsonl');
    const log = new AuditLog(file);
    log.append(record);
    log.append({ ...record, outcome: 'failed' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l).outcome)).toEqual(['ok', 'failed']);
  });

  it('tightens its own looser file to 0600', () => {
    const file = path.join(dir, 'audit.jsonl');
    writeFileSync(file, '');
    chmodSync(file, 0o644);
    new AuditLog(file).append(record);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('refuses a symbolic link, leaving its target and the target\'s mode alone', () => {
    const target = path.join(dir, 'elsewhere');
    writeFileSync(target, 'precious\n');
    chmodSync(target, 0o644);
    const link = path.join(dir, 'audit.jsonl');
    symlinkSync(target, link);
    const log = new AuditLog(link);
    expect(() => log.ensureWritable()).toThrow(/cannot write the audit log .*: it is a symbolic link/);
    expect(() => log.append(record)).toThrow(/symbolic link/);
    expect(readFileSync(target, 'utf8')).toBe('precious\n');
    expect(statSync(target).mode & 0o777).toBe(0o644);
  });

  it.runIf(isRoot)('refuses a device node (through a link or named directly) and never changes its mode', () => {
    const device = path.join(dir, 'null-device');
    execFileSync('mknod', ['-m', '666', device, 'c', '1', '3']);
    symlinkSync(device, path.join(dir, 'via-link'));
    expect(() => new AuditLog(path.join(dir, 'via-link')).ensureWritable()).toThrow(/symbolic link/);
    expect(() => new AuditLog(device).ensureWritable()).toThrow(/it is a character device, not a regular file/);
    expect(statSync(device).mode & 0o777).toBe(0o666);
  });

  it('refuses a FIFO at once instead of blocking on it', () => {
    const fifo = path.join(dir, 'audit.jsonl');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    // No reader: a blocking open would hang forever (and ignore SIGTERM).
    expect(() => new AuditLog(fifo).append(record)).toThrow(/FIFO/);
  });

  it.runIf(isRoot)('refuses a file that belongs to another user', () => {
    const file = path.join(dir, 'audit.jsonl');
    writeFileSync(file, '');
    chmodSync(file, 0o666);
    chownSync(file, 65534, 65534);
    expect(() => new AuditLog(file).append(record)).toThrow(/belongs to uid 65534/);
    expect(statSync(file).mode & 0o777).toBe(0o666);
  });
});
