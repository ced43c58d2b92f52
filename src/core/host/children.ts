// Registry of the process groups opsdeck started, so that every exit path (quit, Ctrl+C,
// SIGHUP from a dropped SSH session, an uncaught error) can kill them all. execa kills only
// the direct child; our children are spawned detached (own process group) and killed by group.

const groups = new Set<number>();
let shuttingDown = false;

/** From now on no new child may start (a follower must not respawn journalctl on exit). */
export function beginShutdown(): void {
  shuttingDown = true;
}

export function isShuttingDown(): boolean {
  return shuttingDown;
}

export function trackGroup(pid: number): void {
  groups.add(pid);
}

export function untrackGroup(pid: number): void {
  groups.delete(pid);
}

export function killGroup(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone, or never became a group leader: try the process itself.
    try {
      process.kill(pid, signal);
    } catch {
      /* gone */
    }
  }
}

/** Kill every tracked child process group. Safe to call more than once. */
export function killAllChildren(signal: NodeJS.Signals = 'SIGKILL'): number {
  const count = groups.size;
  for (const pid of groups) killGroup(pid, signal);
  groups.clear();
  return count;
}

