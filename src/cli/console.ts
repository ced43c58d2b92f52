// `opsdeck` with no verb: the full-screen console. Owns the terminal's lifecycle: refuses
// without a TTY (with the CLI verbs to use instead), enters the alternate screen, and on every
// exit path (q, Ctrl+C twice, SIGHUP from a dropped SSH session, SIGTERM, an uncaught error)
// restores the terminal and kills every child process group.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { localStartTime } from '../core/host/process-start.js';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OperationRunner } from '../core/ops/runner.js';
import { beginShutdown, killAllChildren, killGroup, trackGroup, untrackGroup } from '../core/host/children.js';
import { UsageError } from '../core/text/errors.js';
import { fullyReadonly, runnerPolicies } from '../core/ops/policy.js';
import { hostResolver } from '../core/ops/target.js';
import { createAppStore } from '../store/app-store.js';
import { startPoller } from '../store/poller.js';
import type { Screen } from './console-screen.js';
import { loadContext, type GlobalOptions } from './context.js';
import { handInterrupts, onCleanup } from './lifecycle.js';

const ENTER_ALT_SCREEN = '\x1b[?1049h\x1b[H';
const LEAVE_ALT_SCREEN = '\x1b[?1049l';
const SHOW_CURSOR = '\x1b[?25h';
/**
 * How long the first frame waits for the first refresh: a frame with the answers in it costs
 * one render instead of two (a skeleton, then the answers), and a host that takes longer than
 * this still gets a frame saying so.
 */
const FIRST_FRAME_PATIENCE_MS = 250;

export async function consoleCommand(options: GlobalOptions & { readonly?: boolean }): Promise<number> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    throw new UsageError(
      'the console needs a terminal (stdin and stdout must be a TTY)',
      'for scripts and cron use the CLI verbs: opsdeck status, units, health, unit, kill, lab (each with --json); ssh -t gives a remote terminal',
    );
  }
  const ctx = loadContext(options);
  const globalReadonly = Boolean(options.readonly);
  const runner = new OperationRunner({ hostFor: (name) => ctx.hosts.get(name), ...runnerPolicies(ctx.config, globalReadonly, hostResolver(ctx.config, ctx.hosts)) });
  const store = createAppStore({ config: ctx.config, configFile: ctx.file, hosts: ctx.hosts, runner, readonly: fullyReadonly(ctx.config, globalReadonly), logCapacity: ctx.config.logBufferLines });

  // The first refresh's commands go out before anything else: the hosts work on them while
  // the screen's code loads.
  const poller = startPoller(store, ctx.config.refreshSeconds * 1000);

  let screen: Screen | undefined;
  let pager: Pager | null = null;
  let finished = false;
  let resolveExit: (code: number) => void = () => {};
  const exited = new Promise<number>((resolve) => (resolveExit = resolve));
  const finish = (code: number, message?: string) => {
    if (finished) return;
    finished = true;
    beginShutdown();
    poller.stop();
    // A pager ends first and puts the terminal back as it found it.
    pager?.stop();
    void store.getState().actions.closeLogs();
    try {
      screen?.unmount();
    } catch {
      /* already gone */
    }
    killAllChildren();
    // Before the first frame the terminal is still as it was found.
    if (screen) restoreTerminal();
    else process.stdin.pause();
    if (message) process.stderr.write(message);
    // The hosts' connections (the ssh masters, with any remote journalctl) are closed by the
    // cleanup loadContext registered: on SIGTERM/SIGHUP it runs right after this one (cleanups
    // run newest first) before the process exits, on every other way out in main's `finally`.
    resolveExit(code);
  };

  // SIGHUP/SIGTERM go through the process-wide handler, which runs this cleanup first.
  onCleanup(() => finish(129));
  const onCrash = (error: unknown) => finish(1, `opsdeck: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.once('uncaughtException', onCrash);
  process.once('unhandledRejection', onCrash);
  // A terminal that went away (EIO on write) must not leave us spinning.
  process.stdout.on('error', () => finish(129));

  let mountScreen: (typeof import('./console-screen.js'))['mountScreen'];
  try {
    const screenModule = await import('./console-screen.js');
    await screenModule.prepareScreen();
    mountScreen = screenModule.mountScreen;
  } catch (error) {
    onCrash(error);
    return exited;
  }
  await Promise.race([poller.firstRefresh, delay(FIRST_FRAME_PATIENCE_MS)]);
  if (finished) return exited;
  const mount = () => mountScreen(store, () => finish(0));
  process.stdout.write(ENTER_ALT_SCREEN);
  screen = mount();
  // `o` in the logs pane: hand the terminal to $PAGER and come back with the state intact
  // (it lives in the store, not in the unmounted components). The pager runs while opsdeck
  // keeps handling its own signals: Ctrl+C belongs to the pager, SIGTERM/SIGHUP end both.
  store.subscribe((state, previous) => {
    if (!state.logs.pager || state.logs.pager === previous.logs.pager || finished || pager) return;
    screen?.unmount();
    restoreTerminal();
    pager = runPager(state.logs.pager, state.readonly);
    void pager.done.then(() => {
      pager = null;
      if (finished) return;
      process.stdout.write(ENTER_ALT_SCREEN);
      store.getState().actions.pagerDone();
      screen = mount();
    });
  });
  return exited;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

interface Pager {
  done: Promise<void>;
  /** End it now (opsdeck is exiting): TERM so it restores the terminal, KILL if it will not go. */
  stop(): void;
}

/**
 * $PAGER (split on spaces, no shell; not in read-only mode), else `less -S +G`, on a private
 * temporary file. It stays in opsdeck's process group, the terminal's foreground (a pager in
 * a group of its own could not read the terminal), so Ctrl+C reaches both: opsdeck hands it
 * to the pager meanwhile instead of quitting.
 */
function runPager(text: string, readonly: boolean): Pager {
  const dir = mkdtempSync(path.join(tmpdir(), 'opsdeck-'));
  const file = path.join(dir, 'logs.txt');
  writeFileSync(file, text, { mode: 0o600 });
  const configured = readonly ? [] : (process.env.PAGER ?? '').trim().split(/\s+/).filter(Boolean);
  const argv = configured.length > 0 ? configured : ['less', '-S', '+G'];
  const giveBack = handInterrupts(() => undefined);
  // LESSSECURE: no shell escapes, editor or file writes from the pager (opsdeck may run as root).
  const child = spawn(argv[0]!, [...argv.slice(1), file], { stdio: 'inherit', env: { ...process.env, LESSSECURE: '1' } });
  const pid = child.pid;
  if (pid !== undefined) trackGroup(pid);
  let exited = false;
  const done = new Promise<void>((resolve) => {
    const end = () => {
      if (exited) return;
      exited = true;
      giveBack();
      if (pid !== undefined) untrackGroup(pid);
      rmSync(dir, { recursive: true, force: true });
      resolve();
    };
    child.once('close', end);
    child.once('error', end);
  });
  return {
    done,
    stop() {
      if (exited || pid === undefined) return;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        return;
      }
      // Exiting right after this: wait (briefly, synchronously) for the pager to restore the terminal.
      const deadline = Date.now() + 1000;
      while (Date.now() < deadline && processAlive(pid)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      if (processAlive(pid)) killGroup(pid);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Running (a zombie waiting to be reaped has exited). */
const processAlive = (pid: number): boolean => localStartTime(pid) !== null;

/** After the screen is unmounted (its own terminal input closed, raw mode off). */
function restoreTerminal(): void {
  try {
    process.stdout.write(SHOW_CURSOR + LEAVE_ALT_SCREEN);
  } catch {
    /* terminal gone */
  }
}
