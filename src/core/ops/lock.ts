// A lock per environment, on its host (/var/lib/opsdeck/locks/NAME.lock), held for the whole of
// an operation, whichever opsdeck on whichever machine runs it. The lock is a symbolic link
// whose target is its owner (user, machine, PID and its start time, operation, since, a nonce):
// `ln -s -T` makes it atomically or fails because it exists, and one `find` reads every lock
// with its owner. The owner touches it (`touch -h`) while it holds it, after checking it is
// still its own: a holder whose lock was broken learns it at the next heartbeat and stops. A
// lock untouched for STALE_AFTER_MS (by the host's clock), or whose owner process on this very
// machine is gone, is stale and can be broken (`opsdeck lock ENV --break`).
//
// Removing a lock that may have changed hands (release, break, take-over) is never "look, then
// rm": the lock is renamed aside to a name of ours first (atomic: whoever holds it now, it is
// that one we hold aside), read there, and removed only if it is the one expected; otherwise
// it is put back (`mv -T -n`, which never replaces a lock taken meanwhile).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { readFileSync, readlinkSync } from 'node:fs';
import { localStartTime } from '../host/process-start.js';
import type { Host } from '../host/host.js';
import { makeDirectory } from '../host/files.js';
import { OpsdeckError } from '../text/errors.js';
import { formatAge } from '../text/humanize.js';
import { sanitizeLine } from '../text/sanitize.js';
import { STATE_DIR, type Owner } from './state.js';

export const LOCK_DIR = `${STATE_DIR}/locks`;
/** The owner touches its locks this often… */
export const HEARTBEAT_MS = 10_000;
/** …so a lock untouched for this long has lost its owner. */
export const STALE_AFTER_MS = 45_000;
/** A symbolic link's target holds at most this much (PATH_MAX - 1). */
const MAX_TARGET = 4095;

export interface LockOwner extends Owner {
  /** The operation holding it, and its title. */
  op: string;
  title: string;
  since: string;
  /** Unique to this holding: a lock taken again by the same operation is another lock. */
  nonce: string;
}

export interface LockInfo {
  name: string;
  owner: LockOwner | null;
  /** The link's target as it is on the host: what a holder compares with its own. */
  target: string;
  /** When the owner last touched it (ms since the epoch, the host's clock). */
  touchedAt: number;
  stale: boolean;
  /** Why it is stale, in words. */
  staleReason: string | null;
}

/** A lock name: an environment's name, or `_host` for an operation on no environment. */
export function lockName(environment: string | null): string {
  const name = environment ?? '_host';
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) throw new Error(`invalid lock name ${JSON.stringify(name)}`);
  return name;
}

export function lockPath(name: string): string {
  return `${LOCK_DIR}/${lockName(name)}.lock`;
}

/** The lock names an operation takes: its environments', or the host's own. */
export function operationLockNames(op: { environments: readonly string[] }): string[] {
  return [...new Set((op.environments.length > 0 ? op.environments : [null]).map(lockName))].sort();
}

let machineId: string | undefined;

/**
 * This machine, boot and PID namespace: a PID only means something where it came from.
 * Containers made from one image can share a machine-id and do share the kernel's boot id, but
 * each has its own PID namespace. Without a machine-id, '' (PIDs are then never checked).
 */
export function thisMachine(): string {
  if (machineId === undefined) {
    const read = (file: string) => {
      try {
        return readFileSync(file, 'utf8').trim();
      } catch {
        return '';
      }
    };
    let pidNamespace = '';
    try {
      pidNamespace = readlinkSync('/proc/self/ns/pid');
    } catch {
      /* no /proc: the machine and boot must do */
    }
    const id = read('/etc/machine-id');
    machineId = id ? `${id}:${read('/proc/sys/kernel/random/boot_id')}:${pidNamespace}` : '';
  }
  return machineId;
}

export function currentOwner(user: string): Owner {
  return { user, from: hostname(), pid: process.pid, pidStart: localStartTime(process.pid) ?? '', machine: thisMachine() };
}

/** Whether an owner process is alive, as far as this machine can tell (null: it runs elsewhere). */
export function ownerAliveHere(owner: Owner): boolean | null {
  if (!owner.machine || owner.machine !== thisMachine()) return null;
  if (owner.pid === process.pid) return true;
  const start = localStartTime(owner.pid);
  // The same PID, started at another time, is another process: the owner is gone.
  return start !== null && (!owner.pidStart || start === owner.pidStart);
}

/** An owner as the host stored it, its texts made safe to print; null when it is not one of ours. */
export function parseLockOwner(target: string): LockOwner | null {
  let raw: unknown;
  try {
    raw = JSON.parse(target);
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null) return null;
  const o = raw as Record<string, unknown>;
  const text = (value: unknown, max = 200) => (typeof value === 'string' ? sanitizeLine(value).slice(0, max) : '');
  if (typeof o.pid !== 'number' || !Number.isSafeInteger(o.pid) || o.pid <= 0 || typeof o.op !== 'string') return null;
  return { user: text(o.user), from: text(o.from), pid: o.pid, pidStart: text(o.pidStart, 30), machine: typeof o.machine === 'string' ? o.machine : '', op: text(o.op, 120), title: text(o.title), since: text(o.since, 40), nonce: typeof o.nonce === 'string' ? o.nonce : '' };
}

/** "TIMESTAMP<TAB>NAME<TAB>TARGET<NUL>" per lock (the owner JSON holds no tab, newline or NUL); `now`: the host's clock. */
export function parseLocks(stdout: string, now: number): LockInfo[] {
  const locks: LockInfo[] = [];
  for (const record of stdout.split('\0')) {
    const match = /^(\d+(?:\.\d+)?)\t([A-Za-z0-9_][A-Za-z0-9_.-]*)\.lock\t(.*)$/s.exec(record);
    if (!match) continue;
    const target = match[3]!;
    const owner = parseLockOwner(target);
    const touchedAt = Number(match[1]) * 1000;
    const alive = owner ? ownerAliveHere(owner) : null;
    const quietFor = now - touchedAt;
    const staleReason =
      quietFor > STALE_AFTER_MS ? `its owner has not touched it for ${formatAge(quietFor / 1000)}`
        : alive === false && owner ? `its owner, PID ${owner.pid} on ${owner.from}, is gone`
          : null;
    locks.push({ name: match[2]!, owner, target, touchedAt, stale: staleReason !== null, staleReason });
  }
  return locks.sort((a, b) => a.name.localeCompare(b.name));
}

/** The host's clock, in ms since the epoch. */
async function hostNow(host: Host): Promise<number> {
  const { stdout } = await host.run(['date', '+%s.%N']);
  const seconds = Number(stdout.trim());
  if (!Number.isFinite(seconds)) throw new OpsdeckError('command', `cannot read the clock of host ${host.name}: ${JSON.stringify(stdout.slice(0, 40))}`);
  return seconds * 1000;
}

/** Every lock on a host, with owners and staleness (judged by the host's clock, which touched them). */
export async function readLocks(host: Host): Promise<LockInfo[]> {
  const [{ stdout }, now] = await Promise.all([
    host.run(['find', LOCK_DIR, '-mindepth', '1', '-maxdepth', '1', '-name', '*.lock', '-type', 'l', '-printf', '%T@\\t%f\\t%l\\0'], { okExitCodes: [0, 1] }),
    hostNow(host),
  ]);
  return parseLocks(stdout, now);
}

/** Whether the opsdeck that runs an operation still holds its lock, alive (given the host's locks). */
export function operationOwnerAlive(op: { id: string; environments: readonly string[] }, locks: readonly LockInfo[]): boolean {
  const names = operationLockNames(op);
  return locks.some((l) => names.includes(l.name) && l.owner?.op === op.id && !l.stale);
}

/** Who holds a lock, in the words an operator needs: user, from where, operation, since. */
export function describeHolder(lock: LockInfo): string {
  const o = lock.owner;
  if (!o) return `${lock.name} is locked by an owner that cannot be read`;
  const since = Number.isFinite(Date.parse(o.since)) ? ` since ${o.since} (${formatAge((Date.now() - Date.parse(o.since)) / 1000)} ago)` : '';
  return `${lock.name} is locked by ${o.user} from ${o.from} (PID ${o.pid}) for operation ${o.op} "${o.title}"${since}${lock.stale ? `; the lock is STALE: ${lock.staleReason}` : ''}`;
}

export class LockError extends OpsdeckError {
  constructor(
    readonly lock: LockInfo,
    hostName: string,
  ) {
    super(
      'command',
      `refused: environment ${describeHolder(lock)} (host ${hostName})`,
      lock.stale ? `if that operation is dead, break its lock: opsdeck lock ${lock.name} --break (then resume or roll back ${lock.owner?.op ?? 'it'})` : 'wait for it to finish, or see it with: opsdeck ops',
    );
    this.name = 'LockError';
  }
}

/** The lock could not be taken for a reason that is not another holder (the host's files, the connection). */
export class LockUnavailable extends OpsdeckError {
  constructor(message: string, hint?: string) {
    super('command', message, hint);
    this.name = 'LockUnavailable';
  }
}

type RemoveOutcome = 'removed' | 'absent' | 'not-expected';

/** The lock as it is now: its target and when it was last touched (host clock, ms), or null. */
async function readOneLock(host: Host, file: string): Promise<{ target: string; touchedAt: number } | null> {
  const { stdout } = await host.run(['find', file, '-maxdepth', '0', '-type', 'l', '-printf', '%T@\\t%l\\0'], { okExitCodes: [0, 1] });
  const match = /^(\d+(?:\.\d+)?)\t(.*)\0$/s.exec(stdout);
  return match ? { target: match[2]!, touchedAt: Number(match[1]) * 1000 } : null;
}

/**
 * Remove the lock `name` only if it is the one expected (its target, and for a break also its
 * last touch): looked at first, so a live lock of another is never even moved; then renamed
 * aside atomically, so the lock checked again there is the lock removed; put back otherwise.
 */
async function removeIf(host: Host, name: string, expected: (lock: { target: string; touchedAt: number }) => boolean): Promise<{ outcome: RemoveOutcome; target: string | null }> {
  const where = lockPath(name);
  const seen = await readOneLock(host, where);
  if (!seen) return { outcome: 'absent', target: null };
  if (!expected(seen)) return { outcome: 'not-expected', target: seen.target };
  const aside = `${where}.${randomBytes(6).toString('hex')}.aside`;
  const moved = await host.run(['mv', '-T', '--', where, aside], { okExitCodes: [0, 1] });
  if (moved.exitCode !== 0) {
    if (/No such file or directory/.test(moved.stderr)) return { outcome: 'absent', target: null };
    throw new LockUnavailable(`cannot move the lock ${name} aside on host ${host.name}: ${moved.stderr.trim()}`);
  }
  const held = await readOneLock(host, aside);
  if (held && expected(held)) {
    await host.run(['rm', '-f', '--', aside]);
    return { outcome: 'removed', target: held.target };
  }
  // It changed in between: back where it was, unless a new one was taken in that instant (then its holder wins).
  await host.run(['mv', '-T', '-n', '--', aside, where], { okExitCodes: [0, 1] });
  await host.run(['rm', '-f', '--', aside], { okExitCodes: [0, 1] });
  return { outcome: 'not-expected', target: held?.target ?? null };
}

/** Locks an operation holds on a host; touched while held (if still its own), released once. */
export class HeldLocks {
  private timer: NodeJS.Timeout | undefined;
  private released = false;
  private lostReported = false;
  private readonly lost = new Set<string>();

  constructor(
    readonly host: Host,
    readonly names: readonly string[],
    readonly target: string,
    /** Called once when a heartbeat finds a lock gone or held by another: the holder must stop. */
    private readonly onLost: (why: string) => void = () => undefined,
  ) {
    if (names.length > 0) {
      this.timer = setInterval(() => void this.heartbeat(), HEARTBEAT_MS);
      this.timer.unref();
    }
  }

  /** Check the locks are still ours, then touch them; a lock lost is reported, not re-taken. */
  async heartbeat(): Promise<void> {
    if (this.released) return;
    let locks: LockInfo[];
    try {
      locks = await readLocks(this.host);
    } catch {
      return; // the host did not answer: the step in progress will find out, and the lock goes stale by itself
    }
    if (this.released) return;
    const lost = this.names.filter((name) => locks.find((l) => l.name === name)?.target !== this.target);
    for (const name of lost) this.lost.add(name);
    if (lost.length > 0) {
      if (!this.lostReported) {
        this.lostReported = true;
        const holder = locks.find((l) => l.name === lost[0]);
        this.onLost(`the lock of ${lost.join(', ')} on host ${this.host.name} was ${holder ? `taken: ${describeHolder(holder)}` : 'broken'}`);
      }
      return;
    }
    await this.host.run(['touch', '-h', '--', ...this.names.map(lockPath)], { okExitCodes: [0, 1] }).catch(() => undefined);
  }

  /** Give the locks back: each one only if it is still this holder's. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    // A lock already found taken by another is not ours to touch.
    for (const name of this.names) if (!this.lost.has(name)) await removeIf(this.host, name, (lock) => lock.target === this.target);
  }
}

/**
 * Take every lock named, or none: the first one held by another operation is refused, naming
 * its holder, and the ones taken so far are given back. `takeOver`: an operation resuming or
 * rolling back may take its own locks back from its dead former self (same operation, stale).
 */
export async function acquireLocks(host: Host, names: readonly string[], owner: Omit<LockOwner, 'nonce'>, options: { takeOver?: boolean; onLost?: (why: string) => void } = {}): Promise<HeldLocks> {
  const unique = [...new Set(names.map(lockName))].sort();
  let target = JSON.stringify({ ...owner, nonce: randomBytes(8).toString('hex') } satisfies LockOwner);
  if (target.length > MAX_TARGET) target = JSON.stringify({ ...owner, title: owner.title.slice(0, 200), nonce: randomBytes(8).toString('hex') } satisfies LockOwner);
  // The lock directory is made only the first time it is missing (not one more command per operation).
  const link = async (name: string) => {
    const made = await host.run(['ln', '-s', '-T', '--', target, lockPath(name)], { okExitCodes: [0, 1] });
    if (made.exitCode === 0 || !/No such file or directory/.test(made.stderr)) return made;
    try {
      await makeDirectory(host, LOCK_DIR, 0o755);
    } catch (error) {
      throw error instanceof OpsdeckError && error.kind === 'command' ? new LockUnavailable(error.message, error.hint) : error;
    }
    return host.run(['ln', '-s', '-T', '--', target, lockPath(name)], { okExitCodes: [0, 1] });
  };
  const taken: string[] = [];
  const give = async () => {
    for (const name of taken) await removeIf(host, name, (lock) => lock.target === target).catch(() => undefined);
  };
  try {
    for (const name of unique) {
      const made = await link(name);
      if (made.exitCode === 0) {
        taken.push(name);
        continue;
      }
      if (!/File exists/.test(made.stderr)) throw new LockUnavailable(`cannot take the lock ${name} on host ${host.name}: ${made.stderr.trim()}`);
      const lock = (await readLocks(host)).find((l) => l.name === name);
      if (lock && options.takeOver && lock.stale && lock.owner?.op === owner.op) {
        // Our own operation's lock, its former holder dead: removed if it is still that one, then taken like any other.
        const removed = await removeIf(host, name, (l) => l.target === lock.target && l.touchedAt === lock.touchedAt);
        const retaken = removed.outcome !== 'not-expected' ? await link(name) : null;
        if (retaken?.exitCode === 0) {
          taken.push(name);
          continue;
        }
      }
      const now = lock ?? (await readLocks(host)).find((l) => l.name === name);
      if (!now) throw new LockUnavailable(`cannot take the lock ${name} on host ${host.name}: it came and went meanwhile`, 'try again');
      throw new LockError(now, host.name);
    }
  } catch (error) {
    await give();
    throw error;
  }
  return new HeldLocks(host, taken, target, options.onLost);
}

/** Remove a lock (after the operator confirmed it is dead): only the one seen, not a new one taken since. */
export async function breakLock(host: Host, seen: LockInfo): Promise<void> {
  // The same owner and not touched since it was shown as stale: a holder that woke up meanwhile keeps its lock.
  const { outcome } = await removeIf(host, seen.name, (lock) => lock.target === seen.target && lock.touchedAt === seen.touchedAt);
  if (outcome === 'not-expected') {
    const now = (await readLocks(host)).find((l) => l.name === seen.name);
    throw new OpsdeckError('command', `the lock ${seen.name} changed hands meanwhile${now ? `: ${describeHolder(now)}` : ''}`, 'look again: opsdeck lock ' + seen.name);
  }
}
