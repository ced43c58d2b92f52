// The pure parts of operations: locks as the host lists them, stored plans and journals read
// back (checked, sanitized, torn lines), where an operation stands, the order of a rollback,
// what a systemctl undo needs, protection from the config.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { currentOwner, operationOwnerAlive, parseLockOwner, parseLocks, STALE_AFTER_MS, thisMachine } from '../../src/core/ops/lock.js';
import type { Operation, Step } from '../../src/core/ops/operation.js';
import { protectionPolicy, storedScopePolicy } from '../../src/core/ops/policy.js';
import { storedActionLines } from '../../src/core/ops/preview.js';
import { describeProgress, ProgressMeter } from '../../src/core/ops/progress.js';
import { planRollback } from '../../src/core/ops/rollback.js';
import { parseStoredOperations, progressOf, stepData, type JournalEvent, type UnusablePlan } from '../../src/core/ops/state.js';
import { endMayWait, ROLLBACK_KINDS } from '../../src/core/ops/steps/index.js';
import { undoNeeded } from '../../src/core/ops/steps/systemd.js';
import { testOperation } from '../support/operation.js';

const ID = '20261129-161502-production-3fa9';
const at = '2026-11-29T16:15:02.000Z';

function op(steps: Step[], extra: Partial<Operation> = {}): Operation {
  return testOperation({ id: ID, kind: 'unit.override', title: 'override x', environment: 'production', target: 'x.service', risk: 'high', protected: true, phrase: 'production', createdAt: at, steps, onFailure: 'rollback', ...extra });
}

const h = { host: 'lab', title: 't' };
const write: Step = { kind: 'write-file', path: '/etc/systemd/system/x.service.d/o.conf', content: 'x', mode: 0o644, ...h };
const write2: Step = { kind: 'write-file', path: '/etc/app.conf', content: 'y', mode: 0o644, ...h };
const reload: Step = { kind: 'daemon-reload', ...h };
const restart: Step = { kind: 'systemctl', verb: 'restart', unit: 'x.service', ...h };
const gate: Step = { kind: 'health-gate', unit: 'x.service', settleMs: 1000, timeoutMs: 5000, intervalMs: 500, ...h };
const stopA: Step = { kind: 'systemctl', verb: 'stop', unit: 'a.service', ...h };
const kill: Step = { kind: 'systemctl', verb: 'kill', unit: 'a.service', ...h };

const storedText = (plan: unknown, events: Array<Record<string, unknown> | string>) =>
  `/var/lib/opsdeck/ops/${ID}/plan.json:${JSON.stringify(plan)}\0/var/lib/opsdeck/ops/${ID}/journal.jsonl:${events.map((e) => '\n' + (typeof e === 'string' ? e : JSON.stringify(e))).join('')}\0`;

describe('locks as the host lists them', () => {
  const owner = { ...currentOwner('root'), op: ID, title: 'restart x', since: at, nonce: 'n1' };
  const line = (touched: number, target: string, name = 'production') => `${touched}\t${name}.lock\t${target}\0`;

  it('reads owner and target, fresh while touched, stale when untouched past the limit by the host clock', () => {
    const now = 1_800_000_000_000;
    const [fresh] = parseLocks(line((now - 1000) / 1000, JSON.stringify(owner)), now);
    expect(fresh).toMatchObject({ name: 'production', stale: false, target: JSON.stringify(owner) });
    expect(fresh!.owner).toMatchObject({ op: ID, pid: process.pid, nonce: 'n1' });
    const [old] = parseLocks(line((now - STALE_AFTER_MS - 1000) / 1000, JSON.stringify(owner)), now);
    expect(old!.stale).toBe(true);
    expect(old!.staleReason).toMatch(/not touched it for/);
  });

  it('is stale when its owner on this machine is gone, or its PID now belongs to another process', () => {
    const now = Date.now();
    const gone = { ...owner, pid: 2 ** 22 + 7 };
    expect(parseLocks(line(now / 1000, JSON.stringify(gone)), now)[0]!.staleReason).toMatch(/is gone/);
    const reused = { ...owner, pid: process.ppid, pidStart: '1' };
    expect(parseLocks(line(now / 1000, JSON.stringify(reused)), now)[0]!.stale).toBe(true);
    const elsewhere = { ...owner, pid: 2 ** 22 + 7, machine: 'another:boot' };
    expect(parseLocks(line(now / 1000, JSON.stringify(elsewhere)), now)[0]!.stale).toBe(false);
  });

  it('makes owner texts safe and refuses owners that are not ours', () => {
    const hostile = parseLockOwner(JSON.stringify({ ...owner, user: 'ev\x1b[2Jil', title: 'x\u009b31m'.repeat(200) }));
    expect(hostile!.user).not.toMatch(/\x1b/);
    expect(hostile!.title.length).toBeLessThanOrEqual(200);
    expect(parseLockOwner('{"pid":"1","op":"x"}')).toBeNull();
    expect(parseLockOwner('{"pid":-4,"op":"x"}')).toBeNull();
    expect(parseLockOwner('not json')).toBeNull();
    expect(parseLocks(line(Date.now() / 1000, 'garbage'), Date.now())[0]).toMatchObject({ owner: null, stale: false });
    expect(parseLocks('junk\0../x.lock\tno\0', Date.now())).toEqual([]);
  });

  it('an operation is alive when one of its locks is held for it and fresh', () => {
    const now = Date.now();
    const locks = parseLocks(line(now / 1000, JSON.stringify({ ...owner, machine: 'another:boot' })), now);
    expect(operationOwnerAlive({ id: ID, environments: ['production'] }, locks)).toBe(true);
    expect(operationOwnerAlive({ id: `${ID.slice(0, -4)}ffff`, environments: ['production'] }, locks)).toBe(false);
    expect(operationOwnerAlive({ id: ID, environments: ['development'] }, locks)).toBe(false);
    expect(thisMachine()).toContain(':');
  });
});

describe('stored operations read back', () => {
  it('reads plan and events; a torn line is counted damaged and never glued to the next record', () => {
    const events = [{ event: 'started', at, by: currentOwner('root') }, { event: 'step-started', at, step: 0, data: { existed: true } }, '{"event":"step-fini', { event: 'step-finished', at, step: 0, ok: true }];
    const [stored] = parseStoredOperations(storedText(op([write, reload]), events));
    expect(stored!.events.map((e) => e.event)).toEqual(['started', 'step-started', 'step-finished']);
    expect(stored!.damaged).toBe(1);
  });

  it('refuses a plan that is not one (missing fields, unknown kinds, relative paths) and says where', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ ...op([write]), steps: [{ ...write, path: 'etc/x' }] }, /steps\[0\]\.path is not an absolute path/],
      [{ ...op([write]), steps: [{ ...h, kind: 'shell', cmd: 'rm -rf /' }] }, /steps\[0\]\.kind is not a known step kind/],
      [{ ...op([restart]), steps: [{ ...restart, verb: 'mask' }] }, /verb is not a systemctl verb/],
      [{ ...op([]), onFailure: 'pray' }, /onFailure/],
      [{ ...op([{ kind: 'command', argv: [], ...h }]) }, /argv/],
      ['[]', /not an object/],
    ];
    for (const [plan, error] of cases) {
      const unusable: UnusablePlan[] = [];
      expect(parseStoredOperations(storedText(plan, []), unusable)).toEqual([]);
      expect(unusable[0]!.error).toMatch(error);
    }
  });

  it('sanitizes the texts an operator reads, keeps what a step executes byte for byte', () => {
    const plan = op([{ kind: 'command', argv: ['printf', '\x1b[2J'], ...h, title: 'clear\x1b[2J' }], { title: 'evil\x1b]0;owned\x07', details: ['\x1b[31mred'] });
    const [stored] = parseStoredOperations(storedText(plan, [{ event: 'failed', at, step: null, error: 'bad\x1b[2J' }]));
    expect(stored!.plan.title).not.toMatch(/\x1b|\x07/);
    expect(stored!.plan.details[0]).not.toMatch(/\x1b/);
    expect(stored!.plan.steps[0]!.title).not.toMatch(/\x1b/);
    expect((stored!.plan.steps[0] as Extract<Step, { kind: 'command' }>).argv[1]).toBe('\x1b[2J');
    expect(JSON.stringify(stored!.events)).not.toMatch(/\\u001b/);
  });

  it('refuses names and times that are not names and times (they are printed as they are)', () => {
    for (const plan of [{ ...op([write]), environment: 'prod\x1b]52;c;aGk=\x07' }, { ...op([write]), createdAt: 'yesterday\x1b[2J' }, { ...op([{ ...write, host: 'lab\x1b[2J' }]) }]) {
      const unusable: UnusablePlan[] = [];
      expect(parseStoredOperations(storedText(plan, []), unusable)).toEqual([]);
      expect(unusable).toHaveLength(1);
    }
    const [stored] = parseStoredOperations(storedText(op([write]), [{ event: 'started', at: '\x1b[2J', by: {} }]));
    expect(stored!.events).toEqual([]);
  });

  it('keeps what a step found before its first try, with what its end added', () => {
    const [stored] = parseStoredOperations(
      storedText(op([stopA]), [
        { event: 'step-started', at, step: 0, data: { activeState: 'active' } },
        { event: 'step-finished', at, step: 0, ok: false, error: 'timeout' },
        { event: 'step-started', at, step: 0, data: { activeState: 'inactive' } },
        { event: 'step-finished', at, step: 0, ok: true, data: { note: 'x' } },
      ]),
    );
    expect(stepData(stored!).get(0)).toEqual({ activeState: 'active', note: 'x' });
  });

  it('drops events that name a step the plan does not have', () => {
    const [stored] = parseStoredOperations(storedText(op([write]), [{ event: 'step-finished', at, step: 5, ok: true }, { event: 'step-started', at, step: -1 }, { event: 'nope', at }]));
    expect(stored!.events).toEqual([]);
    expect(stored!.damaged).toBe(3);
  });
});

describe('where an operation stands', () => {
  const ev = (e: Partial<JournalEvent> & { event: string }) => ({ at, ...e }) as JournalEvent;
  const stored = (events: JournalEvent[]) => ({ plan: op([write, reload, restart, gate]), events, damaged: 0 });
  const started = ev({ event: 'started', by: currentOwner('root') } as never);

  it('running while its owner lives, interrupted when it is gone, with the step that was cut off', () => {
    const events = [started, ev({ event: 'step-started', step: 0 }), ev({ event: 'step-finished', step: 0, ok: true }), ev({ event: 'step-started', step: 1 })];
    expect(progressOf(stored(events), true)).toMatchObject({ status: 'running', done: [0], unfinished: 1 });
    expect(progressOf(stored(events), false)).toMatchObject({ status: 'interrupted', done: [0], unfinished: 1, cutOff: [1], failed: [] });
    const retried = [...events, ev({ event: 'step-finished', step: 1, ok: false }), ev({ event: 'failed', step: 1, error: 'x' })];
    expect(progressOf(stored(retried), false)).toMatchObject({ status: 'failed', cutOff: [], failed: [1] });
  });

  it('a rollback cut off is rollback-interrupted (rolled back further, never resumed), rolling-back while it goes on', () => {
    const events = [started, ev({ event: 'step-started', step: 0 }), ev({ event: 'step-finished', step: 0, ok: true }), ev({ event: 'failed', step: 1, error: 'x' }), ev({ event: 'rollback-started', by: currentOwner('root') } as never), ev({ event: 'undo-started', step: 0 })];
    expect(progressOf(stored(events), false).status).toBe('rollback-interrupted');
    expect(progressOf(stored(events), true).status).toBe('rolling-back');
    // Stopped in the middle of its rollback (a lock taken from it): still a rollback to finish, not a run to resume.
    expect(progressOf(stored([...events, ev({ event: 'interrupted', reason: 'lock taken' })]), false).status).toBe('rollback-interrupted');
    const finished = [...events, ev({ event: 'undone', step: 0, ok: true }), ev({ event: 'rolled-back', ok: true })];
    expect(progressOf(stored(finished), false)).toMatchObject({ status: 'rolled-back', done: [], undone: [0] });
  });
});

describe('the order of a rollback', () => {
  const plan = (steps: Step[], done: number[], cutOff: number[] = [], failed: number[] = [], undone: number[] = []) =>
    planRollback(steps, { done: new Set(done), cutOff: new Set(cutOff), failed: new Set(failed), undone: new Set(undone), ...ROLLBACK_KINDS }).map((a) => `${a.how}:${a.index}`);

  it('puts the file back, then reloads and restarts (lowest first), the gate passed by', () => {
    expect(plan([write, reload, restart, gate], [0, 1, 2], [], [3])).toEqual(['undo:0', 'reapply:1', 'reapply:2']);
  });

  it('a restart that failed or was cut off half-way is run again too; one that never began is not', () => {
    expect(plan([write, reload, restart, gate], [0, 1], [], [2])).toEqual(['undo:0', 'reapply:1', 'reapply:2']);
    expect(plan([write, reload, restart, gate], [0, 1], [2])).toEqual(['undo:0', 'reapply:1', 'reapply:2']);
    expect(plan([write, reload, restart, gate], [0, 1])).toEqual(['undo:0', 'reapply:1']);
  });

  it('re-applies once after several files, and again before a start that must see them', () => {
    expect(plan([write, write2, reload, restart], [0, 1, 2, 3])).toEqual(['undo:1', 'undo:0', 'reapply:2', 'reapply:3']);
    expect(plan([stopA, write, reload, restart], [0, 1, 2, 3])).toEqual(['undo:1', 'reapply:2', 'reapply:3', 'undo:0', 'reapply:2', 'reapply:3']);
  });

  it('a re-applying step with nothing undone before it is left alone', () => {
    expect(plan([restart], [0])).toEqual([]);
    expect(plan([reload, write], [0, 1])).toEqual(['undo:1']);
  });

  it('undoes a file or systemctl step that failed or was cut off from its recorded start; a command cut off cannot be', () => {
    expect(plan([write, reload], [], [0])).toEqual(['undo:0']);
    expect(plan([stopA, write], [], [], [0])).toEqual(['undo:0']);
    const command: Step = { kind: 'command', argv: ['migrate'], undoArgv: ['unmigrate'], ...h };
    expect(plan([write, command], [0], [1])).toEqual(['cannot:1', 'undo:0']);
    // A command that failed (it ended) is taken to have changed nothing.
    expect(plan([write, command], [0], [], [1])).toEqual(['undo:0']);
    expect(plan([kill, write], [0, 1])).toEqual(['undo:1', 'cannot:0']);
  });

  it('a second rollback leaves what the first undid, and re-applies again for what it puts back now', () => {
    // The first rollback undid the drop-in of step 1 and re-ran reload and restart, then failed on step 0.
    expect(plan([write2, write, reload, restart], [0], [], [], [1, 2, 3])).toEqual(['undo:0', 'reapply:2', 'reapply:3']);
  });
});

describe('when a step\'s end may wait for the next record', () => {
  it('waits when running it twice is harmless, or when nothing runs on a host before the next record', () => {
    const command: Step = { kind: 'command', argv: ['migrate'], ...h };
    expect(endMayWait(write, restart)).toBe(true);
    expect(endMayWait(command, command)).toBe(true); // a command asks nothing before it runs
    expect(endMayWait(command, undefined)).toBe(true); // the end record comes right after
    expect(endMayWait(command, restart)).toBe(false); // a restart reads the unit first
    expect(endMayWait(kill, write)).toBe(false);
    expect(endMayWait({ ...command, detach: true }, command)).toBe(false); // its unit is removed once its end is on disk
  });
});

describe('a long step\'s progress', () => {
  it('gives the rate over the last seconds and the time left, a few reports a second, the last always', () => {
    const meter = new ProgressMeter();
    expect(meter.report(0, 1000, 'bytes', 0)).toMatchObject({ done: 0, rate: null, etaSeconds: null });
    expect(meter.report(50, 1000, 'bytes', 100)).toBeNull(); // too soon after the last one
    expect(meter.report(100, 1000, 'bytes', 1000)).toMatchObject({ rate: 100, etaSeconds: 9 });
    // A stall shows at once: the rate is over the last 5 s, not since the start.
    meter.report(600, 1000, 'bytes', 2000);
    expect(meter.report(600, 1000, 'bytes', 9000)!.rate).toBe(0);
    expect(meter.report(1000, 1000, 'bytes', 9001)).toMatchObject({ done: 1000, etaSeconds: 0 });
  });

  it('reads as an operator says it', () => {
    expect(describeProgress({ done: 1536, total: 4096, unit: 'bytes', rate: 512, etaSeconds: 5 })).toBe('1.5K / 4.0K · 512B/s · 5s left');
    expect(describeProgress({ done: 3, total: null, unit: 'files', rate: null, etaSeconds: null })).toBe('3 files');
  });
});

describe('undoing a systemctl step', () => {
  it('does nothing when the unit was already as the step left it', () => {
    const start: Extract<Step, { kind: 'systemctl' }> = { kind: 'systemctl', verb: 'start', unit: 'a', ...h };
    expect(undoNeeded(start, { activeState: 'active' })).toBe(false);
    expect(undoNeeded(start, { activeState: 'failed' })).toBe(true);
    expect(undoNeeded({ ...start, verb: 'stop' }, { activeState: 'inactive' })).toBe(false);
    expect(undoNeeded({ ...start, verb: 'stop' }, { activeState: 'active' })).toBe(true);
    expect(undoNeeded({ ...start, verb: 'enable' }, { unitFileState: 'enabled' })).toBe(false);
    expect(undoNeeded({ ...start, verb: 'disable' }, { unitFileState: 'enabled' })).toBe(true);
    expect(undoNeeded({ ...start, verb: 'disable' }, {})).toBe(true);
  });
});

describe('protection of an operation', () => {
  const config = parseConfig(
    'environments:\n  production:\n    host: local\n    unit: a.service\n    protected: true\n  development:\n    host: local\n    unit: b.service\n',
    'test.yaml',
  );
  const protection = protectionPolicy(config);

  it('comes from the config, not from what a stored plan says', () => {
    expect(protection({ host: 'local', environments: ['production'] })).toEqual({ protected: true, phrase: 'production', unknown: [] });
    expect(protection({ host: 'local', environments: ['development'] })).toEqual({ protected: false, phrase: null, unknown: [] });
    expect(protection({ host: 'local', environments: ['staging'] }).unknown).toEqual(['staging']);
  });

  it('a plan read back is held to every environment on the hosts it acts on', () => {
    const scope = storedScopePolicy(config, (env) => config.environments[env]!.host);
    expect(scope(op([restart], { environments: [], host: 'local' }))).toEqual(['production', 'development']);
    expect(scope(op([{ ...restart, host: 'elsewhere' }], { environments: ['development'], host: 'elsewhere' }))).toEqual(['development']);
  });

  it('a rollback preview lists the real order, re-applies included', () => {
    const stored = { plan: op([write, reload, restart, gate]), events: [0, 1, 2].flatMap((step) => [{ event: 'step-started', at, step }, { event: 'step-finished', at, step, ok: true }]) as JournalEvent[], damaged: 0 };
    const lines = storedActionLines(stored, progressOf(stored, false), 'rollback').map((l) => l.text);
    expect(lines.slice(3)).toEqual([expect.stringMatching(/^1\. t +→ put .* back/), expect.stringMatching(/^2\. t +→ run again/), expect.stringMatching(/^3\. t +→ run again/)]);
  });
});
