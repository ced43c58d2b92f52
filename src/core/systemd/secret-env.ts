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
const INNOCENT = /^(?:[-+!]*\/.*|-?\d+(?:\.\d+)?|true|false|yes|no|on|off|[\w.-]+:\d+)$/i;

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

/** Environment='s words: bare characters and quoted stretches ("a b", 'c d'), as systemd splits them. */
const ENV_WORD = /(?:[^\s"']+|"(?:[^"\\]|\\.)*"|'[^']*')+/g;
const unquote = (word: string) => word.replace(/"((?:[^"\\]|\\.)*)"|'([^']*)'/g, (_m, d: string | undefined, q: string | undefined) => d ?? q ?? '');
/** systemd's specifiers (%d/token: the credentials directory): they name a value, they do not hold it. ($VAR is not expanded in Environment=: a literal.) */
const SPECIFIER = /^%[A-Za-z]/;
/** What redact() left: done already (a finding's title naming a secret it found). */
const REDACTED = /…[,.;:)\]}"']*$/;
/** A token of a known format wherever it stands ("key":"ghp_…"). */
const TOKEN_ANYWHERE = new RegExp(`(?<![A-Za-z0-9_])${KNOWN_PREFIX.source.replace(/^\^/, '').replace(/\$$/, '')}`, 'g');
/** Quotes and brackets around a word in prose or JSON ("ghp_…"}, (TOKEN=x), 'y',). */
const trimWord = (word: string) => word.replace(/^[\[{("'`]+/, '').replace(/[,.;:)\]}"'`]+$/, '');

/** One word, redacted when it is NAME=value or --name=value with a secret-looking value, or a token on its own (a known format, a JWT, a URL with a password). */
function redactWord(word: string, plain: string): string {
  if (REDACTED.test(plain)) return word;
  const assignment = /^(-{0,2})([A-Za-z_][A-Za-z0-9_-]*)=(.*)$/s.exec(plain);
  if (assignment) {
    const [, dashes, name, value] = assignment as unknown as [string, string, string, string];
    return SPECIFIER.test(value) || !looksSecret(name.replace(/-/g, '_'), value) ? word : `${dashes}${name}=${redact(value)}`;
  }
  return KNOWN_PREFIX.test(plain) || JWT.test(plain) || URL_PASSWORD.test(plain) ? redact(plain) : word;
}

/**
 * A line of text that may quote a unit file or a service's own words (systemd-analyze verify:
 * "Invalid syntax, ignoring: API_TOKEN=sk-…"; a journal line; a command line), with every
 * NAME=value or --name=value that looks secret, and every token on its own, redacted. Words are
 * what whitespace separates: a quote in prose never joins two of them.
 */
export function redactSecretsIn(line: string): string {
  return line
    .replace(/\S+/g, (word) => {
      const plain = trimWord(word);
      const redacted = redactWord(plain, plain);
      return redacted === plain ? word : word.replace(plain, redacted);
    })
    .replace(TOKEN_ANYWHERE, redact); // inside a word too: JSON, key:value
}

/** An Environment= line's value, word by word as systemd splits it (a quoted value may hold spaces). */
function redactEnvironment(value: string): string {
  return value.replace(ENV_WORD, (word) => {
    const redacted = redactWord(word, unquote(word));
    return redacted === word ? word : /^["']/.test(word) ? `"${redacted}"` : redacted;
  });
}

/**
 * A unit file as `systemctl cat` prints it, with what looks secret redacted: Environment= values
 * (quoted or bare), SetCredential= data, tokens anywhere. The unit file view shows what the
 * doctor reports as a secret no more than the doctor does.
 */
export function redactUnitFile(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      const credential = /^(\s*SetCredential(?:Encrypted)?\s*=\s*[^:\s]+:)(.+)$/.exec(line);
      if (credential) return `${credential[1]}${redact(credential[2]!.trim())}`;
      const env = /^(\s*Environment\s*=\s*)(.*)$/.exec(line);
      return env ? `${env[1]}${redactEnvironment(env[2]!)}` : redactSecretsIn(line);
    })
    .join('\n');
}
