import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isCrashLooping, normalizeUnitName, parseShowBlocks, showWords, toUnitStatus, unitActionArgv, killPidArgv, killUnitArgv } from '../../src/core/systemd/units.js';
import { UsageError } from '../../src/core/text/errors.js';

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

/** What systemd's shell_maybe_quote (flags 0) makes of a list item, for the round trip below. */
function systemdQuote(s: string): string {
  if (s !== '' && !/[\x00-\x1f\x7f \t\n"'\\$`]/.test(s)) return s;
  const named: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' };
  let out = '"';
  for (const ch of s) {
    if (named[ch]) out += named[ch];
    else if (ch.charCodeAt(0) < 0x20 || ch === '\x7f') out += `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
    else if ('"\\$`'.includes(ch)) out += `\\${ch}`;
    else out += ch;
  }
  return out + '"';
}

describe('systemctl show: hostile values', () => {
  it('reads list items as systemd quotes them: a space or a newline stays inside its item', () => {
    // Recorded from the lab: ReadWritePaths="/srv/my dir" -/x<TAB>y /plain
    expect(showWords('"/srv/my dir" -/xty /plain')).toEqual(['/srv/my dir', '-/xty', '/plain']);
    expect(showWords('"/a\\nActiveState=active" "/q\\"x\\\\" "\\x01"')).toEqual(['/a\nActiveState=active', '/q"x\\', '\x01']);
  });

  it('gives back every list item exactly, whatever it holds', () => {
    const item = fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }).filter((s) => !s.includes('\0'));
    fc.assert(
      fc.property(fc.array(item, { maxLength: 5 }), (items) => {
        expect(showWords(items.map(systemdQuote).join(' '))).toEqual(items);
      }),
    );
  });

  it('no description or path makes a block, a unit or a property that was not there', () => {
    // systemd never prints a newline inside a value: a string holding one is "[unprintable]".
    const line = fc.string({ unit: 'binary', maxLength: 40 }).map((s) => s.replace(/[\n\0]/g, ''));
    fc.assert(
      fc.property(fc.array(fc.tuple(line, fc.array(line, { maxLength: 3 })), { minLength: 1, maxLength: 4 }), (units) => {
        const text = units.map(([description, paths], i) => `Id=u${i}.service\nDescription=${description}\nActiveState=failed\nReadWritePaths=${paths.filter(Boolean).map(systemdQuote).join(' ')}\n`).join('\n');
        const parsed = parseShowBlocks(text);
        expect(parsed.map((b) => b.Id)).toEqual(units.map((_, i) => `u${i}.service`));
        for (const block of parsed) {
          const status = toUnitStatus(block);
          expect(status.activeState).toBe('failed');
          expect(status.description).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202a-\u202e]/);
        }
      }),
    );
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
