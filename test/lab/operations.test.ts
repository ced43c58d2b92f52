// Operations against a real systemd (a lab of this file's own): the incident fixed and put back
// exactly, and the faults an operation must survive, each ending consistent: a failing step
// (rolled back by itself, the unit's own words shown), two operations at once, `kill -9` in
// the middle (listed interrupted, a stale lock, resumed; or rolled back), and the SSH
// connection lost in the middle of a step (it finishes on the host; resume picks up after it).
import { execa, type ResultPromise } from 'execa';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { transientUnit } from '../../src/core/ops/steps/command.js';
import { collectStatus } from '../../src/core/status/collect.js';
import { describeLab, labContext, opsdeck, privateLab, repoRoot } from '../support/lab.js';
import { testOperation } from '../support/operation.js';
import { cmdline } from '../support/proc.js';
import { until } from '../support/until.js';
import { PORT_OFFSETS } from '../support/lab-constants.js';

let lab: Awaited<ReturnType<typeof privateLab>> | undefined;
let work = '';
const UNIT = 'mcp-coordination.service';
const env = () => ({ OPSDECK_AUDIT_LOG: path.join(work, 'audit.jsonl') });
const labDir = () => lab!.state.dir;
const unitFile = () => path.join(labDir(), 'units', UNIT);
const dropIn = () => path.join(labDir(), 'units', `${UNIT}.d`, 'opsdeck-override.conf');
const stateDir = () => path.join(labDir(), 'state');
const cli = (args: string[], timeout = 90_000) => opsdeck([...args, '--config', lab!.config], { env: env(), timeout });
const liveData = () => path.join(labDir(), 'srv', 'production', 'data');

function journalOf(id: string): Array<Record<string, unknown>> {
  const file = path.join(stateDir(), 'ops', id, 'journal.jsonl');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
}

/** The operation an opsdeck process is running, from the lock it took (a link naming its owner). */
function runningOp(): string | null {
  try {
    return (JSON.parse(readlinkSync(path.join(stateDir(), 'locks', 'production.lock'))) as { op: string }).op;
  } catch {
    return null;
  }
}

const opDirs = () => (existsSync(path.join(stateDir(), 'ops')) ? readdirSync(path.join(stateDir(), 'ops')).sort() : []);

async function production() {
  const { config, hosts } = labContext(lab!.config);
  return (await collectStatus(config, hosts, ['production'])).environments[0]!;
}

/** An override run in the background with a long health gate, to be cut off in the middle. */
function slowOverride(): ResultPromise {
  return execa(process.execPath, [path.join(repoRoot, 'bin', 'opsdeck.js'), 'unit', 'override', 'production', '--set', `ReadWritePaths=${liveData()}`, '--settle', '20', '--gate-timeout', '60', '--yes', '--config', lab!.config], { reject: false, env: { NO_COLOR: '1', ...env() }, detached: true });
}

async function cutOffInGate(child: ResultPromise): Promise<string> {
  let id: string | null = null;
  await until('the gate step to start', () => {
    id = runningOp();
    return id !== null && journalOf(id).some((e) => e.event === 'step-started' && e.step === 3);
  }, { timeoutMs: 60_000, everyMs: 100 });
  process.kill(child.pid!, 'SIGKILL');
  await child;
  return id!;
}

describeLab('operations', () => {
  beforeAll(async () => {
    work = mkdtempSync('/var/tmp/opsdeck-ops-test-');
    lab = await privateLab('ops', PORT_OFFSETS.ops);
  }, 120_000);
  afterAll(async () => {
    await lab?.down();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('fixes the incident (stop the hand-started V1, override ReadWritePaths) and puts it back exactly', async () => {
    const before = readFileSync(unitFile());
    const holder = (await production()).listeners[0]!.pid!;
    expect((await cli(['kill', String(holder), '--env', 'production', '--yes'])).code).toBe(0);

    // The dry run: the drop-in's diff and every command; nothing written on the host.
    const opsBefore = opDirs();
    const dry = await cli(['unit', 'override', 'production', '--set', `ReadWritePaths=${liveData()}`, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`\\+ReadWritePaths=\\n[\\s\\S]*\\+ReadWritePaths=${liveData().replace(/[/.]/g, '\\$&')}`));
    expect(dry.stdout).toMatch(/\$ systemctl daemon-reload --no-ask-password/);
    expect(dry.stdout).toMatch(new RegExp(`\\$ systemctl restart --no-ask-password -- ${UNIT}`));
    expect(dry.stdout).toMatch(/undo: put .* back as it was/);
    expect(dry.stdout).toMatch(/dry run: nothing was done/);
    expect(opDirs()).toEqual(opsBefore);
    expect(existsSync(path.join(stateDir(), 'locks', 'production.lock'))).toBe(false);
    expect(existsSync(dropIn())).toBe(false);

    const applied = await cli(['unit', 'override', 'production', '--set', `ReadWritePaths=${liveData()}`, '--yes']);
    expect(applied.stdout).toMatch(/✓ override mcp-coordination\.service: ReadWritePaths=.*: done/);
    expect(applied.code).toBe(0);
    const fixed = await production();
    expect(fixed.unit).toMatchObject({ activeState: 'active', subState: 'running' });
    expect(fixed.health).toMatchObject({ ok: true });
    expect(fixed.listeners[0]).toMatchObject({ unit: UNIT });

    const id = (JSON.parse((await cli(['ops', 'production', '--json'])).stdout) as Array<{ id: string; title: string }>).find((o) => o.title.startsWith('override'))!.id;
    const back = await cli(['ops', 'rollback', id, '--yes']);
    expect(back.code).toBe(0);
    expect(back.stdout).toMatch(/rolled back/);
    expect(existsSync(dropIn())).toBe(false);
    expect(existsSync(path.dirname(dropIn()))).toBe(false);
    expect(readFileSync(unitFile()).equals(before)).toBe(true);
    expect(JSON.parse((await cli(['ops', 'show', id, '--json'])).stdout)).toMatchObject({ status: 'rolled-back' });
    // Each step is in the audit log with the operation's id, intent before result.
    const audit = readFileSync(path.join(work, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.operation === id);
    expect(audit.map((r) => `${r.step}:${r.outcome}`).slice(0, 8)).toEqual(['1:started', '1:ok', '2:started', '2:ok', '3:started', '3:ok', '4:started', '4:ok']);
    // The rollback: the drop-in put back first, then daemon-reload and restart run again (the unit restarted with the old file).
    expect(audit.filter((r) => r.outcome === 'undone').map((r) => r.step)).toEqual([1, 2, 3]);
    expect(audit.filter((r) => r.outcome === 'undo-started').map((r) => r.step)).toEqual([1, 2, 3]);
    expect((await production()).unit!.invocationId).not.toBe(fixed.unit!.invocationId);
  }, 120_000);

  it('rolls back by itself when a step fails, showing the unit\'s own journal lines', async () => {
    const before = readFileSync(unitFile());
    const r = await cli(['unit', 'override', 'production', '--set', 'ReadWritePaths=/no/such/dir', '--yes']);
    expect(r.code).toBe(1);
    // The restart itself, or the health gate right after it (a Type=simple unit "starts" before it fails).
    expect(r.stdout).toMatch(/✗ (3\/4 systemctl restart|4\/4 health gate)/);
    expect(r.stdout).toMatch(/the unit's journal, last lines:/);
    expect(r.stdout).toMatch(/no\/such\/dir|NAMESPACE|mount namespacing/i);
    expect(r.stdout).toMatch(/↶ undone 1\/4 write the drop-in/);
    expect(r.stdout).toMatch(/rolled back/);
    expect(existsSync(dropIn())).toBe(false);
    expect(readFileSync(unitFile()).equals(before)).toBe(true);
  }, 120_000);

  it('refuses a second operation on the environment, naming the first; kill -9 leaves it interrupted with a stale lock; resume finishes it', async () => {
    const child = slowOverride();
    await until('the first operation to hold the lock', () => runningOp() !== null, { timeoutMs: 60_000, everyMs: 100 });
    const first = runningOp()!;
    const second = await cli(['unit', 'restart', 'production', '--yes']);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`production is locked by root from .* for operation ${first} "override mcp-coordination\\.service`));

    const id = await cutOffInGate(child);
    expect(id).toBe(first);
    const listed = await cli(['ops', 'production']);
    expect(listed.code).toBe(1);
    expect(listed.stdout).toMatch(new RegExp(`${id}\\s+✗ INTERRUPTED`));
    const lock = await cli(['lock', 'production']);
    expect(lock.stdout).toMatch(/the lock is STALE: its owner, PID \d+ on .*, is gone/);
    expect((await cli(['unit', 'restart', 'production', '--yes'])).stderr).toMatch(/opsdeck lock production --break/);

    const resumed = await cli(['ops', 'resume', id, '--yes', '--json'], 120_000);
    const events = resumed.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    // Steps 1-3 were done: only the gate, cut off mid-way, runs again.
    expect(events.filter((e) => e.type === 'step-started').map((e) => [e.index, e.resumed])).toEqual([[3, true]]);
    expect(events.at(-1)).toMatchObject({ result: { status: 'finished', ok: true } });
    expect(resumed.code).toBe(0);
    expect(existsSync(path.join(stateDir(), 'locks', 'production.lock'))).toBe(false);
  }, 180_000);

  it('rolls back an operation cut off by kill -9, once its stale lock is broken', async () => {
    // Undo the one resumed above first, so the unit file is as the lab wrote it.
    const done = (JSON.parse((await cli(['ops', 'production', '--json'])).stdout) as Array<{ id: string; status: string }>).find((o) => o.status === 'finished' && o.id.includes('production'))!;
    expect((await cli(['ops', 'rollback', done.id, '--yes'])).code).toBe(0);
    const pristine = readFileSync(unitFile());
    const id = await cutOffInGate(slowOverride());
    expect(existsSync(dropIn())).toBe(true);
    const broken = await cli(['lock', 'production', '--break', '--yes']);
    expect(broken.code).toBe(0);
    expect(broken.stdout).toMatch(new RegExp(`broke the lock of production; its operation ${id} is interrupted`));
    const back = await cli(['ops', 'rollback', id, '--yes']);
    expect(back.code).toBe(0);
    expect(existsSync(dropIn())).toBe(false);
    expect(readFileSync(unitFile()).equals(pristine)).toBe(true);
  }, 180_000);

  it('stops at once when its lock is taken from under it, and leaves the new holder\'s lock alone', async () => {
    const child = slowOverride();
    const id = await (async () => {
      let found: string | null = null;
      await until('the gate step to start', () => {
        found = runningOp();
        return found !== null && journalOf(found).some((e) => e.event === 'step-started' && e.step === 3);
      }, { timeoutMs: 60_000, everyMs: 100 });
      return found!;
    })();
    // Someone breaks the lock and another opsdeck takes it (a foreign owner, on another machine).
    const lockFile = path.join(stateDir(), 'locks', 'production.lock');
    const intruder = JSON.stringify({ user: 'other', from: 'elsewhere', pid: 4242, pidStart: '1', machine: 'another:boot', op: 'someone-else', title: 'not ours', since: new Date().toISOString(), nonce: 'x' });
    rmSync(lockFile);
    symlinkSync(intruder, lockFile);
    const stopped = await child;
    expect(stopped.exitCode).toBe(1);
    expect(stopped.stdout).toMatch(/interrupted: the lock of production on host lab was taken: production is locked by other from elsewhere/);
    expect(readlinkSync(lockFile)).toBe(intruder);
    expect(JSON.parse((await cli(['ops', 'show', id, '--json'])).stdout)).toMatchObject({ status: 'interrupted' });
    rmSync(lockFile);
    expect((await cli(['ops', 'rollback', id, '--yes'])).code).toBe(0);
    expect(existsSync(dropIn())).toBe(false);
  }, 180_000);

  it('a step over ssh finishes on the host when the connection (and opsdeck) die mid-way; resume picks up after it', async () => {
    const { config } = loadConfig(lab!.config);
    if (!config.hosts['lab-ssh']) throw new Error('the lab has no ssh host: install openssh-server');
    const marker = path.join(labDir(), 'srv', 'ssh-drop-marker');
    const op = testOperation({
      kind: 'test.detached',
      title: 'a slow step over ssh',
      host: 'lab-ssh',
      target: 'the marker',
      steps: [
        { kind: 'command', host: 'lab-ssh', title: 'append to the marker, slowly', detach: true, argv: ['/bin/sh', '-c', `sleep 3; echo ran >> ${marker}`] },
        { kind: 'command', host: 'lab-ssh', title: 'then this', argv: ['true'] },
      ],
    });
    const opFile = path.join(work, 'op.json');
    writeFileSync(opFile, JSON.stringify(op));
    const child = execa(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test', 'support', 'run-operation.ts'), lab!.config, opFile], { reject: false, env: env(), cwd: repoRoot });
    // Running on the host: its transient unit is active (the journal's step-started comes before it).
    const { hosts: labHosts } = labContext(lab!.config);
    const unit = transientUnit(op.id, 0);
    await until('the detached step to run on the host', async () => (await labHosts.get('lab').run(['systemctl', 'show', '--property=ActiveState', '--value', '--', unit])).stdout.trim() === 'active', { timeoutMs: 30_000, everyMs: 100 });
    await labHosts.closeAll();
    // The operator's side goes away: opsdeck killed, and its ssh connection with it.
    const masters = readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((p) => cmdline(p).includes(`-${child.pid} [mux]`));
    process.kill(child.pid!, 'SIGKILL');
    for (const pid of masters) process.kill(pid, 'SIGKILL');
    await child;
    // The step goes on on the host regardless.
    await until('the step to finish on the host', () => existsSync(marker) && readFileSync(marker, 'utf8').includes('ran'), { timeoutMs: 30_000, everyMs: 100 });
    expect(journalOf(op.id).some((e) => e.event === 'step-finished')).toBe(false);

    const resumed = await cli(['ops', 'resume', op.id, '--yes', '--json']);
    const events = resumed.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(events.at(-1)).toMatchObject({ result: { status: 'finished', ok: true } });
    expect(resumed.code).toBe(0);
    // Reattached, not run again: the marker holds one line.
    expect(readFileSync(marker, 'utf8')).toBe('ran\n');
  }, 120_000);
});
