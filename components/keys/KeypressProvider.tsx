// The one reader of keys in the app: two components that both read keys can hang Ink 6.8 when
// swapped (ink#943). It owns the one `useInput`, splits what Ink delivers into keys
// (split-keys.ts), and offers each key to the handler stack (handler-stack.ts); components
// push their handlers with useKeyHandler.
//
// The keys of one chunk are offered one after another before React renders again, so a
// component mounted because of a key (a dialog that key opened) has not pushed its handler yet
// when the next key of the same chunk arrives. A mode a key can enter is therefore best served
// by a handler pushed beforehand that reads the store at key time, as the console's are
// (console-keys.ts); `active` is for a component's own lifetime and focus.
import { useInput } from 'ink';
import { createContext, useContext, useState, type ReactNode } from 'react';
import { createHandlerStack, type HandlerStack } from './handler-stack.js';
import { splitKeys } from './split-keys.js';

const HandlerStackContext = createContext<HandlerStack | null>(null);

export interface KeypressProviderProps {
  children: ReactNode;
  /**
   * Asked when a chunk of several keys begins; returns a check asked after each of its keys:
   * true drops the rest of the chunk (a paste must never open a confirmation and answer it).
   */
  chunkGuard?: () => () => boolean;
}

export function KeypressProvider({ children, chunkGuard }: KeypressProviderProps) {
  const [stack] = useState(createHandlerStack);
  useInput((input, key) => {
    const keys = splitKeys(input, key);
    const dropRest = keys.length > 1 && keys[0]!.pasted ? chunkGuard?.() : undefined;
    for (const event of keys) {
      stack.dispatch(event);
      if (dropRest?.()) return;
    }
  });
  return <HandlerStackContext.Provider value={stack}>{children}</HandlerStackContext.Provider>;
}

export function useHandlerStack(): HandlerStack {
  const stack = useContext(HandlerStackContext);
  if (!stack) throw new Error('useKeyHandler outside KeypressProvider');
  return stack;
}
