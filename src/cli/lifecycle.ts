// One exit path for the whole process: on SIGINT/SIGTERM/SIGHUP run the registered cleanups
// (the console restores the terminal), kill every child process group, and exit.
import { beginShutdown, killAllChildren } from '../core/children.js';

const cleanups = new Set<() => void>();

export function onCleanup(fn: () => void): () => void {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

export function runCleanups(): void {
  beginShutdown();
  for (const fn of [...cleanups].reverse()) {
    try {
      fn();
    } catch {
      /* keep cleaning */
    }
  }
  cleanups.clear();
  killAllChildren();
}

const EXIT_CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

export function installSignalHandlers(): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      runCleanups();
      process.exit(EXIT_CODES[signal]);
    });
  }
}
