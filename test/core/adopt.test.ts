// The pure parts of adopting a hand-started process: the plan (steps, checks, rollback order),
// its stored form checked, the environment kept exact for systemd and never shown, and the
// command that starts the process again.
import { describe, expect, it } from 'vitest';
import { adoptOperation, READOPT_WAIT_MS } from '../../src/core/ops/plans.js';
import { environmentFile, launchFromData, launchRecord, readoptUnit, redactEnvironment, relaunchArgv, type Launch } from '../../src/core/ops/relaunch.js';
import { planRollback } from '../../src/core/ops/rollback.js';
import { checkStoredPlan } from '../../src/core/ops/stored-plan.js';
import { canUndo, ROLLBACK_KINDS } from '../../src/core/ops/steps/index.js';

const launch: Launch = {
  argv: ['/usr/bin/node', 'server.mjs', '--name=$HOME', ''],
  exe: '/usr/bin/node',
  cwd: '/srv/production',
  uid: 1000,
  gid: 1001,
  environ: ['PORT=3444', 'API_TOKEN=s3cr3t-value', "QUOTED=it's \"x\" $y `z` \\", 'MULTI=a\nb', 'bad-name=1', 'NOEQUALS'],
};
const where = {
  host: 'lab',
  environment: 'production',
  environments: ['production'],
  protected: true,
  phrase: 'production',
  process: { pid: 4242, command: '/usr/bin/node server.mjs', cwd: '/srv/production', unit: null, ports: [3444], startTime: '123456' },
};
const plan = () => adoptOperation(where, { unit: 'mcp-coordination', port: 3444, probe: { url: 'http://127.0.0.1:3444/health', timeoutMs: 3000 }, launch });

describe('the adoption plan', () => {
  it('stops the unit, stops the PID (re-startable), starts the unit, gates; rolls back by itself', () => {
    const op = plan();
    expect(op.kind).toBe('adopt');
    expect(op.onFailure).toBe('rollback');
    expect(op.preflight).toEqual([
      { kind: 'unit-exists', host: 'lab', unit: 'mcp-coordination.service' },
      { kind: 'pid-is', host: 'lab', pid: 4242, startTime: '123456', command: '/usr/bin/node server.mjs' },
    ]);
    expect(op.steps.map((s) => (s.kind === 'systemctl' ? `${s.kind} ${s.verb}` : s.kind))).toEqual(['systemctl stop', 'stop-pid', 'systemctl start', 'health-gate']);
    expect(op.steps[1]).toMatchObject({ kind: 'stop-pid', pid: 4242, startTime: '123456', restart: { unit: readoptUnit(op.id), port: 3444, waitMs: READOPT_WAIT_MS } });
    expect(op.steps[3]).toMatchObject({ kind: 'health-gate', unit: 'mcp-coordination.service', probe: { url: 'http://127.0.0.1:3444/health' } });
  });

  it('shows the command line, cwd, user and the environment\'s names, never its values', () => {
    const details = plan().details.join('\n');
    expect(details).toContain("command: /usr/bin/node server.mjs '--name=$HOME' ''");
    expect(details).toContain('cwd: /srv/production');
    expect(details).toContain('user: uid 1000, gid 1001');
    expect(details).toContain('API_TOKEN=… ');
    expect(details).not.toContain('s3cr3t');
    expect(redactEnvironment(launch.environ)).toBe('PORT=… API_TOKEN=… QUOTED=… MULTI=… bad-name=… NOEQUALS=…');
  });

  it('undoes in order: the unit stopped, the process started again, the unit as it was', () => {
    const op = plan();
    const all = new Set([0, 1, 2, 3]);
    expect(planRollback(op.steps, { done: all, cutOff: new Set(), failed: new Set(), ...ROLLBACK_KINDS })).toEqual([
      { how: 'undo', index: 2 },
      { how: 'undo', index: 1 },
      { how: 'undo', index: 0 },
    ]);
    // Cut off while stopping it: undone from what its start recorded (the undo asks whether it still runs).
    expect(planRollback(op.steps, { done: new Set([0]), cutOff: new Set([1]), failed: new Set(), ...ROLLBACK_KINDS })).toEqual([
      { how: 'undo', index: 1 },
      { how: 'undo', index: 0 },
    ]);
    expect(canUndo(op.steps[1]!)).toBe(true);
    // A plain stop (opsdeck kill) is still not undoable.
    const { restart: _, ...plain } = op.steps[1] as Extract<(typeof op.steps)[number], { kind: 'stop-pid' }>;
    expect(canUndo(plain)).toBe(false);
    expect(planRollback([plain], { done: new Set(), cutOff: new Set(), failed: new Set([0]), ...ROLLBACK_KINDS })).toEqual([]);
  });
});

describe('the stored adoption plan', () => {
  const stored = () => JSON.parse(JSON.stringify(plan()));

  it('is read back as it was written', () => {
    const op = plan();
    expect(checkStoredPlan(JSON.parse(JSON.stringify(op)))).toEqual({ plan: op });
  });

  it('refuses a restart that is not opsdeck\'s own transient unit, a port out of range, an unbounded wait', () => {
    const bad = (mutate: (restart: Record<string, unknown>) => void) => {
      const raw = stored();
      mutate(raw.steps[1].restart);
      return checkStoredPlan(raw);
    };
    expect(bad((r) => (r.unit = 'sshd.service'))).toEqual({ error: 'steps[1].restart.unit is not a unit named opsdeck-readopt-….service' });
    expect(bad((r) => (r.unit = '--now'))).toMatchObject({ error: expect.stringContaining('restart.unit') });
    expect(bad((r) => (r.port = 70000))).toEqual({ error: 'steps[1].restart.port is not a port' });
    expect(bad((r) => (r.waitMs = 86_400_000))).toMatchObject({ error: expect.stringContaining('restart.waitMs') });
    const raw = stored();
    raw.steps[1].restart = 'yes';
    expect(checkStoredPlan(raw)).toEqual({ error: 'steps[1].restart is not an object' });
  });
});

describe('the environment, kept exact for systemd', () => {
  it('quotes each value so systemd reads it back byte for byte, and names what it must leave out', () => {
    const { content, skipped } = environmentFile(launch.environ);
    expect(content).toBe(["PORT='3444'", "API_TOKEN='s3cr3t-value'", 'QUOTED="it\'s \\"x\\" \\$y \\`z\\` \\\\"', "MULTI='a\nb'", ''].join('\n'));
    expect(skipped).toEqual(['bad-name', 'NOEQUALS']);
  });

  it('journals everything but the values', () => {
    const record = launchRecord(launch, '/var/lib/opsdeck/ops/x/backup/1');
    expect(JSON.stringify(record)).not.toContain('s3cr3t');
    expect(record.environmentKeys).toEqual(['PORT', 'API_TOKEN', 'QUOTED', 'MULTI', 'bad-name', 'NOEQUALS']);
    expect(launchFromData(record as unknown as Record<string, unknown>)).toMatchObject({ argv: launch.argv, cwd: launch.cwd, uid: 1000, gid: 1001 });
    expect(launchFromData({ ...record, cwd: 'relative' })).toBeNull();
    expect(launchFromData({ ...record, argv: [] })).toBeNull();
    expect(launchFromData({ ...record, uid: -1 })).toBeNull();
  });
});

describe('starting it again', () => {
  it('runs it in a transient unit with its directory, user, environment file and argv ($ kept literal)', () => {
    expect(relaunchArgv(launch, 'opsdeck-readopt-x.service', '/var/lib/opsdeck/ops/x/backup/1')).toEqual([
      'systemd-run',
      '--unit=opsdeck-readopt-x.service',
      '--collect',
      '--quiet',
      "--description=/usr/bin/node server.mjs --name=$HOME (started again by opsdeck)",
      '--property=WorkingDirectory=/srv/production',
      '--property=EnvironmentFile=/var/lib/opsdeck/ops/x/backup/1',
      '--uid=1000',
      '--gid=1001',
      '--',
      '/usr/bin/node',
      'server.mjs',
      '--name=$$HOME',
      '',
    ]);
  });

  it('runs the executable it was when argv[0] is not a path', () => {
    const argv = relaunchArgv({ ...launch, argv: ['node', 'server.mjs'] }, 'u.service', null);
    expect(argv.slice(argv.indexOf('--'))).toEqual(['--', '/usr/bin/node', 'server.mjs']);
    expect(argv.some((a) => a.startsWith('--property=EnvironmentFile'))).toBe(false);
    const deleted = relaunchArgv({ ...launch, argv: ['node'], exe: '/usr/bin/node (deleted)' }, 'u.service', null);
    expect(deleted.at(-1)).toBe('node');
  });
});
