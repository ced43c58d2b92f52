// The opsdeck.yaml schema. Every field a user can write is here, with its default; the
// loader turns a zod issue into "file:line:column: what is expected".
import { z } from 'zod';

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a name of letters, digits, ".", "_" or "-"');
const absolutePath = z.string().regex(/^\//, 'an absolute path (starting with /)');
const port = z.number().int().min(1).max(65535);

export const hostSchema = z
  .object({
    transport: z.enum(['local', 'ssh', 'lab']).default('ssh'),
    /** ssh: address or ~/.ssh/config alias (default: the host's name). */
    address: z.string().min(1).regex(/^[^-]/, 'an address that does not start with "-"').optional(),
    port: port.optional(),
    user: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, 'a user name').optional(),
    identityFile: absolutePath.optional(),
    knownHostsFile: absolutePath.optional(),
    connectTimeoutSec: z.number().int().min(1).max(120).optional(),
    /** lab: the lab directory. */
    lab: absolutePath.optional(),
    readonly: z.boolean().default(false),
  })
  .strict()
  .superRefine((host, ctx) => {
    if (host.transport === 'lab' && !host.lab) ctx.addIssue({ code: 'custom', path: ['lab'], message: 'a lab host needs `lab: DIR` (the lab directory)' });
  });

export const healthSchema = z
  .object({
    url: z.string().regex(/^https?:\/\//, 'an http:// or https:// URL'),
    timeoutMs: z.number().int().min(100).max(60_000).default(3000),
    expect: z
      .object({
        status: z.number().int().min(100).max(599).optional(),
        version: z.string().optional(),
        json: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
      })
      .strict()
      .optional(),
    rpcUrl: z.string().regex(/^https?:\/\//, 'an http:// or https:// URL').optional(),
    minTools: z.number().int().min(0).optional(),
  })
  .strict();

export const environmentSchema = z
  .object({
    host: name.default('local'),
    unit: z.string().min(1).optional(),
    relatedUnits: z.array(z.string().min(1)).default([]),
    workingDir: absolutePath.optional(),
    dataDir: absolutePath.optional(),
    ports: z.array(port).default([]),
    health: healthSchema.optional(),
    backups: z
      .object({
        dir: absolutePath,
        /** What the backups should contain (normally dataDir). */
        source: absolutePath.optional(),
      })
      .strict()
      .optional(),
    protected: z.boolean().default(false),
    readonly: z.boolean().default(false),
    description: z.string().optional(),
  })
  .strict();

export const configSchema = z
  .object({
    refreshSeconds: z.number().min(0.5).max(3600).default(2),
    /** Lines the console's logs pane keeps in memory (a ring buffer). */
    logBufferLines: z.number().int().min(100).max(2_000_000).default(50_000),
    auditLog: absolutePath.optional(),
    readonly: z.boolean().default(false),
    hosts: z.record(name, hostSchema).default({}),
    environments: z.record(name, environmentSchema).default({}),
    /** Key overrides for the console: command name -> key. */
    keys: z.record(z.string(), z.string()).default({}),
  })
  .strict();

export type HostConfig = z.infer<typeof hostSchema>;
export type EnvironmentConfig = z.infer<typeof environmentSchema>;
export type Config = z.infer<typeof configSchema>;
