import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isCrashLooping, normalizeUnitName, parseShowBlocks, toUnitStatus, unitActionArgv, killPidArgv, killUnitArgv } from '../../src/core/systemd.js';
import { UsageError } from '../../src/core/errors.js';

const recorded = readFileSync(new URL('../fixtures/systemctl-show.txt', import.meta.url), 'utf8');

describe('unit names', () => {
  it('adds .service like systemctl and keeps other types', () => {
    expect(normalizeUnitName('nginx')).toBe('nginx.service');
    expect(normalizeUnitName('mcp-backup.timer')).toBe('mcp-backup.timer');
    expect(normalizeUnitName('getty@tty1.service')).toBe('getty@tty1.service');
  });

  it.each(['x;rm -rf /', '--now', '-x.service', '', 'a b.service', '$(reboot).service', 'x\n.service', '../etc/passwd'])('refuses %j with a usage error', (name) => {
    expect(() => normalizeUnitName(name)).toThrow(UsageError);
  });

  it('puts the unit after -- so it can never be an option', () => {
    expect(unitActionArgv('restart', 'app')).toEqual(['systemctl', 'restart', '--no-ask-password', '--', 'app.service']);
    expect(killPidArgv(1234)).toEqual(['kill', '-s', 'TERM', '--', '1234']);
    expect(killUnitArgv('app', 'HUP')).toEqual(['systemctl', 'kill', '--no-ask-password', '--signal=SIGHUP', '--', 'app.service']);
    expect(() => killUnitArgv('app', 'TERM; reboot')).toThrow(UsageError);
    expect(() => killPidArgv(1)).toThrow(UsageError);
  });
});

describe('systemctl show parsing (recorded from the lab)', () => {
  const blocks = parseShowBlocks(recorded);

  it('gives one block per requested unit, including a missing one', () => {
    expect(blocks.map((b) => b.Id)).toEqual(['mcp-coordination.service', 'mcp-coordination-dev.service', 'mcp-backup.timer', 'nope.service']);
  });

  it('reads the crash loop of the production unit', () => {
    const prod = toUnitStatus(blocks[0]!);
    expect(prod).toMatchObject({ name: 'mcp-coordination.service', activeState: 'activating', subState: 'auto-restart', result: 'exit-code', mainPid: null, execMainStatus: 3, crashLooping: true, protectSystem: 'strict' });
    expect(prod.nRestarts).toBeGreaterThan(0);
    expect(prod.readWritePaths).toEqual(['/var/lib/opsdeck-lab/srv/production-data']);
    expect(prod.memoryBytes).toBeNull();
  });

  it('reads a healthy unit with its PID, memory and start time', () => {
    const dev = toUnitStatus(blocks[1]!);
    expect(dev).toMatchObject({ activeState: 'active', subState: 'running', crashLooping: false, nRestarts: 0 });
    expect(dev.mainPid).toBeGreaterThan(1);
    expect(dev.memoryBytes).toBeGreaterThan(0);
    expect(dev.activeSince).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('marks a unit that does not exist', () => {
    expect(toUnitStatus(blocks[3]!).loadState).toBe('not-found');
  });
});

describe('crash loop detection', () => {
  it('is a crash loop while waiting to restart, or after hitting the start limit', () => {
    expect(isCrashLooping('activating', 'auto-restart', 'exit-code', 3)).toBe(true);
    expect(isCrashLooping('failed', 'failed', 'start-limit-hit', 5)).toBe(true);
    expect(isCrashLooping('active', 'running', 'success', 2)).toBe(false);
    expect(isCrashLooping('inactive', 'dead', 'success', 0)).toBe(false);
  });

  it('still calls it a crash loop in the moment a restarted simple service runs between crashes', () => {
    expect(isCrashLooping('active', 'running', 'success', 57, 0.4)).toBe(true);
    expect(isCrashLooping('active', 'running', 'success', 1, 3600)).toBe(false);
  });
});
