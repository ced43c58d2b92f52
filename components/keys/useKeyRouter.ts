// The one key router of the app (two components reading keys can hang Ink 6.8, ink#943).
// Order: Ctrl+C, then the open overlay, then a filter being typed, then the keymap.
import { useInput, useStdout, type Key } from 'ink';
import type { AppStore } from '../../src/store/types.js';
import { requiredPhrase } from '../../src/core/ops/actions.js';
import { worksNow, type Keymap } from './commands.js';
import { keyName, printable } from './keyName.js';
import { matchPalette } from './palette.js';

const PLAIN: Key = { upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false, return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false, super: false, hyper: false, capsLock: false, numLock: false };

/** The smallest terminal the console draws its frame in; below it only quitting works. */
export const MIN_COLUMNS = 60;
export const MIN_ROWS = 15;

export function useKeyRouter(store: AppStore, keymap: Keymap, pageSize: () => number): void {
  const { stdout } = useStdout();
  useInput((input, key) => {
    // A terminal too small to draw the frame shows no preview and no dialog: no key may act
    // on what the operator cannot see. Asked at each key, not at the last render.
    if ((stdout.columns || 80) < MIN_COLUMNS || (stdout.rows || 24) < MIN_ROWS) {
      const name = keyName(input, key);
      if (name === 'ctrl+c') store.getState().actions.interrupt();
      else if (keymap.keysOf('quit').includes(name)) store.getState().actions.requestQuit();
      return;
    }
    // Keys typed fast, over a slow link, or pasted can arrive as one chunk ("jr", "y\r"):
    // each character is its own key, Enter and Backspace included.
    const special = Object.entries(key).some(([name, on]) => on && name !== 'shift');
    if (input.length > 1 && !special) {
      const dialogBefore = store.getState().overlay?.kind;
      for (const ch of input) {
        if (ch === '\r' || ch === '\n') handleKey(store, keymap, pageSize, '', { ...PLAIN, return: true });
        else if (ch === '\x7f' || ch === '\b') handleKey(store, keymap, pageSize, '', { ...PLAIN, backspace: true });
        else handleKey(store, keymap, pageSize, ch, { ...PLAIN, shift: ch !== ch.toLowerCase() });
        // A paste must never open a confirmation and answer it: once a chunk opened a dialog,
        // the rest of the chunk is dropped and the answer has to be typed.
        const now = store.getState().overlay?.kind;
        if (now !== dialogBefore && (now === 'confirm' || now === 'running')) return;
      }
      return;
    }
    // Esc then a key, typed quickly or over a slow link, arrives as one Alt+key: opsdeck binds
    // no Alt keys, so treat it as the two keys it was.
    if (key.meta && !key.ctrl && input.length === 1 && !key.escape) {
      handleKey(store, keymap, pageSize, '', { ...PLAIN, escape: true });
      handleKey(store, keymap, pageSize, input, { ...PLAIN, shift: input !== input.toLowerCase() });
      return;
    }
    handleKey(store, keymap, pageSize, input, key);
  });
}

function handleKey(store: AppStore, keymap: Keymap, pageSize: () => number, input: string, key: Key): void {
  const state = store.getState();
  const { actions } = state;
  const name = keyName(input, key);
  const ctx = { store, state, pageSize: Math.max(1, pageSize()) };

  if (name === 'ctrl+c') {
    if (state.overlay && state.overlay.kind !== 'running') actions.closeOverlay();
    actions.interrupt();
    return;
  }

  const overlay = state.overlay;
  if (overlay) {
    switch (overlay.kind) {
      case 'running':
        return;
      case 'help':
        actions.closeOverlay();
        return;
      case 'result':
        if (['escape', 'return', 'q', ' '].includes(name)) actions.closeOverlay();
        return;
      case 'text': {
        const lines = overlay.text.split('\n').length;
        const step = name === 'down' || name === 'j' ? 1 : name === 'up' || name === 'k' ? -1 : name === 'pagedown' ? ctx.pageSize : name === 'pageup' ? -ctx.pageSize : 0;
        if (step !== 0) actions.updateOverlay({ scroll: Math.max(0, Math.min(lines - 1, overlay.scroll + step)) });
        else if (['escape', 'return', 'q'].includes(name)) actions.closeOverlay();
        return;
      }
      case 'confirm': {
        const phrase = requiredPhrase(overlay.action);
        if (name === 'escape') return actions.closeOverlay();
        if (phrase) {
          if (name === 'return') {
            if (overlay.typed === phrase) void actions.confirm();
            else actions.notify(`type ${phrase} exactly to confirm, or Esc to cancel`, 'warn');
          } else if (name === 'backspace') actions.updateOverlay({ typed: overlay.typed.slice(0, -1) });
          else actions.updateOverlay({ typed: (overlay.typed + printable(input, key)).slice(0, 64) });
          return;
        }
        if (name === 'y' || name === 'Y') void actions.confirm();
        else if (name === 'n' || name === 'N' || name === 'q') actions.closeOverlay();
        return;
      }
      case 'palette': {
        const entries = matchPalette(state, keymap, overlay.query);
        if (name === 'escape') return actions.closeOverlay();
        if (name === 'down' || name === 'tab') return actions.updateOverlay({ index: Math.min(entries.length - 1, overlay.index + 1) });
        if (name === 'up' || name === 'shift+tab') return actions.updateOverlay({ index: Math.max(0, overlay.index - 1) });
        if (name === 'return') {
          const entry = entries[overlay.index];
          actions.closeOverlay();
          entry?.run({ ...ctx, state: store.getState() });
          return;
        }
        if (name === 'backspace') return actions.updateOverlay({ query: overlay.query.slice(0, -1), index: 0 });
        const text = printable(input, key);
        if (text) actions.updateOverlay({ query: overlay.query + text, index: 0 });
        return;
      }
    }
  }

  const prompt = state.logs.prompt;
  if (prompt && state.pane === 'logs') {
    if (name === 'return') actions.submitLogPrompt();
    else if (name === 'escape') actions.cancelLogPrompt();
    else if (name === 'backspace') actions.editLogPrompt(prompt.text.slice(0, -1));
    else {
      const text = printable(input, key);
      if (text) actions.editLogPrompt((prompt.text + text).slice(0, 200));
    }
    return;
  }

  if (state.filterEditing) {
    const current = state.filter[state.pane];
    if (name === 'return') actions.endFilter(true);
    else if (name === 'escape') actions.endFilter(false);
    else if (name === 'backspace') actions.editFilter(current.slice(0, -1));
    else if (name === 'up' || name === 'down') {
      actions.endFilter(true);
    } else {
      const text = printable(input, key);
      if (text) actions.editFilter(current + text);
    }
    return;
  }

  const candidates = keymap.byKey.get(name);
  const command = candidates?.find((c) => worksNow(c, state)) ?? candidates?.find((c) => !c.panes || c.panes.includes(state.pane));
  if (!command) return;
  if (!worksNow(command, state)) {
    actions.notify(state.readonly && command.mutating ? `read-only: ${command.title} is not available` : `${command.title}: nothing selected here`, 'warn');
    return;
  }
  command.run(ctx);
}
