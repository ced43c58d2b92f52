// The key handler stack (the gemini-cli pattern): handlers by priority, each returning true when
// it consumed the key. A key goes to the highest priority first and down until one consumes
// it; of equal priorities the one pushed last goes first, so a view pushed on top of another
// answers before it. Pure: the provider (KeypressProvider.tsx) feeds it keys, components push
// handlers onto it with useKeyHandler.
import type { Key } from 'ink';

export interface KeyEvent {
  /** The character Ink read for this key ('' for special keys such as arrows or Enter). */
  input: string;
  key: Key;
  /** The keymap's name for it: "j", "G", "ctrl+r", "shift+tab", "return", "escape". */
  name: string;
  /** Split out of a chunk of several characters (pasted, or typed fast over a slow link). */
  pasted: boolean;
}

/** Returns true when it consumed the key: handlers below it never see it. */
export type KeyHandler = (event: KeyEvent) => boolean;

/** The console's priorities, highest first. Views (an operation view, a wizard screen) sit at
 *  `view`: above the keymap, below dialogs and text being typed. */
export const KeyPriority = {
  /** The terminal is too small to show what a key would do: only Ctrl+C and quit act. */
  guard: 100,
  /** Ctrl+C: cancels or quits whatever is open. */
  interrupt: 90,
  /** The open overlay (confirm dialog, palette, help, text, result, running). */
  dialog: 50,
  /** Text being typed: the logs prompt, a filter. */
  prompt: 40,
  view: 20,
  /** The command registry (commands.ts). */
  keymap: 0,
} as const;

export interface HandlerStack {
  /** Adds a handler; returns the function that removes it. */
  push(handler: KeyHandler, priority: number): () => void;
  /** Offers the key to the handlers in order; true if one consumed it. */
  dispatch(event: KeyEvent): boolean;
}

interface Entry {
  handler: KeyHandler;
  priority: number;
  order: number;
  removed: boolean;
}

export function createHandlerStack(): HandlerStack {
  let entries: Entry[] = [];
  let pushed = 0;
  return {
    push(handler, priority) {
      const entry: Entry = { handler, priority, order: pushed++, removed: false };
      entries = [...entries, entry].sort((a, b) => b.priority - a.priority || b.order - a.order);
      return () => {
        entry.removed = true;
        entries = entries.filter((e) => e !== entry);
      };
    },
    dispatch(event) {
      // A handler may push or remove handlers (open or close a view): this key still goes to
      // the handlers as they were when it arrived, except those removed meanwhile.
      for (const entry of entries) if (!entry.removed && entry.handler(event)) return true;
      return false;
    },
  };
}
