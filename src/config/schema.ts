// The opsdeck.yaml schema. Every field a user can write is here, with its default; the
// loader turns a zod issue into "file:line:column: what is expected". zod/mini keeps the
// bundle small (the full zod is most of the start-up parse time).
import * as z from 'zod/mini';
import { parseKeyBinding } from './keys.js';

const pattern = (re: RegExp, message: string) => z.string().check(z.regex(re, message));
/**
 * "a whole number from 1 to 65535": a range as every message that asks for a number states it
 * (the config's fields, the CLI's arguments). `max` as it is to be shown, e.g. "1,000,000".
 */
export function describeRange(min: number, max: number | string, whole: boolean): string {
  return `a ${whole ? 'whole ' : ''}number from ${min} to ${max}`;
}

/** A number in a range; out of range, the error names the range. */
const range = (min: number, max: number, whole: boolean) => {
  const expected = describeRange(min, max, whole);
  return (whole ? z.int() : z.number()).check(z.minimum(min, { error: expected }), z.maximum(max, { error: expected }));
};
const int = (min: number, max: number) => range(min, max, true);
const withDefault = <T extends z.ZodMiniType>(schema: T, value: z.output<T>) => z._default(schema, value as never);

const name = pattern(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a name of letters, digits, ".", "_" or "-"');
const absolutePath = pattern(/^\//, 'an absolute path (starting with /)');
const url = pattern(/^https?:\/\//, 'an http:// or https:// URL');
const port = int(1, 65535);

export const hostSchema = z
  .strictObject({
    transport: withDefault(z.enum(['local', 'ssh', 'lab']), 'ssh'),
    /** ssh: address or ~/.ssh/config alias (default: the host's name). */
    address: z.optional(pattern(/^[^-]/, 'an address that does not start with "-"')),
    port: z.optional(port),
    user: z.optional(pattern(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, 'a user name')),
    identityFile: z.optional(absolutePath),
    knownHostsFile: z.optional(absolutePath),
    connectTimeoutSec: z.optional(int(1, 120)),
    /** lab: the lab directory. */
    lab: z.optional(absolutePath),
    readonly: withDefault(z.boolean(), false),
  })
  .check(
    z.superRefine((host, ctx) => {
      if (host.transport === 'lab' && !host.lab) ctx.addIssue({ code: 'custom', path: ['lab'], message: 'a lab host needs `lab: DIR` (the lab directory)' });
    }),
  );

export const healthSchema = z.strictObject({
  url,
  timeoutMs: withDefault(int(100, 60_000), 3000),
  expect: z.optional(
    z.strictObject({
      status: z.optional(int(100, 599)),
      version: z.optional(z.string()),
      json: z.optional(z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]))),
    }),
  ),
  rpcUrl: z.optional(url),
  minTools: z.optional(int(0, 100_000)),
});

/** A systemd calendar expression (OnCalendar=): checked by the host's systemd-analyze when scheduled. */
const calendar = pattern(/^[A-Za-z0-9*\/:.,~ +-]{1,100}$/, 'a systemd calendar expression such as "*-*-* 00/6:00:00" or "daily"');

export const backupPolicySchema = z.strictObject({
  /** Where the archives are written and kept (on the environment's host). */
  dir: absolutePath,
  /** What is archived: the directory the service writes to (default: the environment's dataDir). */
  source: z.optional(absolutePath),
  /** Archive names: PREFIX + YYYYMMDD_HHMMSS (UTC) + .tar.gz or .tar.zst, as the seeds' data-20251002_001300.tar.gz. */
  prefix: withDefault(pattern(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,60}$/, 'a file name prefix of letters, digits, ".", "_" or "-"'), 'data-'),
  /** gzip (default; pigz is used where the host has it) or zstd. */
  compression: withDefault(z.enum(['gzip', 'zstd']), 'gzip'),
  /** Retention: the newest N archives are kept… */
  keepLast: withDefault(int(1, 10_000), 30),
  /** …and the newest of each of the last N days that have one… */
  keepDaily: withDefault(int(0, 10_000), 0),
  /** …and of each of the last N weeks. */
  keepWeekly: withDefault(int(0, 10_000), 0),
  /** When the scheduled backup runs (a systemd OnCalendar= expression; default every 6 hours). */
  schedule: withDefault(calendar, '*-*-* 00/6:00:00'),
  /** opsdeck on that host, for the scheduled backup: its command (argv) and the config it reads there. */
  opsdeck: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(1))),
  hostConfig: z.optional(absolutePath),
});

export const environmentSchema = z.strictObject({
  host: withDefault(name, 'local'),
  unit: z.optional(z.string().check(z.minLength(1))),
  relatedUnits: withDefault(z.array(z.string().check(z.minLength(1))), []),
  workingDir: z.optional(absolutePath),
  dataDir: z.optional(absolutePath),
  ports: withDefault(z.array(port), []),
  health: z.optional(healthSchema),
  backups: z.optional(backupPolicySchema),
  protected: withDefault(z.boolean(), false),
  readonly: withDefault(z.boolean(), false),
  description: z.optional(z.string()),
});

export const configSchema = z.strictObject({
  refreshSeconds: withDefault(range(0.5, 3600, false), 2),
  /** Lines the console's logs pane keeps in memory (a ring buffer). */
  logBufferLines: withDefault(int(100, 2_000_000), 50_000),
  auditLog: z.optional(absolutePath),
  readonly: withDefault(z.boolean(), false),
  hosts: withDefault(z.record(name, hostSchema), {}),
  environments: withDefault(z.record(name, environmentSchema), {}),
  /** Key overrides for the console: command name -> key (or several, comma separated). */
  keys: withDefault(
    z.record(
      z.string(),
      z.string().check(
        z.superRefine((value, ctx) => {
          const parsed = parseKeyBinding(value);
          if ('error' in parsed) ctx.addIssue({ code: 'custom', message: parsed.error, input: value });
        }),
      ),
    ),
    {},
  ),
});

export type HostConfig = z.output<typeof hostSchema>;
export type EnvironmentConfig = z.output<typeof environmentSchema>;
export type Config = z.output<typeof configSchema>;
export type BackupPolicy = z.output<typeof backupPolicySchema>;
