// Push a key handler onto the stack while the component is mounted and `active`; it leaves the
// stack on unmount or when `active` turns false. The latest handler function is always the one
// called (a re-render does not move it in the stack). Pushed in a layout effect: in place as
// soon as the render that mounted it is committed, before the next input is read.
import { useLayoutEffect, useRef } from 'react';
import type { KeyHandler } from './handler-stack.js';
import { useHandlerStack } from './KeypressProvider.js';

export interface KeyHandlerOptions {
  /** KeyPriority.* (handler-stack.ts): higher sees keys first. */
  priority: number;
  /** Default true. */
  active?: boolean;
}

export function useKeyHandler(handler: KeyHandler, { priority, active = true }: KeyHandlerOptions): void {
  const stack = useHandlerStack();
  const latest = useRef(handler);
  useLayoutEffect(() => {
    latest.current = handler;
  });
  useLayoutEffect(() => {
    if (!active) return;
    return stack.push((event) => latest.current(event), priority);
  }, [stack, priority, active]);
}
