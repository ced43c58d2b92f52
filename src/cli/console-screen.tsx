// The console's screen: React, Ink and the components. Loaded by the console verb only after
// it has sent the first refresh's commands to the hosts, so this code's start-up (the bulk of
// the bundle's) runs while they work.
import { openSync } from 'node:fs';
import tty from 'node:tty';
import { render } from 'ink';
import type { AppStore } from '../store/app-store.js';
import { App } from '../../components/App.js';
import { themeFromEnv } from '../../components/theme.js';
import { loadLayoutEngine } from './layout-engine.js';

export interface Screen {
  unmount(): void;
}

/** What must be loaded before the first mountScreen(). */
export async function prepareScreen(): Promise<void> {
  await loadLayoutEngine();
}

/**
 * The screen reads keys from a terminal stream of its own (/dev/tty), not process.stdin: a
 * Node stream keeps reading its handle after pause(), so while a pager owns the terminal
 * process.stdin would steal its keystrokes (and could block in a read the pager won). This
 * one is closed on unmount, so between two screens nothing of opsdeck reads the terminal.
 */
function openTerminalInput(): NodeJS.ReadStream {
  try {
    return new tty.ReadStream(openSync('/dev/tty', 'r'));
  } catch {
    return process.stdin;
  }
}

export function mountScreen(store: AppStore, onQuit: () => void): Screen {
  const input = openTerminalInput();
  const instance = render(<App store={store} theme={themeFromEnv()} onQuit={onQuit} />, {
    stdin: input,
    exitOnCtrlC: false,
    patchConsole: true,
    maxFps: 20,
  });
  let mounted = true;
  return {
    unmount() {
      if (!mounted) return;
      mounted = false;
      instance.unmount();
      if (input === process.stdin) return;
      try {
        input.setRawMode(false);
      } catch {
        /* the terminal is gone */
      }
      input.destroy();
    },
  };
}
