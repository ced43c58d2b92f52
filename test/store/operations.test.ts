// The operations slice without a host: a runner that plays a script of events stands in for
// the real one (which the lab tests run against a real systemd), so what the view shows for
// each event, Ctrl+C's question and its answers are checked in milliseconds.
import { describe, expect, it, vi } from 'vitest';
import { unitOverrideOperation } from '../../src/core/ops/plans.js';
import type { Operation } from '../../src/core/ops/operation.js';
import { OperationRunner, type OperationEvent, type OperationResult, type RunOptions } from '../../src/core/ops/runner.js';
import { makeStore } from '../support/console.js';

const where = { host: 'lab', environment: 'production', environments: ['production'], protected: true, phrase: 'production' };
const op = unitOverrideOperation(where, { unit: 'mcp-coordination.service', settings: [{ section: 'Service', key: 'ReadWritePaths', value: '/srv/live' }], dropInDir: '/etc/systemd/system' });

/** A runner whose run() emits what the test says, when it says. */
class ScriptedRunner extends OperationRunner {
  emit: (event: OperationEvent) => void = () => undefined;
  signal: AbortSignal | undefined;
  private finish!: (result: OperationResult) => void;
  rolledBack = false;
  constructor() {
    super({ hostFor: () => { throw new Error('no host in this test'); }, audit: null as never, readonly: () => false, protection: (o) => ({ protected: o.environments.includes('production'), phrase: o.environments.includes('production') ? 'production' : null, unknown: [] }), storedScope: (plan) => plan.environments });
  }
  override async run(_op: Operation, _c: unknown, options: RunOptions = {}): Promise<OperationResult> {
    this.emit = options.onEvent ?? (() => undefined);
    this.signal = options.signal;
    return new Promise((resolve) => (this.finish = resolve));
  }
  end(status: OperationResult['status'], extra: Partial<OperationResult> = {}): void {
    this.finish({ id: op.id, status, ok: status === 'finished', summary: `${op.title}: ${status}`, failedStep: null, error: null, stderr: '', journal: [], auditError: null, durationMs: 10, ...extra });
  }
  override async stored() {
    return { plan: op, events: [], damaged: 0 };
  }
  override async rollback(): Promise<OperationResult> {
    this.rolledBack = true;
    return { id: op.id, status: 'rolled-back', ok: true, summary: 'rolled back', failedStep: null, error: null, stderr: '', journal: [], auditError: null, durationMs: 5 };
  }
  override async ownerAlive() {
    return false;
  }
}

function start() {
  const runner = new ScriptedRunner();
  const { store } = makeStore({ runner });
  const done = store.getState().actions.startOperation(op, 'run', { kind: 'typed-name', text: 'production' });
  return { runner, store, done };
}

describe('the operation view', () => {
  it('shows each step as it starts, runs, ends, with the gate\'s samples and the step\'s output', async () => {
    const { runner, store, done } = start();
    const view = () => store.getState().operation!;
    expect(store.getState().overlay).toEqual({ kind: 'operation' });
    expect(view().steps.map((s) => s.state)).toEqual(['pending', 'pending', 'pending', 'pending']);
    runner.emit({ type: 'step-started', index: 0, step: op.steps[0]!, resumed: false });
    runner.emit({ type: 'step-finished', index: 0, ok: true, durationMs: 12, exitCode: 0 });
    runner.emit({ type: 'step-started', index: 3, step: op.steps[3]!, resumed: false });
    runner.emit({ type: 'gate-sample', index: 3, sample: { at: 1, ok: false, failures: ['HTTP 503, expected 200'], httpStatus: 503, version: null, nRestarts: 0, activeState: 'active/running', restarted: false } });
    expect(view().steps.map((s) => s.state)).toEqual(['done', 'pending', 'pending', 'running']);
    expect(view().current).toBe(3);
    expect(view().gate?.sample.failures).toEqual(['HTTP 503, expected 200']);
    runner.emit({ type: 'progress', index: 3, done: 512, total: 2048, unit: 'bytes', rate: 256, etaSeconds: 6 });
    expect(view().progress).toEqual({ done: 512, total: 2048, unit: 'bytes', rate: 256, etaSeconds: 6 });
    // Output is batched (and sanitized): not one store update per line, but soon.
    runner.emit({ type: 'output', index: 3, line: 'probe \x1b]0;title\x07one' });
    runner.emit({ type: 'output', index: 3, line: 'probe two' });
    expect(view().output).toEqual([]);
    await vi.waitFor(() => expect(view().output).toEqual(['probe one', 'probe two']));
    runner.emit({ type: 'step-finished', index: 3, ok: false, durationMs: 900, exitCode: null, error: 'not healthy', stderr: '', journal: ['FATAL: cannot listen'] });
    expect(view().failure).toMatchObject({ step: 3, error: 'not healthy', journal: ['FATAL: cannot listen'] });
    runner.end('rolled-back');
    await done;
    expect(view().result?.status).toBe('rolled-back');
  });

  it('asks on Ctrl+C while it runs; keep waiting changes nothing, stop here aborts it', async () => {
    const { runner, store, done } = start();
    store.getState().actions.interrupt();
    expect(store.getState().operation!.asking).toBe(true);
    store.getState().actions.answerInterrupt('wait');
    expect(store.getState().operation!.asking).toBe(false);
    expect(runner.signal!.aborted).toBe(false);
    // Nothing quits meanwhile: Ctrl+C twice asks and un-asks, it never arms quitting.
    store.getState().actions.interrupt();
    store.getState().actions.interrupt();
    expect(store.getState().quitRequested).toBe(false);
    store.getState().actions.interrupt();
    store.getState().actions.answerInterrupt('stop');
    expect(runner.signal!.aborted).toBe(true);
    runner.end('interrupted');
    await done;
    expect(store.getState().operation!.result?.status).toBe('interrupted');
    expect(runner.rolledBack).toBe(false);
    // Ended: Ctrl+C no longer asks anything.
    store.getState().actions.closeOperation();
    expect(store.getState().overlay).toBeNull();
  });

  it('rolls back when the answer is "roll back"', async () => {
    const { runner, store, done } = start();
    store.getState().actions.interrupt();
    store.getState().actions.answerInterrupt('rollback');
    expect(runner.signal!.aborted).toBe(true);
    runner.end('interrupted');
    await done;
    expect(runner.rolledBack).toBe(true);
    expect(store.getState().operation!.result?.status).toBe('rolled-back');
    expect(store.getState().operation!.mode).toBe('rollback');
  });

  it('cannot be closed while it runs', () => {
    const { store } = start();
    store.getState().actions.closeOperation();
    expect(store.getState().overlay).toEqual({ kind: 'operation' });
  });
});
