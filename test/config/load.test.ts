import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/text/errors.js';

function errorOf(text: string): ConfigError {
  try {
    parseConfig(text, 'opsdeck.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('config loading', () => {
  it('accepts a full config and fills defaults', () => {
    const config = parseConfig(
      ['hosts:', '  web1:', '    address: web1.example.org', 'environments:', '  production:', '    host: web1', '    unit: app', '    ports: [3444]', '    protected: true'].join('\n'),
      'x.yaml',
    );
    expect(config.refreshSeconds).toBe(2);
    expect(config.hosts.web1!.transport).toBe('ssh');
    expect(config.environments.production).toMatchObject({ host: 'web1', unit: 'app.service', ports: [3444], protected: true, relatedUnits: [] });
  });

  it('points at the line and column of malformed YAML', () => {
    const error = errorOf('environments:\n  production:\n    unit: app\n   ports: [1\n');
    expect(error.message).toMatch(/^opsdeck\.yaml:4:\d+: invalid YAML/);
  });

  it('names an unknown key where it is written', () => {
    const error = errorOf('environments:\n  production:\n    unit: app\n    prots: [3444]\n');
    expect(error.message).toBe('opsdeck.yaml:4:5: environments.production: unknown key "prots"');
  });

  it('says what type was expected', () => {
    const error = errorOf('environments:\n  production:\n    ports: "3444"\n');
    expect(error.message).toMatch(/^opsdeck\.yaml:3:12: environments\.production\.ports: expected array/);
  });

  it('refuses a unit name that could do harm, naming its line', () => {
    const error = errorOf('environments:\n  production:\n    unit: "x;rm -rf /"\n');
    expect(error.message).toBe('opsdeck.yaml:3:11: "x;rm -rf /" is not a valid systemd unit name');
  });

  it('refuses an environment on an undefined host', () => {
    const error = errorOf('environments:\n  production:\n    host: nowhere\n');
    expect(error.message).toMatch(/opsdeck\.yaml:3:11: environment production names host "nowhere", which is not defined/);
    expect(error.hint).toMatch(/known: local/);
  });

  it('refuses a YAML alias bomb with file:line:col, not a stack trace', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    lines.push('environments: { x: { description: *i } }');
    const error = errorOf(lines.join('\n') + '\n');
    expect(error.message).toMatch(/^opsdeck\.yaml:2:\d+: .*too many YAML aliases/);
  });

  it.each([
    ['ports: [70000]', /environments\.production\.ports\.0: expected a whole number from 1 to 65535, got 70000$/],
    ['ports: [1e400]', /ports\.0: expected a number, got 1e400$/],
    ['ports: [3444.5]', /expected a whole number, got 3444\.5$/],
    ['health: { url: "http://x/", timeoutMs: 5 }', /timeoutMs: expected a whole number from 100 to 60000, got 5$/],
  ])('says the range of an out-of-range number, and the value as typed (%s)', (line, message) => {
    expect(errorOf(`environments:\n  production:\n    ${line}\n`).message).toMatch(message);
  });

  it('says the range of refreshSeconds', () => {
    expect(errorOf('refreshSeconds: 0.1\n').message).toBe('opsdeck.yaml:1:17: refreshSeconds: expected a number from 0.5 to 3600, got 0.1');
  });

  it('refuses a key binding that would leave a command without a key, or is not a key', () => {
    expect(errorOf('keys: { quit: "" }\n').message).toMatch(/^opsdeck\.yaml:1:15: keys\.quit: an empty binding would leave the command without a key/);
    expect(errorOf('keys: { restart: "ctrl+tt" }\n').message).toMatch(/keys\.restart: "ctrl\+tt" is not a key name/);
    expect(errorOf('keys: { refresh: "ctrl+c" }\n').message).toMatch(/ctrl\+c is reserved/);
    expect(parseConfig('keys: { restart: "ctrl+t", down: "j, down" }\n', 'x.yaml').keys).toEqual({ restart: 'ctrl+t', down: 'j, down' });
  });

  it.each([
    ['description: "\\e]0;pwned\\a"', 'U+001B'],
    ['description: "safe\\u202Eexe.txt"', 'U+202E'],
    ['health: { url: "http://x/\\x9b31m" }', 'U+009B'],
    ['workingDir: "/srv/\\x07"', 'U+0007'],
  ])('refuses a control or escape character in a config string where it is written (%s)', (line, code) => {
    const error = errorOf(`environments:\n  production:\n    ${line}\n`);
    expect(error.message).toMatch(new RegExp(`^opsdeck\\.yaml:3:\\d+: .* holds the control character ${code.replace('+', '\\+')}`));
    expect(error.message).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]/);
  });

  it('refuses a control character in a key too', () => {
    expect(errorOf('environments:\n  "\\e[2J": {}\n').message).toMatch(/^opsdeck\.yaml:2:3: .*U\+001B/);
  });

  it('checks health.expect.version when it loads, as the linear-time engine takes it', () => {
    expect(errorOf('environments:\n  dev:\n    health:\n      url: http://x/\n      expect: { version: "^(2\\\\." }\n').message).toMatch(/^opsdeck\.yaml:5:\d+: invalid regular expression: missing closing \)/);
    expect(errorOf('environments:\n  dev:\n    health:\n      url: http://x/\n      expect: { version: "(a)\\\\1" }\n').hint).toMatch(/no backreferences/);
    expect(parseConfig('environments:\n  dev:\n    health: { url: "http://x/", expect: { version: "^2\\\\." } }\n', 'x.yaml').environments.dev!.health!.expect!.version).toBe('^2\\.');
  });

  it('works with no config at all: local host, no environments', () => {
    const cwd = process.cwd();
    const home = process.env.HOME;
    const dir = mkdtempSync(path.join(tmpdir(), 'opsdeck-noconf-'));
    process.chdir(dir);
    process.env.HOME = dir;
    process.env.XDG_CONFIG_HOME = dir;
    try {
      const loaded = loadConfig();
      expect(loaded.file === null || loaded.file === '/etc/opsdeck/opsdeck.yaml').toBe(true);
      if (loaded.file === null) expect(loaded.config.environments).toEqual({});
    } finally {
      process.chdir(cwd);
      process.env.HOME = home;
      delete process.env.XDG_CONFIG_HOME;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a --config file that does not exist', () => {
    expect(() => loadConfig('/nonexistent/opsdeck.yaml')).toThrow(/does not exist/);
  });

  it('reads $OPSDECK_CONFIG', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'opsdeck-env-'));
    const file = path.join(dir, 'c.yaml');
    writeFileSync(file, 'refreshSeconds: 5\n');
    process.env.OPSDECK_CONFIG = file;
    try {
      expect(loadConfig()).toMatchObject({ file, config: { refreshSeconds: 5 } });
    } finally {
      delete process.env.OPSDECK_CONFIG;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
