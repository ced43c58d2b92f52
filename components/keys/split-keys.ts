// What Ink delivers as one input, split into the keys the operator pressed. Keys typed fast,
// over a slow link, or pasted can arrive as one chunk ("jr", "y\r"): each character is its own
// key, Enter and Backspace included. Esc then a key, typed quickly or over a slow link, arrives
// as one Alt+key: opsdeck binds no Alt keys, so it is the two keys it was.
import type { Key } from 'ink';
import type { KeyEvent } from './handler-stack.js';
import { keyName } from './keyName.js';

const PLAIN: Key = { upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false, return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false, super: false, hyper: false, capsLock: false, numLock: false };

function event(input: string, key: Key, pasted: boolean): KeyEvent {
  return { input, key, name: keyName(input, key), pasted };
}

const character = (ch: string, pasted: boolean): KeyEvent => event(ch, { ...PLAIN, shift: ch !== ch.toLowerCase() }, pasted);

export function splitKeys(input: string, key: Key): KeyEvent[] {
  const special = Object.entries(key).some(([name, on]) => on && name !== 'shift');
  if (input.length > 1 && !special) {
    return [...input].map((ch) => {
      if (ch === '\r' || ch === '\n') return event('', { ...PLAIN, return: true }, true);
      if (ch === '\x7f' || ch === '\b') return event('', { ...PLAIN, backspace: true }, true);
      return character(ch, true);
    });
  }
  if (key.meta && !key.ctrl && input.length === 1 && !key.escape) return [event('', { ...PLAIN, escape: true }, false), character(input, false)];
  return [event(input, key, false)];
}
