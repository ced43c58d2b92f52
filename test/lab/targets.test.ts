// Protection and read-only follow the target, however it is named (by environment, by unit, by
// PID, through --host), against the real lab. Nothing here changes the lab: every action is
// refused, or asked without confirmation.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { collectStatus } from '../../src/core/status/collect.js';
import { describeLab, labContext, opsdeck, sharedLabConfig } from '../support/lab.js';

let dir = '';
let readonlyConfig = '';
let holder = 0;
const audit = () => path.join(dir, 'audit.jsonl');
const env = () => ({ OPSDECK_AUDIT_LOG: audit() });

describeLab('protection and read-only follow the target', () => {
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'opsdeck-targets-'));
    // The shared lab's config, with production (and only production) read-only.
    readonlyConfig = path.join(dir, 'opsdeck.yaml');
    writeFileSync(readonlyConfig, readFileSync(sharedLabConfig(), 'utf8').replace('    protected: true\n', '    protected: true\n    readonly: true\n'));
    const { config, hosts } = labContext();
    holder = (await collectStatus(config, hosts, ['production'])).environments[0]!.listeners[0]!.pid!;
    expect(holder).toBeGreaterThan(1);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses to kill a read-only environment\'s PID named only through --host', async () => {
    const { code, stderr } = await opsdeck(['kill', String(holder), '--host', 'lab', '--yes', '--config', readonlyConfig], { env: env() });
    expect(code).toBe(2);
    expect(stderr).toMatch(new RegExp(`read-only mode: kill PID ${holder} is not allowed \\(it touches production\\)`));
  });

  it('refuses a daemon-reload on the host of a read-only environment, however the host is reached', async () => {
    for (const args of [['unit', 'daemon-reload', 'development'], ['unit', 'daemon-reload', 'mcp-coordination-dev.service', '--host', 'lab']]) {
      const { code, stderr } = await opsdeck([...args, '--yes', '--config', readonlyConfig], { env: env() });
      expect(code).toBe(2);
      expect(stderr).toMatch(/read-only mode: daemon-reload on lab is not allowed \(it touches production, development\)/);
    }
  });

  it('refuses to kill, as part of an environment, a PID that has nothing to do with it', async () => {
    const { code, stderr } = await opsdeck(['kill', String(holder), '--env', 'development', '--yes', '--config', sharedLabConfig()], { env: env() });
    expect(code).toBe(2);
    expect(stderr).toMatch(new RegExp(`PID ${holder} \\(.*server\\.mjs\\) is not part of environment development: it runs in no unit, not in mcp-coordination-dev\\.service, and holds port \\d+, not \\d+`));
    expect(stderr).toMatch(/--force/);
    // Forced, it is judged by what it is: production's port holder, so production's protection applies.
    const forced = await opsdeck(['kill', String(holder), '--env', 'development', '--force', '--config', sharedLabConfig()], { env: env() });
    expect(forced.stderr).toMatch(/refusing to kill PID \d+ on host lab without confirmation/);
  });

  it('says there is no such process rather than sending a signal into the void', async () => {
    const { code, stderr } = await opsdeck(['kill', '4194304', '--env', 'production', '--yes', '--config', sharedLabConfig()], { env: env() });
    expect(code).toBe(2);
    expect(stderr).toMatch(/there is no process 4194304 on host lab/);
  });

  it('refuses huge or malformed PIDs and grace periods, as typed', async () => {
    for (const [args, message] of [
      [['kill', '99999999999999999999'], /invalid PID "99999999999999999999".*\n.*a whole number from 2 to 4194304/],
      [['kill', '1e3'], /invalid PID "1e3"/],
      [['kill', '1234', '--grace', '0x10'], /invalid --grace "0x10".*\n.*from 0 to 600 \(seconds\)/],
    ] as const) {
      const { code, stderr } = await opsdeck([...args, '--config', sharedLabConfig()], { env: env() });
      expect(code).toBe(2);
      expect(stderr).toMatch(message);
      expect(stderr).not.toMatch(/e\+\d/);
    }
  });

  it('calls a mistyped environment an error with a suggestion, never a unit on the local host', async () => {
    const { code, stderr } = await opsdeck(['unit', 'restart', 'prodution', '--yes', '--config', sharedLabConfig()], { env: env() });
    expect(code).toBe(2);
    expect(stderr).toMatch(/"prodution" is neither an environment in .* nor a unit$/m);
    expect(stderr).toMatch(/did you mean production\?/);
    const logs = await opsdeck(['logs', 'developmnt', '--config', sharedLabConfig()], { env: env() });
    expect(logs.code).toBe(2);
    expect(logs.stderr).toMatch(/did you mean development\?/);
  });

  it('asks the host before acting on a unit no environment has: one that does not exist is an error', async () => {
    const { code, stderr } = await opsdeck(['unit', 'restart', 'no-such-thing.service', '--host', 'lab', '--yes', '--config', sharedLabConfig()], { env: env() });
    expect(code).toBe(2);
    expect(stderr).toMatch(/"no-such-thing\.service" is neither an environment in .* nor a unit on host lab/);
  });

  it('still acts on a real unit that belongs to no environment', async () => {
    const { code, stderr } = await opsdeck(['unit', 'reset-failed', 'opsdeck-lab-sshd.service', '--host', 'lab', '--yes', '--config', sharedLabConfig()], { env: env() });
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
