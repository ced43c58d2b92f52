import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { closest, decideTarget } from '../../src/core/ops/target.js';

const config = parseConfig(
  [
    'hosts: { web: { address: web.example.org }, lab: { transport: lab, lab: /var/lib/lab } }',
    'environments:',
    '  production: { host: web, unit: app, relatedUnits: [backup.timer], ports: [3444], protected: true }',
    '  staging: { host: web, unit: app-staging, ports: [3445], readonly: true }',
    '  development: { host: lab, unit: app-dev, ports: [3446] }',
  ].join('\n'),
  'x.yaml',
);
const own = (name: string) => config.environments[name]!.host;

describe('what a target touches', () => {
  it('a unit named by itself carries its environment\'s protection', () => {
    expect(decideTarget(config, own, { kind: 'unit', host: 'web', unit: 'app.service' })).toEqual({ host: 'web', environments: ['production'], environment: 'production', protected: true, phrase: 'production' });
    expect(decideTarget(config, own, { kind: 'unit', host: 'web', unit: 'backup.timer' }).protected).toBe(true);
  });

  it('a PID belongs to the environments whose units hold it or whose ports it listens on', () => {
    expect(decideTarget(config, own, { kind: 'pid', host: 'web', pid: 77, unit: null, ports: [3444] }).environments).toEqual(['production']);
    expect(decideTarget(config, own, { kind: 'pid', host: 'web', pid: 78, unit: 'app-staging.service', ports: [] }).environments).toEqual(['staging']);
    expect(decideTarget(config, own, { kind: 'pid', host: 'web', pid: 79, unit: null, ports: [22] })).toMatchObject({ environments: [], environment: null, protected: false });
  });

  it('a host-wide action touches every environment of the host', () => {
    expect(decideTarget(config, own, { kind: 'host', host: 'web' })).toMatchObject({ environments: ['production', 'staging'], protected: true, phrase: 'production' });
    expect(decideTarget(config, own, { kind: 'host', host: 'lab' })).toMatchObject({ environments: ['development'], protected: false, phrase: null });
  });

  it('--host moves every environment to that host: the lab\'s PID is production\'s there', () => {
    const viaLab = () => 'lab';
    expect(decideTarget(config, viaLab, { kind: 'pid', host: 'lab', pid: 5, unit: null, ports: [3444] })).toMatchObject({ environments: ['production'], protected: true });
    expect(decideTarget(config, viaLab, { kind: 'host', host: 'lab' }).environments).toEqual(['production', 'staging', 'development']);
  });

  it('asks for the host\'s name when several protected environments are touched', () => {
    const two = parseConfig('environments: { a: { protected: true }, b: { protected: true } }\n', 'x.yaml');
    expect(decideTarget(two, () => 'local', { kind: 'host', host: 'local' }).phrase).toBe('local');
  });

  it('suggests the closest name for a typo, and nothing for a stranger', () => {
    expect(closest('prodution', ['production', 'development'])).toBe('production');
    expect(closest('Developmnt', ['production', 'development'])).toBe('development');
    expect(closest('nginx', ['production', 'development'])).toBeNull();
  });
});
