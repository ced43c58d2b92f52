// One exit path for the whole process: on SIGINT/SIGTERM/SIGHUP run the registered cleanups
// (the console restores the terminal), kill every child process group, and exit.
import { beginShutdown, killAllChildren } from '../core/host/children.js';

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

/** While a child owns the terminal (the pager), Ctrl+C is its business: SIGINT goes here instead. */
let interruptOwner: (() => void) | null = null;

/** Route SIGINT to `owner` until the returned function is called. */
export function handInterrupts(owner: () => void): () => void {
  interruptOwner = owner;
  return () => {
    if (interruptOwner === owner) interruptOwner = null;
  };
}

export function installSignalHandlers(): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (signal === 'SIGINT' && interruptOwner) return interruptOwner();
      runCleanups();
      process.exit(EXIT_CODES[signal]);
    });
  }
}
