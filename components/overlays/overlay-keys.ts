// The keys of each overlay, by kind. An open overlay takes every key (Ctrl+C is answered above
// it): nothing typed at a dialog reaches the panes behind it. A new kind of overlay without its
// keys here is a type error.
import { requiredPhrase } from '../../src/core/ops/runner.js';
import type { AppState, Overlay, OverlayOf } from '../../src/store/types.js';
import type { KeyContext } from '../keys/commands.js';
import type { KeyEvent, KeyHandler } from '../keys/handler-stack.js';
import { edited } from '../keys/keyName.js';
import { matchPalette } from '../keys/palette.js';

type Kind = NonNullable<Overlay>['kind'];
type Keys<K extends Kind> = (overlay: OverlayOf<K>, event: KeyEvent, state: AppState, ctx: KeyContext) => void;

/** ↑↓ PgUp PgDn: how far a key scrolls a long view, 0 for any other key. */
function scrollStep(name: string, page: number): number {
  return name === 'down' || name === 'j' ? 1 : name === 'up' || name === 'k' ? -1 : name === 'pagedown' ? page : name === 'pageup' ? -page : 0;
}

const KEYS: { [K in Kind]: Keys<K> } = {
  help: (_overlay, _event, { actions }) => actions.closeOverlay(),
  // While it runs, only Ctrl+C (answered above) and its question; once it has ended, not any
  // key: one typed ahead while it ran must not dismiss its result unread.
  operation: (_overlay, { name }, state) => {
    const view = state.operation;
    if (view?.asking) {
      if (name === 's') state.actions.answerInterrupt('stop');
      else if (name === 'r') state.actions.answerInterrupt('rollback');
      else if (name === 'k' || name === 'escape') state.actions.answerInterrupt('wait');
      return;
    }
    if (view?.result && ['escape', 'return', 'q', ' '].includes(name)) state.actions.closeOperation();
  },
  text: (overlay, { name }, { actions }, ctx) => {
    const lines = overlay.text.split('\n').length;
    const step = scrollStep(name, ctx.pageSize());
    if (step !== 0) actions.updateOverlay({ scroll: Math.max(0, Math.min(lines - 1, overlay.scroll + step)) });
    else if (name === 'E' && overlay.unit) {
      const { host, name: unit } = overlay.unit;
      actions.openOverlay({ kind: 'prompt', label: `override a setting of ${unit}: one Key=Value (the whole line is the value, spaces and all); "-" removes opsdeck's override`, text: '', purpose: { kind: 'override', host, unit } });
    } else if (['escape', 'return', 'q'].includes(name)) actions.closeOverlay();
  },
  prompt: (overlay, event, { actions }) => {
    if (event.name === 'escape') return actions.closeOverlay();
    if (event.name === 'return') {
      const text = overlay.text.trim();
      if (!text) return actions.closeOverlay();
      actions.closeOverlay();
      void actions.proposeOverride(overlay.purpose.host, overlay.purpose.unit, text);
      return;
    }
    const text = edited(overlay.text, event);
    if (text !== null) actions.updateOverlay({ text: text.slice(0, 500) });
  },
  // A protected target wants its name typed, then Enter; others want y. Never a bare Esc to run.
  // Nothing is confirmed before the preview is there to read, nor by a key that came pasted
  // (a "y" or an Enter in a paste, or typed ahead over a slow link, is not a decision).
  confirm: (overlay, event, { actions }, ctx) => {
    const { name } = event;
    if (name === 'escape') return actions.closeOverlay();
    if (event.pasted && (name === 'return' || name === 'y' || name === 'Y')) {
      actions.notify('a pasted key does not confirm: press it on its own', 'warn');
      return;
    }
    const step = scrollStep(name === 'j' || name === 'k' ? '' : name, ctx.pageSize());
    if (step !== 0) return actions.updateOverlay({ scroll: Math.max(0, overlay.scroll + step) });
    if (!overlay.preview) return;
    const phrase = requiredPhrase(overlay.op);
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
