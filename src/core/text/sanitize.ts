// Text from the system (log lines, unit descriptions, HTTP bodies, command lines) is
// untrusted: it must never drive the terminal. Strip escape sequences (CSI, OSC incl.
// window titles, hyperlinks and clipboard writes, DCS/APC/PM/SOS strings), C0/C1 controls,
// bidi overrides, zero-width characters and the invisible Hangul fillers (U+115F, U+1160,
// U+3164, U+FFA0: blank glyphs whose width terminals disagree on, so they would shift columns
// or hide text). Tabs become spaces so columns stay aligned.

// ESC-introduced sequences: OSC/DCS/SOS/PM/APC strings (terminated by BEL or ST), CSI, and
// two-character escapes. 8-bit C1 forms (0x9B CSI, 0x9D OSC, ...) are handled the same way.
const STRING_SEQUENCE = /(?:\x1b[\]P^_X]|[\x90\x98\x9d\x9e\x9f])[\s\S]*?(?:\x07|\x1b\\|\x9c|$)/g;
const CSI_SEQUENCE = /(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?/g;
const OTHER_ESCAPE = /\x1b[\x20-\x2f]*[\x30-\x7e]?/g;
// What the sanitizer strips, written once as the parts of a character class: C0 but tab and
// newline; DEL and C1; bidi embeddings/overrides/isolates, zero-width and BOM; Hangul fillers.
const C0 = String.raw`\x00-\x08\x0b-\x1f`;
const DEL_AND_C1 = String.raw`\x7f-\x9f`;
const INVISIBLE = String.raw`\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff`;
// Stripped when shown, but on purpose neither refused in a config value nor escaped when quoted.
const HANGUL_FILLERS = String.raw`\u115f\u1160\u3164\uffa0`;
const UNSAFE = `${C0}${DEL_AND_C1}${INVISIBLE}${HANGUL_FILLERS}`;
const HAS_UNSAFE = new RegExp(`[${UNSAFE}]`);
const CONTROL = new RegExp(`[${UNSAFE}]`, 'g');

/** Make one line of untrusted text safe to print: no escapes, no controls, no newlines. */
export function sanitizeLine(text: string): string {
  return stripUnsafe(text).replace(/\t/g, '    ').replace(/\n/g, ' ');
}

/** Like sanitizeLine but keeps newlines (for multi-line blocks such as a unit file). */
export function sanitizeBlock(text: string): string {
  return stripUnsafe(text).replace(/\t/g, '    ');
}

function stripUnsafe(text: string): string {
  if (!HAS_UNSAFE.test(text)) return text;
  return text.replace(STRING_SEQUENCE, '').replace(CSI_SEQUENCE, '').replace(OTHER_ESCAPE, '').replace(/\r\n?/g, '\n').replace(CONTROL, '');
}

/** What the sanitizer strips, the Hangul fillers aside. */
const UNSAFE_IN_CONFIG = new RegExp(`[${C0}${DEL_AND_C1}${INVISIBLE}]`);

/**
 * The first character the sanitizer would strip from `text` (tabs and newlines aside), or null.
 * Config values are refused with it rather than cleaned: an escape sequence in a description is
 * a mistake or an attack, and either way the operator should hear of it where it is written.
 */
export function firstUnsafeCharacter(text: string): string | null {
  return UNSAFE_IN_CONFIG.exec(text)?.[0] ?? null;
}

/** "U+001B" for a character, as an error message names it. */
export function codePointName(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** What JSON.stringify leaves as it is (it escapes C0) and the sanitizer strips, the Hangul fillers aside. */
const UNESCAPED_UNSAFE = new RegExp(`[${DEL_AND_C1}${INVISIBLE}]`, 'g');

/**
 * Untrusted text quoted for an error message: JSON string syntax, with every character the
 * sanitizer would strip (the Hangul fillers aside) written as \uXXXX (JSON.stringify leaves C1
 * controls and bidi overrides as they are), so the message shows what was there without
 * letting it act.
 */
export function quoteUntrusted(text: string): string {
  return JSON.stringify(text).replace(UNESCAPED_UNSAFE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
