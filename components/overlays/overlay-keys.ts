// The keys of each overlay, by kind. An open overlay takes every key (Ctrl+C is answered above
// it): nothing typed at a dialog reaches the panes behind it. A new kind of overlay without its
// keys here is a type error.
import { requiredPhrase } from '../../src/core/ops/actions.js';
import type { AppState, Overlay, OverlayOf } from '../../src/store/types.js';
import type { KeyContext } from '../keys/commands.js';
import type { KeyEvent, KeyHandler } from '../keys/handler-stack.js';
import { edited } from '../keys/keyName.js';
import { matchPalette } from '../keys/palette.js';

type Kind = NonNullable<Overlay>['kind'];
type Keys<K extends Kind> = (overlay: OverlayOf<K>, event: KeyEvent, state: AppState, ctx: KeyContext) => void;

const KEYS: { [K in Kind]: Keys<K> } = {
  // Ctrl+C cancels it; any other key waits for the result.
  running: () => {},
  help: (_overlay, _event, { actions }) => actions.closeOverlay(),
  // Not any key: a key typed ahead while the action ran must not dismiss its result unread.
  result: (_overlay, { name }, { actions }) => {
    if (['escape', 'return', 'q', ' '].includes(name)) actions.closeOverlay();
  },
  text: (overlay, { name }, { actions }, ctx) => {
    const lines = overlay.text.split('\n').length;
    const page = ctx.pageSize();
    const step = name === 'down' || name === 'j' ? 1 : name === 'up' || name === 'k' ? -1 : name === 'pagedown' ? page : name === 'pageup' ? -page : 0;
    if (step !== 0) actions.updateOverlay({ scroll: Math.max(0, Math.min(lines - 1, overlay.scroll + step)) });
    else if (['escape', 'return', 'q'].includes(name)) actions.closeOverlay();
  },
  // A protected target wants its name typed, then Enter; others want y. Never a bare Esc to run.
  confirm: (overlay, event, { actions }) => {
    const { name } = event;
    const phrase = requiredPhrase(overlay.action);
    if (name === 'escape') return actions.closeOverlay();
    if (phrase) {
      if (name === 'return') {
        if (overlay.typed === phrase) void actions.confirm();
        else actions.notify(`type ${phrase} exactly to confirm, or Esc to cancel`, 'warn');
        return;
      }
      const typed = edited(overlay.typed, event);
      if (typed !== null) actions.updateOverlay({ typed: typed.slice(0, 64) });
      return;
    }
    if (name === 'y' || name === 'Y') void actions.confirm();
    else if (name === 'n' || name === 'N' || name === 'q') actions.closeOverlay();
  },
  palette: (overlay, event, state, ctx) => {
    const { name } = event;
    const { actions } = state;
    const entries = matchPalette(state, ctx.keymap, overlay.query);
    if (name === 'escape') return actions.closeOverlay();
    if (name === 'down' || name === 'tab') return actions.updateOverlay({ index: Math.min(entries.length - 1, overlay.index + 1) });
    if (name === 'up' || name === 'shift+tab') return actions.updateOverlay({ index: Math.max(0, overlay.index - 1) });
    if (name === 'return') {
      const entry = entries[overlay.index];
      actions.closeOverlay();
      entry?.run({ store: ctx.store, state: ctx.store.getState(), pageSize: ctx.pageSize() });
      return;
    }
    const query = edited(overlay.query, event);
    if (query !== null) actions.updateOverlay({ query, index: 0 });
  },
};

/** Reads the open overlay at key time: a key that opened it is followed by keys it takes. */
export function overlayKeys(ctx: KeyContext): KeyHandler {
  return (event) => {
    const state = ctx.store.getState();
    const overlay = state.overlay;
    if (!overlay) return false;
    (KEYS[overlay.kind] as Keys<Kind>)(overlay as never, event, state, ctx);
    return true;
  };
}
