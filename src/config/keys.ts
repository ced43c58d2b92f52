// The names of keys the console understands, as the config's `keys:` overrides write them and
// components/keys/keyName.ts produces them: one printable character ("q", "G", "?"), a named
// key, or ctrl+ a character. Kept here so a config error can say which binding is wrong.
const NAMED = ['up', 'down', 'left', 'right', 'pageup', 'pagedown', 'home', 'end', 'tab', 'shift+tab', 'return', 'escape', 'backspace'] as const;

/** Ctrl+C cancels and quits: it cannot be taken by another command. */
const RESERVED_KEYS: readonly string[] = ['ctrl+c'];

/** Whether `key` is one no command can be bound to (the config's check and buildKeymap's). */
export function isReservedKey(key: string): boolean {
  return RESERVED_KEYS.includes(key);
}

/** "j, down" -> ["j", "down"]: the keys a binding lists, as the config and buildKeymap read it. */
export function splitKeys(value: string): string[] {
  return value.split(',').map((k) => k.trim()).filter(Boolean);
}

function isKeyName(name: string): boolean {
  if ((NAMED as readonly string[]).includes(name)) return true;
  if (/^ctrl\+[a-z0-9[\]\\^_]$/.test(name)) return true;
  // One printable character (a space is not a key name anyone can read in a config).
  return [...name].length === 1 && !/[\s\x00-\x1f\x7f-\x9f]/.test(name);
}

/** "ctrl+t" or "j, down": the keys of one binding, or why it is not one. */
export function parseKeyBinding(value: string): { keys: string[] } | { error: string } {
  const keys = splitKeys(value);
  if (keys.length === 0) return { error: 'an empty binding would leave the command without a key' };
  const bad = keys.find((k) => !isKeyName(k));
  if (bad !== undefined) return { error: `${JSON.stringify(bad)} is not a key name (one character such as "q" or "G", ctrl+LETTER, or ${NAMED.join(', ')})` };
  const reserved = keys.find(isReservedKey);
  if (reserved) return { error: `${reserved} is reserved (it cancels, and pressed twice quits)` };
  return { keys };
}
