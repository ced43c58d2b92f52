// Ctrl+C and quitting: Ctrl+C stops the first running job it is given (an action, the journal
// tail); with none running it arms quitting, and a second press soon after quits.
import type { Canceller, QuitActions, Slice, SliceContext } from './types.js';

const QUIT_WINDOW_MS = 1500;

/** `cancellers` in the order Ctrl+C tries them. */
export function createQuitSlice({ set, get, now, notify }: SliceContext, cancellers: readonly Canceller[]): Slice<'quitArmedAt' | 'quitRequested', QuitActions> {
  const actions: QuitActions = {
    interrupt() {
      for (const cancel of cancellers) if (cancel()) return;
      const armed = get().quitArmedAt;
      if (armed !== null && now() - armed < QUIT_WINDOW_MS) {
        actions.requestQuit();
        return;
      }
      set({ quitArmedAt: now() });
      notify('nothing to cancel: press Ctrl+C again to quit', 'info');
    },
    requestQuit() {
      set({ quitRequested: true });
    },
  };
  return { state: { quitArmedAt: null, quitRequested: false }, actions };
}
