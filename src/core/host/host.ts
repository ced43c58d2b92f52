// Host: the one way opsdeck runs a command. Three transports share one interface:
//   local  - the command runs on this machine (here);
//   lab    - it runs inside the embedded lab's namespaces (host-lab.ts);
//   ssh    - it runs on a remote machine over OpenSSH (host-ssh.ts).
// Commands are argv arrays, never a local shell; every child is its own process group, killed
// as a whole on timeout, cancel or exit.
import { spawn } from 'node:child_process';
import { execa } from 'execa';
import path from 'node:path';
import { CommandError, trimStderr } from '../text/errors.js';
import { isShuttingDown, killGroup, trackGroup, untrackGroup } from './children.js';

export type Transport = 'local' | 'lab' | 'ssh';

export interface RunOptions {
  /** Kill the command after this long (default 15 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  input?: string | Buffer;
  /** Exit codes that are answers, not failures (e.g. `systemctl is-active` gives 3). */
  okExitCodes?: readonly number[];
  /** Kill the command once stdout and stderr together pass this many bytes (default 64 MiB): a
   *  CommandError saying so. Bounds what an endless producer can cost. */
  maxOutputBytes?: number;
}

export interface RunResult {
  argv: readonly string[];
  exitCode: number;
  stdout: string;
  /** stdout exactly as the command wrote it (for byte counts, binary data, names that are not UTF-8). */
  stdoutBytes: Buffer;
  stderr: string;
  durationMs: number;
}

export interface StreamOptions {
  signal?: AbortSignal;
  /** 'pipe': the handle's `stdin` takes what the command reads (an archive for tar, say). */
  stdin?: 'ignore' | 'pipe';
  /** Keep this many bytes of stderr's end, as written (default: its last lines, trimmed for a message). */
  keepStderrBytes?: number;
}

export interface StreamHandle {
  /** The child's stdout as bytes; the consumer splits lines (progressLines() splits on \r too). */
  stdout: NodeJS.ReadableStream;
  /** What the command reads, with `stdin: 'pipe'`. */
  stdin: NodeJS.WritableStream | null;
  /** Resolves when the command ends, however it ends (never rejects). */
  done: Promise<{ exitCode: number | undefined; stderr: string; canceled: boolean }>;
  stop(): void;
}

export interface Host {
  readonly name: string;
  readonly transport: Transport;
  run(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
  stream(argv: readonly string[], options?: StreamOptions): StreamHandle;
  /** The argv this machine actually executes for `argv` (for previews and the audit log). */
  wrap(argv: readonly string[]): string[];
  /** What a failed command means on this host (tool missing, host unreachable, lab gone), or undefined when the exit code is the command's own answer. */
  failure(argv: readonly string[], exitCode: number | undefined, stderr: string): CommandError | undefined;
  /** How many processes this host has spawned (benchmarks count them per refresh). */
  readonly stats: { spawned: number };
  close(): Promise<void>;
  /** The same, from a signal handler that exits right after: blocks for at most a moment. */
  closeSync(): void;
}

const DEFAULT_TIMEOUT_MS = 15_000;

/** Output that parsers can rely on: no colour, no pager, no locale surprises. */
export const STABLE_ENV: Readonly<Record<string, string>> = {
  LC_ALL: 'C',
  // Times a tool prints as text (systemctl show's timer properties) are in UTC, so they parse exactly.
  TZ: 'UTC0',
  SYSTEMD_COLORS: '0',
  SYSTEMD_PAGER: '',
  SYSTEMD_URLIFY: '0',
  SYSTEMD_LESS: '',
  PAGER: 'cat',
};

export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** What every transport shares: spawning, timeouts, cancellation, error classification. */
export abstract class BaseHost implements Host {
  readonly stats = { spawned: 0 };
  constructor(
    readonly name: string,
    readonly transport: Transport,
  ) {}

  abstract wrap(argv: readonly string[]): string[];

  /** Turn a failed spawn or a transport-level exit code into an error, or undefined if it is the command's own answer. */
  protected classify(argv: readonly string[], exitCode: number | undefined, stderr: string, spawnError?: NodeJS.ErrnoException): CommandError | undefined {
    const tool = argv[0] ?? '';
    // 127 is "command not found" from a remote shell, nsenter and env alike.
    if (spawnError?.code === 'ENOENT' || exitCode === 127) {
      const wrapped = this.wrap(argv)[0] ?? tool;
      const missing = spawnError?.code === 'ENOENT' ? wrapped : tool;
      return new CommandError({
        kind: 'missing-tool',
        host: this.name,
        argv,
        exitCode,
        stderr: trimStderr(stderr),
        message: `\`${missing}\` is not installed on host ${this.name} (or not on its PATH)`,
        hint: `install it there, e.g. \`apt-get install -y ${packageFor(missing)}\``,
      });
    }
    return undefined;
  }

  failure(argv: readonly string[], exitCode: number | undefined, stderr: string, spawnError?: NodeJS.ErrnoException): CommandError | undefined {
    return this.classify(argv, exitCode, stderr, spawnError) ?? this.transportFailure(argv, exitCode ?? -1, stderr);
  }

  async run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    if (argv.length === 0) throw new Error('Host.run: empty argv');
    if (isShuttingDown()) throw new CommandError({ host: this.name, argv, message: 'opsdeck is exiting: no new command is started' });
    const full = this.wrap(argv);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const started = performance.now();
    this.stats.spawned++;
    const child = spawnCollecting(full, options.input, options.maxOutputBytes ?? MAX_OUTPUT);
    const pid = child.pid;
    if (pid !== undefined) trackGroup(pid);
    let timedOut = false;
    let aborted = false;
    const kill = () => {
      if (pid !== undefined) killGroup(pid);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs);
    const onAbort = () => {
      aborted = true;
      kill();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    const result = await child.done;
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    if (pid !== undefined) untrackGroup(pid);

    const { stdout, stdoutBytes, stderr } = result;
    const exitCode = result.exitCode ?? -1;
    const durationMs = Math.round(performance.now() - started);
    const base = { host: this.name, argv, stderr: trimStderr(stderr) };
    if (timedOut) {
      throw new CommandError({
        ...base,
        kind: 'timeout',
        message: `\`${argv.join(' ')}\` on host ${this.name} did not finish within ${formatSeconds(timeoutMs)}`,
        hint: this.transport === 'local' ? 'the system may be overloaded' : `check that host ${this.name} is up and reachable`,
      });
    }
    if (aborted) {
      throw new CommandError({ ...base, message: `\`${argv.join(' ')}\` on host ${this.name} was cancelled` });
    }
    if (result.outputExceeded) {
      throw new CommandError({ ...base, message: `\`${argv.join(' ')}\` on host ${this.name} wrote more than ${options.maxOutputBytes ?? MAX_OUTPUT} bytes and was stopped` });
    }
    const spawnError = result.spawnError === 'ENOENT' ? ({ code: 'ENOENT' } as NodeJS.ErrnoException) : undefined;
    const failure = this.failure(argv, result.exitCode ?? undefined, stderr, spawnError);
    if (failure) throw failure;
    const ok = options.okExitCodes ?? [0];
    if (!ok.includes(exitCode)) {
      throw new CommandError({
        ...base,
        exitCode,
        message: `\`${argv.join(' ')}\` failed on host ${this.name} (exit code ${exitCode})${base.stderr ? `: ${firstLine(base.stderr)}` : ''}`,
      });
    }
    return { argv, exitCode, stdout, stdoutBytes, stderr, durationMs };
  }

  /** Errors of the transport itself (ssh could not connect, the lab is gone). */
  protected transportFailure(_argv: readonly string[], _exitCode: number, _stderr: string): CommandError | undefined {
    return undefined;
  }

  stream(argv: readonly string[], options: StreamOptions = {}): StreamHandle {
    if (isShuttingDown()) throw new CommandError({ host: this.name, argv, message: 'opsdeck is exiting: no new command is started' });
    const full = this.wrap(argv);
    this.stats.spawned++;
    const child = execa(full[0]!, full.slice(1), {
      reject: false,
      detached: true,
      buffer: false,
      stdin: options.stdin ?? 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
      env: STABLE_ENV,
      extendEnv: true,
    });
    const pid = child.pid;
    if (pid !== undefined) trackGroup(pid);
    let canceled = false;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-(options.keepStderrBytes ?? 4096));
    });
    const stop = () => {
      canceled = true;
      if (pid !== undefined) killGroup(pid);
    };
    options.signal?.addEventListener('abort', stop, { once: true });
    const done = child.then(
      (result) => {
        if (pid !== undefined) untrackGroup(pid);
        options.signal?.removeEventListener('abort', stop);
        return { exitCode: typeof result.exitCode === 'number' ? result.exitCode : undefined, stderr: options.keepStderrBytes ? stderr : trimStderr(stderr), canceled };
      },
      () => {
        if (pid !== undefined) untrackGroup(pid);
        return { exitCode: undefined, stderr: options.keepStderrBytes ? stderr : trimStderr(stderr), canceled };
      },
    );
    // A command that exits without reading all it was given must not crash us with EPIPE.
    child.stdin?.on('error', () => undefined);
    return { stdout: child.stdout!, stdin: child.stdin ?? null, done, stop };
  }

  async close(): Promise<void> {}
  closeSync(): void {}
}

export class LocalHost extends BaseHost {
  constructor(name = 'local') {
    super(name, 'local');
  }
  wrap(argv: readonly string[]): string[] {
    return [...argv];
  }
}

const PACKAGES: Record<string, string> = {
  ss: 'iproute2',
  systemctl: 'systemd',
  journalctl: 'systemd',
  nsenter: 'util-linux',
  ssh: 'openssh-client',
  sshd: 'openssh-server',
};

function packageFor(tool: string): string {
  const base = path.basename(tool);
  return PACKAGES[base] ?? base;
}

const MAX_OUTPUT = 64 * 1024 * 1024;

/**
 * Spawn a short command in its own process group and collect its output. node:child_process
 * directly rather than execa: a console left open runs a few commands every refresh, and
 * execa's per-call machinery costs about twice the CPU of the spawn itself (measured 2.9 vs
 * 1.2 ms a call). Long-running streams (journalctl -f) still use execa.
 */
function spawnCollecting(argv: readonly string[], input: string | Buffer | undefined, maxOutput: number) {
  const child = spawn(argv[0]!, argv.slice(1), {
    detached: true,
    env: { ...process.env, ...STABLE_ENV },
    stdio: [input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let size = 0;
  let outputExceeded = false;
  const collect = (into: Buffer[]) => (chunk: Buffer) => {
    size += chunk.length;
    if (size <= maxOutput) into.push(chunk);
    else if (!outputExceeded) {
      outputExceeded = true;
      if (child.pid !== undefined) killGroup(child.pid);
    }
  };
  child.stdout!.on('data', collect(out));
  child.stderr!.on('data', collect(err));
  if (input !== undefined) {
    child.stdin!.on('error', () => undefined); // the command may exit without reading it
    child.stdin!.end(input);
  }
  const done = new Promise<{ exitCode: number | null; stdout: string; stdoutBytes: Buffer; stderr: string; spawnError: string | undefined; outputExceeded: boolean }>((resolve) => {
    let spawnError: string | undefined;
    child.on('error', (error: NodeJS.ErrnoException) => {
      spawnError = error.code;
    });
    child.on('close', (code) => {
      const stdoutBytes = Buffer.concat(out);
      resolve({ exitCode: code, stdout: stdoutBytes.toString('utf8'), stdoutBytes, stderr: Buffer.concat(err).toString('utf8'), spawnError, outputExceeded });
    });
  });
  return { pid: child.pid, done };
}

export function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Lines of a progress stream, split on \n and on \r (rsync --info=progress2, tar --checkpoint
 * and curl redraw one line with \r: each redraw is a line here), from chunks that may cut a
 * line or a UTF-8 sequence anywhere. Lines past `maxLine` characters are cut.
 */
export async function* progressLines(stream: AsyncIterable<Buffer | string>, maxLine = 4096): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  let pending = '';
  for await (const chunk of stream) {
    pending += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    const parts = pending.split(/\r\n|\r|\n/);
    pending = parts.pop() ?? '';
    if (pending.length > maxLine) pending = pending.slice(-maxLine);
    for (const part of parts) if (part !== '') yield part.slice(0, maxLine);
  }
  pending += decoder.decode();
  if (pending !== '') yield pending.slice(0, maxLine);
}

