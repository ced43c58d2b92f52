// The audit log on a full disk (a one-page tmpfs in a private mount namespace): a step whose
// intent cannot be recorded does not run; a result that cannot be recorded is reported
// clearly, with the intent already on record. Never a stack trace.
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { collectStatus } from '../../src/core/status/collect.js';
import { describeLab, labContext, opsdeck, opsdeckBin, sharedLabConfig } from '../support/lab.js';

/** Run opsdeck with its audit log on a 4 KiB tmpfs already holding `prefill` bytes; returns its output and the records it added. */
async function withAuditOnFullDisk(prefill: number, args: string[]) {
  const dir = mkdtempSync('/var/tmp/opsdeck-audit-enospc-');
  try {
    // The tmpfs is mounted on a subdirectory; the outputs stay outside it, on the real disk.
    const mnt = path.join(dir, 'mnt');
    mkdirSync(mnt);
    const file = path.join(mnt, 'audit.jsonl');
    const script = [
      'set -e',
      'mount -t tmpfs -o size=4k,mode=700 tmpfs "$1"',
      'head -c "$2" /dev/zero | tr "\\0" "#" > "$1/audit.jsonl"',
      'chmod 600 "$1/audit.jsonl"',
      'shift 2',
      'set +e',
      '"$@" > "$OUT" 2> "$ERR"; echo "exit=$?" >> "$OUT"',
      'tail -c +"$((PREFILL + 1))" "$AUDIT" > "$RECORDS"',
    ].join('\n');
    const out = path.join(dir, 'out'), err = path.join(dir, 'err'), records = path.join(dir, 'records');
    await execa('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', mnt, String(prefill), process.execPath, opsdeckBin, ...args], {
      env: { NO_COLOR: '1', OPSDECK_AUDIT_LOG: file, OUT: out, ERR: err, RECORDS: records, PREFILL: String(prefill), AUDIT: file },
      stdin: 'ignore',
      timeout: 30_000,
    });
    const stdout = readFileSync(out, 'utf8');
    return {
      code: Number(/exit=(\d+)/.exec(stdout)?.[1] ?? -1),
      stdout,
      stderr: readFileSync(err, 'utf8'),
      records: readFileSync(records, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describeLab('the audit log on a full disk', () => {
  it('does not run a step whose intent cannot be recorded', async () => {
    const { config, hosts } = labContext();
    const before = (await collectStatus(config, hosts, ['development'])).environments[0]!.unit!;
    const { code, stdout, stderr, records } = await withAuditOnFullDisk(4096, ['unit', 'restart', 'development', '--yes', '--config', sharedLabConfig()]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/✗ restart mcp-coordination-dev\.service: interrupted: step 1 was not run: the audit log could not take its intent .* — NOT RECORDED in the audit log: cannot write the audit log .*: no space left on the device/);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(records).toEqual([]);
    const after = (await collectStatus(config, hosts, ['development'])).environments[0]!.unit!;
    expect(after.mainPid).toBe(before.mainPid);
  });

  it('says clearly when the result of a step that ran cannot be recorded, with its intent on record', async () => {
    // Measure one intent and one result record, then leave room for the intent only.
    const probeDir = mkdtempSync('/var/tmp/opsdeck-audit-probe-');
    const probe = path.join(probeDir, 'audit.jsonl');
    try {
      expect((await opsdeck(['unit', 'start', 'development', '--yes', '--config', sharedLabConfig()], { env: { OPSDECK_AUDIT_LOG: probe } })).code).toBe(0);
      const [intent, result] = readFileSync(probe, 'utf8').split('\n').map((l) => Buffer.byteLength(l) + 1);
      const { code, stdout, stderr, records } = await withAuditOnFullDisk(4096 - intent! - Math.floor(result! / 2), ['unit', 'start', 'development', '--yes', '--config', sharedLabConfig()]);
      expect(code).toBe(1);
      expect(stdout).toMatch(/start mcp-coordination-dev\.service: done in \d+ ms — NOT RECORDED in the audit log: .*no space left on the device/);
      expect(stderr).toMatch(/the audit log is missing this operation's record/);
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(records).toMatchObject([{ outcome: 'started', action: 'start mcp-coordination-dev.service' }]);
    } finally {
      rmSync(probeDir, { recursive: true, force: true });
    }
  });
});
