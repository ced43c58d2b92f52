// A lock per environment, on its host (/var/lib/opsdeck/locks/NAME.lock), held for the whole of
// an operation, whichever opsdeck on whichever machine runs it. The lock is a symbolic link
// whose target is its owner (user, machine, PID, operation, since): `ln -s` makes it atomically
// or fails because it exists, and one `find` reads every lock with its owner. The owner touches
// it (`touch -h`) while it holds it: a lock not touched for a while, or whose owner process on
// this very machine is gone, is stale and can be broken (`opsdeck lock ENV --break`).
import { readFileSync } from 'node:fs';
import os from 'node:os';
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

export interface LockOwner extends Owner {
  /** The operation holding it, and its title. */
  op: string;
  title: string;
  since: string;
}

export interface LockInfo {
  name: string;
  owner: LockOwner | null;
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

function lockPath(name: string): string {
  return `${LOCK_DIR}/${lockName(name)}.lock`;
}

let machineId: string | undefined;

/** This machine and boot (a PID only means something on the machine and boot it came from). */
export function thisMachine(): string {
  if (machineId === undefined) {
    const read = (file: string) => {
      try {
        return readFileSync(file, 'utf8').trim();
      } catch {
        return '';
      }
    };
    machineId = `${read('/etc/machine-id') || os.hostname()}:${read('/proc/sys/kernel/random/boot_id')}`;
  }
  return machineId;
}

export function currentOwner(user: string): Owner {
  return { user, from: os.hostname(), pid: process.pid, machine: thisMachine() };
}

/** Whether an owner process is alive, as far as this machine can tell (null: it runs elsewhere). */
export function ownerAliveHere(owner: Owner): boolean | null {
  if (owner.machine !== thisMachine()) return null;
  if (owner.pid === process.pid) return true;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** "TIMESTAMP<TAB>NAME<TAB>TARGET<NUL>" per lock: the owner JSON holds no tab, newline or NUL. */
export function parseLocks(stdout: string, now = Date.now()): LockInfo[] {
  const locks: LockInfo[] = [];
  for (const record of stdout.split('\0')) {
    const match = /^(\d+(?:\.\d+)?)\t([A-Za-z0-9_][A-Za-z0-9_.-]*)\.lock\t(.*)$/s.exec(record);
    if (!match) continue;
    let owner: LockOwner | null = null;
    try {
      owner = JSON.parse(match[3]!) as LockOwner;
    } catch {
      owner = null;
    }
    const touchedAt = Number(match[1]) * 1000;
    const alive = owner ? ownerAliveHere(owner) : null;
    const quietFor = now - touchedAt;
    const staleReason =
      owner === null ? 'its owner cannot be read'
        : alive === false ? `its owner, PID ${owner.pid} on ${sanitizeLine(owner.from)}, is gone`
          : alive === null && quietFor > STALE_AFTER_MS ? `its owner has not touched it for ${formatAge(quietFor / 1000)}`
            : null;
    locks.push({ name: match[2]!, owner, touchedAt, stale: staleReason !== null, staleReason });
  }
  return locks.sort((a, b) => a.name.localeCompare(b.name));
}

/** Every lock on a host, with owners and staleness. */
export async function readLocks(host: Host): Promise<LockInfo[]> {
  const { stdout } = await host.run(['find', LOCK_DIR, '-mindepth', '1', '-maxdepth', '1', '-name', '*.lock', '-type', 'l', '-printf', '%T@\\t%f\\t%l\\0'], { okExitCodes: [0, 1] });
  return parseLocks(stdout);
}

/** Who holds a lock, in the words an operator needs: user, from where, operation, since. */
export function describeHolder(lock: LockInfo): string {
  const o = lock.owner;
  if (!o) return `${lock.name} is locked by an owner that cannot be read`;
  const since = Number.isFinite(Date.parse(o.since)) ? ` since ${o.since} (${formatAge((Date.now() - Date.parse(o.since)) / 1000)} ago)` : '';
  return `${lock.name} is locked by ${sanitizeLine(o.user)} from ${sanitizeLine(o.from)} (PID ${o.pid}) for operation ${sanitizeLine(o.op)} "${sanitizeLine(o.title)}"${since}${lock.stale ? `; the lock is STALE: ${lock.staleReason}` : ''}`;
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

/** Locks an operation holds on a host; touched while held, released once. */
export class HeldLocks {
  private timer: NodeJS.Timeout | undefined;
  private released = false;

  constructor(
    readonly host: Host,
    readonly names: readonly string[],
  ) {
    this.timer = setInterval(() => void this.touch(), HEARTBEAT_MS);
    this.timer.unref();
  }

  private async touch(): Promise<void> {
    if (this.released || this.names.length === 0) return;
    await this.host.run(['touch', '-h', '--', ...this.names.map(lockPath)], { okExitCodes: [0, 1] }).catch(() => undefined);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    if (this.names.length > 0) await this.host.run(['rm', '-f', '--', ...this.names.map(lockPath)], { okExitCodes: [0, 1] });
  }
}

/**
 * Take every lock named, or none: the first one held by another operation is refused, naming
 * its holder, and the ones taken so far are given back. `takeOver`: an operation resuming may
 * take its own locks back from its dead former self (same operation, stale).
 */
export async function acquireLocks(host: Host, names: readonly string[], owner: LockOwner, options: { takeOver?: boolean } = {}): Promise<HeldLocks> {
  const unique = [...new Set(names.map(lockName))].sort();
  await makeDirectory(host, LOCK_DIR, 0o755);
  const target = JSON.stringify(owner);
  const taken: string[] = [];
  try {
    for (const name of unique) {
      const made = await host.run(['ln', '-s', '--', target, lockPath(name)], { okExitCodes: [0, 1] });
      if (made.exitCode === 0) {
        taken.push(name);
        continue;
      }
      const lock = (await readLocks(host)).find((l) => l.name === name);
      if (lock && options.takeOver && lock.stale && lock.owner?.op === owner.op) {
        // Our own operation's lock, its former holder dead: replace it atomically (a link made beside it, renamed over it).
        const fresh = `${lockPath(name)}.${process.pid}`;
        await host.run(['ln', '-s', '-f', '--', target, fresh]);
        await host.run(['mv', '-T', '-f', '--', fresh, lockPath(name)]);
        taken.push(name);
        continue;
      }
      if (!lock) throw new OpsdeckError('command', `cannot take the lock ${name} on host ${host.name}: ${made.stderr.trim()}`);
      throw new LockError(lock, host.name);
    }
  } catch (error) {
    if (taken.length > 0) await host.run(['rm', '-f', '--', ...taken.map(lockPath)], { okExitCodes: [0, 1] }).catch(() => undefined);
    throw error;
  }
  return new HeldLocks(host, taken);
}

/** Remove a lock (after the operator confirmed it is dead); only the one seen, not a new one taken since. */
export async function breakLock(host: Host, seen: LockInfo): Promise<void> {
  const now = (await readLocks(host)).find((l) => l.name === seen.name);
  if (!now) return;
  if (JSON.stringify(now.owner) !== JSON.stringify(seen.owner)) throw new OpsdeckError('command', `the lock ${seen.name} changed hands meanwhile: ${describeHolder(now)}`, 'look again: opsdeck lock ' + seen.name);
  await host.run(['rm', '-f', '--', lockPath(seen.name)]);
}
