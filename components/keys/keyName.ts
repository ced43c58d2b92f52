// Ink's (input, key) pair as one name the keymap understands: "j", "G", "ctrl+r", "shift+tab".
import type { Key } from 'ink';

export function keyName(input: string, key: Key): string {
  if (key.upArrow) return 'up';
  if (key.downArrow) return 'down';
  if (key.leftArrow) return 'left';
  if (key.rightArrow) return 'right';
  if (key.pageUp) return 'pageup';
  if (key.pageDown) return 'pagedown';
  if (key.home) return 'home';
  if (key.end) return 'end';
  if (key.tab) return key.shift ? 'shift+tab' : 'tab';
  if (key.return) return 'return';
  if (key.escape) return 'escape';
  if (key.backspace || key.delete) return 'backspace';
  if (key.ctrl && input) return `ctrl+${input.toLowerCase()}`;
  return input;
}

/** Printable text to insert into a text field (filters, palette, typed confirmation). */
export function printable(input: string, key: Key): string {
  if (key.ctrl || key.meta || key.escape || key.return || key.tab || key.backspace || key.delete) return '';
  // Strip anything that is not a printable character (a paste may carry controls).
  return input.replace(/[\x00-\x1f\x7f-\x9f]/g, '');
}

/** A text field's answer to a key: its text after Backspace or typed characters, or null when
 *  the key does not edit text (Enter, Esc, arrows…: the field decides what those do). */
export function edited(text: string, event: { input: string; key: Key; name: string }): string | null {
  if (event.name === 'backspace') return text.slice(0, -1);
  const typed = printable(event.input, event.key);
  return typed ? text + typed : null;
}
