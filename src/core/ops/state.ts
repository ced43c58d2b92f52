// The state journal of operations, on the host they act on (/var/lib/opsdeck/ops/ID/): the plan
// (plan.json, written once, atomically), what happened (journal.jsonl: each step's start, end
// and undo, every line fsynced before the runner goes on), and what undo needs (backup/: files
// as they were). Whoever reads it next (`ops resume`, `ops rollback`, the console's header
// after a crash) knows exactly where the operation stood.
import path from 'node:path';
import type { Host } from '../host/host.js';
import { appendDurably, makeDirectory, writeFileAtomic } from '../host/files.js';
import { isOperationId, type Operation } from './operation.js';

export const STATE_DIR = '/var/lib/opsdeck';
export const OPS_DIR = `${STATE_DIR}/ops`;

export interface Owner {
  user: string;
  /** The machine opsdeck runs on (its host name). */
  from: string;
  pid: number;
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

/** One operation's journal on its host. */
export class StateJournal {
  readonly dir: string;
  constructor(
    readonly host: Host,
    readonly id: string,
  ) {
    this.dir = operationDir(id);
  }

  /** Before the first step: the directory, the plan, and the `started` line. */
  async create(op: Operation, by: Owner): Promise<void> {
    await makeDirectory(this.host, `${this.dir}/backup`, 0o700);
    await writeFileAtomic(this.host, `${this.dir}/plan.json`, JSON.stringify(op, null, 1) + '\n', 0o600);
    await this.append({ event: 'started', at: new Date().toISOString(), by });
  }

  /** One event, on disk (fsynced) before this resolves. */
  async append(event: JournalEvent): Promise<void> {
    await appendDurably(this.host, `${this.dir}/journal.jsonl`, JSON.stringify(event) + '\n');
  }

  /** It ended for good (finished, or rolled back): listing what is open skips it from now on. */
  async markEnded(): Promise<void> {
    await writeFileAtomic(this.host, `${this.dir}/ended`, new Date().toISOString() + '\n', 0o600);
  }

  /** Several events in one write (a step's end and the next one's start). */
  async appendAll(events: readonly JournalEvent[]): Promise<void> {
    if (events.length > 0) await appendDurably(this.host, `${this.dir}/journal.jsonl`, events.map((e) => JSON.stringify(e) + '\n').join(''));
  }
}

export interface StoredOperation {
  plan: Operation;
  events: JournalEvent[];
  /** Lines of the journal that could not be read (a crash in the middle of a write). */
  damaged: number;
}

/** Plans and journals from `grep -r -z` output: "PATH:CONTENT\0" per file (JSON holds no NUL). */
export function parseStoredOperations(stdout: string): StoredOperation[] {
  const byId = new Map<string, { plan?: Operation; events: JournalEvent[]; damaged: number }>();
  for (const record of stdout.split('\0')) {
    const match = /^\/var\/lib\/opsdeck\/ops\/([^/]+)\/(plan\.json|journal\.jsonl):/.exec(record);
    if (!match || !isOperationId(match[1]!)) continue;
    const entry = byId.get(match[1]!) ?? { events: [], damaged: 0 };
    byId.set(match[1]!, entry);
    const content = record.slice(match[0].length);
    if (match[2] === 'plan.json') {
      try {
        entry.plan = JSON.parse(content) as Operation;
      } catch {
        entry.damaged++;
      }
      continue;
    }
    for (const line of content.split('\n')) {
      if (!line.trim()) continue;
      try {
        entry.events.push(JSON.parse(line) as JournalEvent);
      } catch {
        entry.damaged++;
      }
    }
  }
  const out: StoredOperation[] = [];
  for (const [id, entry] of byId) if (entry.plan && entry.plan.id === id) out.push({ plan: entry.plan, events: entry.events, damaged: entry.damaged });
  return out.sort((a, b) => a.plan.id.localeCompare(b.plan.id));
}

/** Every operation journaled on a host (one command), or only one by id. */
export async function readStoredOperations(host: Host, id?: string): Promise<StoredOperation[]> {
  const where = id ? operationDir(id) : OPS_DIR;
  // -s: no such directory yet is an empty answer (exit 2 without output).
  const { stdout } = await host.run(['grep', '-r', '-H', '-a', '-s', '-z', '--include=plan.json', '--include=journal.jsonl', '', '--', where], { okExitCodes: [0, 1, 2], maxOutputBytes: 64 * 1024 * 1024 });
  return parseStoredOperations(stdout);
}

/**
 * The operations on a host that have not ended for good (running, interrupted, failed): one
 * `find` for the directories and their `ended` marks, then one read of the open ones.
 */
export async function readOpenOperations(host: Host): Promise<StoredOperation[]> {
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
  return parseStoredOperations(content);
}

export type OperationStatus = 'running' | 'interrupted' | 'failed' | 'finished' | 'rolled-back' | 'rollback-failed';

export interface OperationProgress {
  status: OperationStatus;
  /** Steps that finished well (and are not undone). */
  done: number[];
  /** A step that started and has no end in the journal (cut off mid-way). */
  unfinished: number | null;
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
  let status: OperationStatus | null = null;
  let reason: string | null = null;
  for (const e of stored.events) {
    switch (e.event) {
      case 'started':
      case 'resumed':
      case 'rollback-started':
        status = null;
        reason = null;
        break;
      case 'step-started':
        started.add(e.step);
        break;
      case 'step-finished':
        started.delete(e.step);
        if (e.ok) done.add(e.step);
        break;
      case 'undone':
        if (e.ok) {
          done.delete(e.step);
          undone.add(e.step);
        }
        break;
      case 'interrupted':
        status = 'interrupted';
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
        break;
    }
  }
  // No word on how it ended: still running if its owner lives, else cut off (kill -9, a crash, a lost connection).
  if (status === null) {
    status = ownerAlive ? 'running' : 'interrupted';
    if (!ownerAlive) reason = 'opsdeck stopped while it ran (killed, crashed or disconnected)';
  }
  const unfinished = [...started].filter((s) => !done.has(s)).sort((a, b) => a - b)[0] ?? null;
  return { status, done: [...done].sort((a, b) => a - b), unfinished, undone: [...undone].sort((a, b) => a - b), lastEventAt: stored.events.at(-1)?.at ?? null, reason };
}

/** The steps' start data (what was there before, recorded when each began), by step. */
export function stepData(stored: StoredOperation): Map<number, Record<string, unknown>> {
  const data = new Map<number, Record<string, unknown>>();
  for (const e of stored.events) {
    if ((e.event === 'step-started' || e.event === 'step-finished') && e.data) data.set(e.step, { ...data.get(e.step), ...e.data });
  }
  return data;
}

export function journalFile(id: string): string {
  return path.posix.join(operationDir(id), 'journal.jsonl');
}
