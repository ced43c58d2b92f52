// The state journal of operations, on the host they act on (/var/lib/opsdeck/ops/ID/): the plan
// (plan.json, written once, atomically), what happened (journal.jsonl: each step's start, end
// and undo, every line fsynced before the runner goes on), and what undo needs (backup/: files
// as they were). Whoever reads it next (`ops resume`, `ops rollback`, the console's header
// after a crash) knows exactly where the operation stood.
import path from 'node:path';
import { sanitizeLine } from '../text/sanitize.js';
import type { Host } from '../host/host.js';
import { appendDurably, makeDirectory, writeFileAtomic } from '../host/files.js';
import { isOperationId, type Operation } from './operation.js';
import { checkStoredPlan, isTime } from './stored-plan.js';

export const STATE_DIR = '/var/lib/opsdeck';
export const OPS_DIR = `${STATE_DIR}/ops`;

export interface Owner {
  user: string;
  /** The machine opsdeck runs on (its host name). */
  from: string;
  pid: number;
  /** The PID's start time (a PID reused by another process is not the owner). */
  pidStart?: string;
  /** machine-id:boot-id of that machine, so a process on the same machine can be checked. */
  machine: string;
}

export type JournalEvent =
  | { event: 'started'; at: string; by: Owner }
  | { event: 'resumed'; at: string; by: Owner }
  | { event: 'rollback-started'; at: string; by: Owner }
  | { event: 'step-started'; at: string; step: number; data?: Record<string, unknown> }
  | { event: 'step-finished'; at: string; step: number; ok: boolean; exitCode?: number | null; error?: string; data?: Record<string, unknown> }
  | { event: 'undo-started'; at: string; step: number }
  | { event: 'undone'; at: string; step: number; ok: boolean; error?: string }
  | { event: 'interrupted'; at: string; reason: string }
  | { event: 'failed'; at: string; step: number | null; error: string }
  | { event: 'finished'; at: string }
  | { event: 'rolled-back'; at: string; ok: boolean; error?: string };

export function operationDir(id: string): string {
  if (!isOperationId(id)) throw new Error(`invalid operation id ${JSON.stringify(id)}`);
  return `${OPS_DIR}/${id}`;
}

export function backupPath(id: string, step: number): string {
  return `${operationDir(id)}/backup/${step}`;
}

/**
 * One operation's journal on its host. Each record is one line, written with one write() (dd
 * bs=1M, fullblock) under O_APPEND and fsynced, and starts with a newline: a line torn by a
 * crash mid-write stays a damaged line of its own and never swallows the next record.
 *
 * A step's successful end may be `deferred`: it goes to disk with the next record (the next
 * step's start), one round trip per step instead of two. Losing it to a crash only means a
 * resume checks that step on the host again, which every kind of step is built to do.
 */
export class StateJournal {
  readonly dir: string;
  private pending: JournalEvent[] = [];
  private fenced: string | null = null;

  constructor(
    readonly host: Host,
    readonly id: string,
  ) {
    this.dir = operationDir(id);
  }

  /** Before the first step: the directory (private), the plan, and the `started` line. */
  async create(op: Operation, by: Owner): Promise<void> {
    // Each one named, so each one made is private (mkdir -m sets only the ones named).
    await makeDirectory(this.host, [OPS_DIR, this.dir, `${this.dir}/backup`], 0o700);
    await writeFileAtomic(this.host, `${this.dir}/plan.json`, JSON.stringify(op, null, 1) + '\n', 0o600);
    await this.append({ event: 'started', at: new Date().toISOString(), by });
  }

  /** One event (after any deferred ones), on disk (fsynced) before this resolves. */
  async append(event: JournalEvent): Promise<void> {
    await this.write([event]);
  }

  /** Write what was deferred, now. */
  async flush(): Promise<void> {
    if (this.pending.length > 0) await this.write([]);
  }

  /**
   * No more writes: the lock was lost, and the journal is another holder's now. Every write
   * after this throws, so a stale holder never writes over what the new one records.
   */
  fence(reason: string): void {
    this.fenced = reason;
  }

  private async write(events: JournalEvent[]): Promise<void> {
    if (this.fenced) throw new Error(`not written to the journal of ${this.id}: ${this.fenced}`);
    const all = [...this.pending, ...events];
    await appendDurably(this.host, `${this.dir}/journal.jsonl`, all.map((e) => '\n' + JSON.stringify(e)).join(''));
    // Only once on disk: a write that failed keeps what was deferred for the next one.
    this.pending = [];
  }

  /** An event that may wait for the next append (see above). */
  defer(event: JournalEvent): void {
    this.pending.push(event);
  }

  /** It ended for good (finished, or rolled back): listing what is open skips it from now on. */
  async markEnded(): Promise<void> {
    await writeFileAtomic(this.host, `${this.dir}/ended`, new Date().toISOString() + '\n', 0o600);
  }
}

export interface StoredOperation {
  plan: Operation;
  events: JournalEvent[];
  /** Lines of the journal that could not be read (a crash in the middle of a write). */
  damaged: number;
}

/** A plan.json that is there but cannot be used, and why (shown by `ops`, never acted on). */
export interface UnusablePlan {
  id: string;
  error: string;
}

const JOURNAL_EVENTS = new Set(['started', 'resumed', 'rollback-started', 'step-started', 'step-finished', 'undo-started', 'undone', 'interrupted', 'failed', 'finished', 'rolled-back']);

/** A journal line, if it is one: known event, its step a step of the plan. */
function checkEvent(raw: unknown, steps: number): JournalEvent | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const e = raw as Record<string, unknown>;
  if (typeof e.event !== 'string' || !JOURNAL_EVENTS.has(e.event) || !isTime(e.at)) return null;
  if ('step' in e && e.step !== null && !(Number.isSafeInteger(e.step) && (e.step as number) >= 0 && (e.step as number) < steps)) return null;
  if (['step-started', 'step-finished', 'undo-started', 'undone'].includes(e.event) && typeof e.step !== 'number') return null;
  if ((e.event === 'step-finished' || e.event === 'undone' || e.event === 'rolled-back') && typeof e.ok !== 'boolean') return null;
  if ('data' in e && e.data !== undefined && (typeof e.data !== 'object' || e.data === null || Array.isArray(e.data))) return null;
  for (const key of ['reason', 'error'] as const) if (key in e && e[key] !== undefined && e[key] !== null) e[key] = sanitizeLine(String(e[key]));
  return e as unknown as JournalEvent;
}

const STORED_FILE = new RegExp(`^${OPS_DIR.replace(/[/.]/g, '\\$&')}/([^/]+)/(plan\\.json|journal\\.jsonl):`);

/** Plans and journals from `grep -r -z` output: "PATH:CONTENT\0" per file (JSON holds no NUL). */
export function parseStoredOperations(stdout: string, unusable: UnusablePlan[] = []): StoredOperation[] {
  const byId = new Map<string, { plan?: unknown; planDamaged: boolean; lines: string[] }>();
  for (const record of stdout.split('\0')) {
    const match = STORED_FILE.exec(record);
    if (!match || !isOperationId(match[1]!)) continue;
    const entry = byId.get(match[1]!) ?? { planDamaged: false, lines: [] };
    byId.set(match[1]!, entry);
    const content = record.slice(match[0].length);
    if (match[2] === 'plan.json') {
      try {
        entry.plan = JSON.parse(content);
      } catch {
        entry.planDamaged = true;
      }
    } else entry.lines.push(...content.split('\n'));
  }
  const out: StoredOperation[] = [];
  for (const [id, entry] of byId) {
    if (entry.plan === undefined) {
      if (entry.planDamaged) unusable.push({ id, error: 'its plan.json cannot be read (damaged)' });
      continue;
    }
    const checked = checkStoredPlan(entry.plan);
    if ('error' in checked || checked.plan.id !== id) {
      unusable.push({ id, error: 'error' in checked ? checked.error : `its plan.json names another operation (${sanitizeLine(checked.plan.id)})` });
      continue;
    }
    const events: JournalEvent[] = [];
    let damaged = 0;
    for (const line of entry.lines) {
      if (!line.trim()) continue;
      let event: JournalEvent | null = null;
      try {
        event = checkEvent(JSON.parse(line), checked.plan.steps.length);
      } catch {
        event = null;
      }
      if (event) events.push(event);
      else damaged++;
    }
    out.push({ plan: checked.plan, events, damaged });
  }
  return out.sort((a, b) => a.plan.id.localeCompare(b.plan.id));
}

/** Every operation journaled on a host (one command), or only one by id. */
export async function readStoredOperations(host: Host, id?: string, unusable?: UnusablePlan[]): Promise<StoredOperation[]> {
  const where = id ? operationDir(id) : OPS_DIR;
  // -s: no such directory yet is an empty answer (exit 2 without output).
  const { stdout } = await host.run(['grep', '-r', '-H', '-a', '-s', '-z', '--include=plan.json', '--include=journal.jsonl', '', '--', where], { okExitCodes: [0, 1, 2], maxOutputBytes: 64 * 1024 * 1024 });
  return parseStoredOperations(stdout, unusable);
}

/**
 * The operations on a host that have not ended for good (running, interrupted, failed): one
 * `find` for the directories and their `ended` marks, then one read of the open ones.
 */
export async function readOpenOperations(host: Host, unusable?: UnusablePlan[]): Promise<StoredOperation[]> {
  const { stdout } = await host.run(
    ['find', OPS_DIR, '-mindepth', '1', '-maxdepth', '2', '(', '-type', 'd', '-path', `${OPS_DIR}/*`, '!', '-path', `${OPS_DIR}/*/*`, '-printf', 'D %f\\0', ')', '-o', '(', '-name', 'ended', '-printf', 'E %h\\0', ')'],
    { okExitCodes: [0, 1] },
  );
  const dirs = new Set<string>();
  const ended = new Set<string>();
  for (const record of stdout.split('\0')) {
    if (record.startsWith('D ')) dirs.add(record.slice(2));
    else if (record.startsWith('E ')) ended.add(path.posix.basename(record.slice(2)));
  }
  const open = [...dirs].filter((id) => !ended.has(id) && isOperationId(id));
  if (open.length === 0) return [];
  const files = open.flatMap((id) => [`${operationDir(id)}/plan.json`, `${operationDir(id)}/journal.jsonl`]);
  const { stdout: content } = await host.run(['grep', '-H', '-a', '-s', '-z', '', '--', ...files], { okExitCodes: [0, 1, 2], maxOutputBytes: 64 * 1024 * 1024 });
  return parseStoredOperations(content, unusable);
}

export type OperationStatus = 'running' | 'interrupted' | 'failed' | 'finished' | 'rolling-back' | 'rollback-interrupted' | 'rolled-back' | 'rollback-failed';

/** Statuses an operation can be resumed from (a rollback cut off is finished by rolling back, never by running forward). */
export const RESUMABLE: readonly OperationStatus[] = ['interrupted', 'failed'];
/** Statuses of an operation that is still going on somewhere. */
export const IN_PROGRESS: readonly OperationStatus[] = ['running', 'rolling-back'];

export interface OperationProgress {
  status: OperationStatus;
  /** Steps that finished well (and are not undone). */
  done: number[];
  /** A step that started and has no end in the journal (cut off mid-way). */
  unfinished: number | null;
  /** Every such step (its outcome unknown). */
  cutOff: number[];
  /** Steps whose last try ended in failure. */
  failed: number[];
  /** Steps undone by a rollback. */
  undone: number[];
  lastEventAt: string | null;
  /** Why it failed or stopped. */
  reason: string | null;
}

/** Where an operation stands, from its journal. `ownerAlive`: whether the process that runs it (holds its lock) is alive. */
export function progressOf(stored: StoredOperation, ownerAlive: boolean): OperationProgress {
  const done = new Set<number>();
  const undone = new Set<number>();
  const started = new Set<number>();
  const failed = new Set<number>();
  let status: OperationStatus | null = null;
  let reason: string | null = null;
  let rollingBack = false;
  for (const e of stored.events) {
    switch (e.event) {
      case 'started':
      case 'resumed':
      case 'rollback-started':
        status = null;
        reason = null;
        rollingBack = e.event === 'rollback-started';
        break;
      case 'step-started':
        started.add(e.step);
        failed.delete(e.step);
        break;
      case 'step-finished':
        started.delete(e.step);
        if (e.ok) done.add(e.step);
        else failed.add(e.step);
        break;
      case 'undone':
        if (e.ok) {
          done.delete(e.step);
          undone.add(e.step);
        }
        break;
      case 'interrupted':
        // A rollback cut off is finished by rolling back, never by running forward.
        status = rollingBack ? 'rollback-interrupted' : 'interrupted';
        reason = e.reason;
        break;
      case 'failed':
        status = 'failed';
        reason = e.error;
        break;
      case 'finished':
        status = 'finished';
        break;
      case 'rolled-back':
        status = e.ok ? 'rolled-back' : 'rollback-failed';
        reason = e.error ?? null;
        rollingBack = false;
        break;
    }
  }
  // No word on how it ended: still running if its owner lives, else cut off (kill -9, a crash, a lost connection).
  if (status === null) {
    status = ownerAlive ? (rollingBack ? 'rolling-back' : 'running') : rollingBack ? 'rollback-interrupted' : 'interrupted';
    if (!ownerAlive) reason = `opsdeck stopped while it ${rollingBack ? 'rolled it back' : 'ran'} (killed, crashed or disconnected)`;
  }
  const sorted = (set: Set<number>) => [...set].sort((a, b) => a - b);
  const cutOff = sorted(started).filter((s) => !done.has(s));
  return { status, done: sorted(done), unfinished: cutOff[0] ?? null, cutOff, failed: sorted(failed), undone: sorted(undone), lastEventAt: stored.events.at(-1)?.at ?? null, reason };
}

/**
 * The steps' data, by step: what was there before (recorded when each first began: a step run
 * again after a failure keeps the state from before its first try), with what its end added.
 */
export function stepData(stored: StoredOperation): Map<number, Record<string, unknown>> {
  const data = new Map<number, Record<string, unknown>>();
  for (const e of stored.events) {
    if (e.event === 'step-started' && e.data) data.set(e.step, { ...e.data, ...data.get(e.step) });
    if (e.event === 'step-finished' && e.data) data.set(e.step, { ...data.get(e.step), ...e.data });
  }
  return data;
}


/** What the rollback planner needs of where an operation stands. */
export function rollbackFacts(progress: OperationProgress): { done: Set<number>; cutOff: Set<number>; failed: Set<number>; undone: Set<number> } {
  return { done: new Set(progress.done), cutOff: new Set(progress.cutOff), failed: new Set(progress.failed), undone: new Set(progress.undone) };
}
