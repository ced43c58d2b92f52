// The console's key handlers, by priority (handler-stack.ts): the terminal-too-small guard,
// Ctrl+C, the open overlay, text being typed (the logs prompt, a filter), then the keymap.
// Each reads the store when the key arrives, not at the last render, so the keys of one chunk
// ("/PROD\r", ":dev") go where the keys before them led.
import { useStdout } from 'ink';
import type { AppStore } from '../../src/store/types.js';
import { logPromptKeys } from '../LogsPane/prompt-keys.js';
import { overlayKeys } from '../overlays/overlay-keys.js';
import { worksNow, type KeyContext, type Keymap } from './commands.js';
import { KeyPriority, type KeyHandler } from './handler-stack.js';
import { edited } from './keyName.js';
import { useKeyHandler } from './useKeyHandler.js';

/** The smallest terminal the console draws its frame in; below it only quitting works. */
export const MIN_COLUMNS = 60;
export const MIN_ROWS = 15;

export function useConsoleKeys(store: AppStore, keymap: Keymap, pageSize: () => number): void {
  const { stdout } = useStdout();
  const ctx: KeyContext = { store, keymap, pageSize: () => Math.max(1, pageSize()) };
  useKeyHandler(terminalGuard(ctx, stdout), { priority: KeyPriority.guard });
  useKeyHandler(interruptKeys(ctx), { priority: KeyPriority.interrupt });
  useKeyHandler(overlayKeys(ctx), { priority: KeyPriority.dialog });
  // Of equal priority the later goes first: the logs prompt, then a filter (never both open).
  useKeyHandler(filterKeys(ctx), { priority: KeyPriority.prompt });
  useKeyHandler(logPromptKeys(ctx), { priority: KeyPriority.prompt });
  useKeyHandler(keymapKeys(ctx), { priority: KeyPriority.keymap });
}

/**
 * For the provider: a paste must never open a confirmation and answer it. Once a chunk's key
 * opened a confirm dialog (or an operation view), the rest of the chunk is dropped and the answer has to
 * be typed.
 */
export function pasteGuard(store: AppStore): () => () => boolean {
  return () => {
    const before = store.getState().overlay?.kind;
    return () => {
      const now = store.getState().overlay?.kind;
      return now !== before && (now === 'confirm' || now === 'operation');
    };
  };
}

/**
 * A terminal too small to draw the frame shows no preview and no dialog: no key may act on what
 * the operator cannot see, but Ctrl+C and quit. The size is asked at each key, not at the last
 * render; a pasted chunk does nothing.
 */
function terminalGuard({ store, keymap }: KeyContext, stdout: NodeJS.WriteStream): KeyHandler {
  return (event) => {
    if ((stdout.columns || 80) >= MIN_COLUMNS && (stdout.rows || 24) >= MIN_ROWS) return false;
    if (event.pasted) return true;
    const { actions } = store.getState();
    if (event.name === 'ctrl+c') actions.interrupt();
    else if (keymap.keysOf('quit').includes(event.name)) actions.requestQuit();
    return true;
  };
}

/** Ctrl+C closes a dialog, asks what to do with a running operation; with neither, twice quickly quits. */
function interruptKeys({ store }: KeyContext): KeyHandler {
  return (event) => {
    if (event.name !== 'ctrl+c') return false;
    const { overlay, actions } = store.getState();
    if (overlay && overlay.kind !== 'operation') actions.closeOverlay();
    actions.interrupt();
    return true;
  };
}

/** A pane's filter being typed: Enter (or moving) keeps it, Esc clears it. */
function filterKeys({ store }: KeyContext): KeyHandler {
  return (event) => {
    const state = store.getState();
    if (!state.filterEditing) return false;
    const { actions } = state;
    if (event.name === 'return' || event.name === 'up' || event.name === 'down') actions.endFilter(true);
    else if (event.name === 'escape') actions.endFilter(false);
    else {
      const text = edited(state.filter[state.pane], event);
      if (text !== null) actions.editFilter(text);
    }
    return true;
  };
}

/** The command registry: the first command bound to the key that works here and now. */
function keymapKeys({ store, keymap, pageSize }: KeyContext): KeyHandler {
  return (event) => {
    const state = store.getState();
    const candidates = keymap.byKey.get(event.name);
    const command = candidates?.find((c) => worksNow(c, state)) ?? candidates?.find((c) => !c.panes || c.panes.includes(state.pane));
    if (!command) return false;
    if (!worksNow(command, state)) {
      state.actions.notify(state.readonly && command.mutating ? `read-only: ${command.title} is not available` : `${command.title}: nothing selected here`, 'warn');
      return true;
    }
    command.run({ store, state, pageSize: pageSize() });
    return true;
  };
}
