// Environment= variables that look like secrets (API_TOKEN=…, a ghp_… value, a URL with a
// password): their name and a redacted value only. Anything in Environment= is readable by
// every local user (`systemctl show`), so the doctor points them out; the raw value never
// leaves this function, so no status, finding or JSON can carry it.
import { sanitizeLine } from '../text/sanitize.js';

export type SecretVar = { name: string; redacted: string };

/** Names that say "secret": *_TOKEN, *_SECRET, PASSWORD, *_API_KEY, … (a digit suffix allowed: TOKEN2). */
const SECRET_NAME = /(?:^|_)(?:TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIALS?|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|SECRET_?KEY)\d*$/i;
/** A plain *_KEY is weaker (CACHE_KEY=users): only with a value that is not a plain word. */
const KEY_NAME = /(?:^|_)KEY\d*$/i;
/** Names whose long hex or base64 values are identifiers, not secrets (GIT_COMMIT=9f…, BUILD_ID=…). */
const IDENTIFIER_NAME = /(?:SHA\d*|COMMIT|HASH|REV|REVISION|VERSION|ID|UUID|CHECKSUM|DIGEST|FINGERPRINT)$/i;
/** Token formats with a known prefix: GitHub, GitLab, OpenAI/Stripe, Slack, AWS, Google, Hugging Face, npm, SendGrid. */
const KNOWN_PREFIX = /^(?:gh[pousr]_|github_pat_|glpat-|sk-|sk_live_|sk_test_|rk_live_|xox[abposr]-|xapp-|AKIA|ASIA|AIza|hf_|npm_|SG\.)[A-Za-z0-9_\-.]{12,}$/;
const JWT = /^eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}$/;
/** scheme://user:password@host… */
const URL_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/:@\s]*:[^/@\s]+@/i;
const HEX = /^[0-9a-f]{32,}$/i;
const BASE64 = /^[A-Za-z0-9+/_-]{32,}={0,2}$/;
/** Values no one would call a secret: a path, a number, a boolean, a host:port. */
const INNOCENT = /^(?:\/.*|-?\d+(?:\.\d+)?|true|false|yes|no|on|off|[\w.-]+:\d+)$/i;

/** Bits per character, as the value's own letter frequencies give them. */
function entropy(value: string): number {
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / value.length) * Math.log2(n / value.length);
  return bits;
}

/** Does the value alone look like a key or a token? */
function looksLikeToken(name: string, value: string): boolean {
  if (KNOWN_PREFIX.test(value) || JWT.test(value) || URL_PASSWORD.test(value)) return true;
  if (IDENTIFIER_NAME.test(name)) return false;
  if (HEX.test(value)) return entropy(value) >= 3;
  return BASE64.test(value) && /[A-Z]/.test(value) && /[a-z]/.test(value) && /\d/.test(value) && entropy(value) >= 4.2;
}

function looksSecret(name: string, value: string): boolean {
  if (value === '' || INNOCENT.test(value)) return false;
  if (SECRET_NAME.test(name)) return true;
  if (KEY_NAME.test(name) && !/^[a-z][a-z_.-]*$/i.test(value)) return true;
  return looksLikeToken(name, value);
}

/** The first few characters, then "…": 4 of a long value, 2 of a shorter one, none of a short one. */
export function redact(value: string): string {
  const shown = value.length >= 16 ? 4 : value.length >= 8 ? 2 : 0;
  return `${sanitizeLine(value.slice(0, shown))}…`;
}

/** Of `NAME=value` assignments (Environment= as `systemctl show` gives it), those that look like secrets, redacted. */
export function secretEnvOf(assignments: readonly string[]): SecretVar[] {
  return assignments.flatMap((assignment) => {
    const eq = assignment.indexOf('=');
    if (eq <= 0) return [];
    const name = assignment.slice(0, eq);
    const value = assignment.slice(eq + 1);
    return looksSecret(name, value) ? [{ name: sanitizeLine(name), redacted: redact(value) }] : [];
  });
}

/**
 * A line of text that may quote a unit file (systemd-analyze verify: "Invalid syntax, ignoring:
 * API_TOKEN=sk-…"), with every NAME=value that looks secret, and every bare token, redacted.
 */
export function redactSecretsIn(line: string): string {
  return line.replace(/\S+/g, (word) => {
    const assignment = /^(["']?)([A-Za-z_][A-Za-z0-9_]*)=(.*?)(["']?)$/.exec(word);
    if (assignment) {
      const [, open, name, value, close] = assignment as unknown as [string, string, string, string, string];
      return looksSecret(name, value) ? `${open}${name}=${redact(value)}${close}` : word;
    }
    return looksLikeToken('', word.replace(/^["']|["',.;:]$/g, '')) ? redact(word) : word;
  });
}

/** Environment='s words: "quoted ones" (which may hold spaces) and bare ones, with their spacing kept. */
const ENV_WORD = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;

/**
 * A unit file as `systemctl cat` prints it, with Environment= values that look secret redacted
 * (and bare tokens elsewhere, as redactSecretsIn does): the unit file view shows what the doctor
 * reports as a secret no more than the doctor does.
 */
export function redactUnitFile(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      const env = /^(\s*Environment\s*=\s*)(.*)$/.exec(line);
      if (!env) return redactSecretsIn(line);
      const words = env[2]!.replace(ENV_WORD, (word, doubleQuoted: string | undefined, singleQuoted: string | undefined, bare: string | undefined) => {
        const assignment = doubleQuoted ?? singleQuoted ?? bare ?? '';
        const eq = assignment.indexOf('=');
        if (eq <= 0 || !looksSecret(assignment.slice(0, eq), assignment.slice(eq + 1))) return word;
        const redacted = `${assignment.slice(0, eq)}=${redact(assignment.slice(eq + 1))}`;
        return doubleQuoted !== undefined ? `"${redacted}"` : singleQuoted !== undefined ? `'${redacted}'` : redacted;
      });
      return `${env[1]}${words}`;
    })
    .join('\n');
}
