import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/errors.js';

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
