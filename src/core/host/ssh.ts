// The ssh transport: OpenSSH with BatchMode and one shared ControlMaster connection per host.
// The remote side hands the command to a shell, so every argument is single-quoted there.
import { execa } from 'execa';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { CommandError, trimStderr } from '../text/errors.js';
import { BaseHost, STABLE_ENV, firstLine, shellQuote } from './host.js';

export interface SshHostConfig {
  /** Address or ~/.ssh/config alias; defaults to the host's name. */
  address?: string | undefined;
  port?: number | undefined;
  user?: string | undefined;
  identityFile?: string | undefined;
  knownHostsFile?: string | undefined;
  connectTimeoutSec?: number | undefined;
}


export class SshHost extends BaseHost {
  private readonly controlDir: string;
  constructor(
    name: string,
    readonly config: SshHostConfig = {},
  ) {
    super(name, 'ssh');
    this.controlDir = sshControlDir();
  }

  private target(): string {
    return this.config.address ?? this.name;
  }

  sshOptions(): string[] {
    const c = this.config;
    const opts = [
      '-o', 'BatchMode=yes',
      '-o', `ConnectTimeout=${c.connectTimeoutSec ?? 5}`,
      '-o', 'ControlMaster=auto',
      // One master per opsdeck process: a script's `opsdeck status` closing its connection
      // must never cut the one a console is following the journal over.
      '-o', `ControlPath=${path.join(this.controlDir, `%C-${process.pid}`)}`,
      '-o', 'ControlPersist=60',
      '-o', 'ServerAliveInterval=5',
      '-o', 'ServerAliveCountMax=3',
      '-o', 'LogLevel=ERROR',
    ];
    if (c.port !== undefined) opts.push('-p', String(c.port));
    if (c.user !== undefined) opts.push('-l', c.user);
    if (c.identityFile !== undefined) opts.push('-i', c.identityFile, '-o', 'IdentitiesOnly=yes');
    if (c.knownHostsFile !== undefined) opts.push('-o', `UserKnownHostsFile=${c.knownHostsFile}`, '-o', 'StrictHostKeyChecking=yes');
    return opts;
  }

  wrap(argv: readonly string[]): string[] {
    const env = Object.entries(STABLE_ENV).map(([k, v]) => `${k}=${v}`);
    const remote = ['env', ...env, ...argv].map(shellQuote).join(' ');
    // `--` ends ssh's options, so a host name can never be read as one.
    return ['ssh', ...this.sshOptions(), '--', this.target(), remote];
  }

  protected override transportFailure(argv: readonly string[], exitCode: number, stderr: string): CommandError | undefined {
    if (exitCode !== 255) return undefined;
    return new CommandError({
      kind: 'unreachable',
      host: this.name,
      argv,
      exitCode,
      stderr: trimStderr(stderr),
      message: `cannot reach host ${this.name} over ssh: ${firstLine(trimStderr(stderr)) || 'connection failed'}`,
      hint: `check that \`ssh ${this.target()}\` works without a password prompt (opsdeck uses BatchMode)`,
    });
  }

  /** The master runs on its own (ControlPersist): ending ours is asking it to exit, which also ends its remote sessions. */
  private exitArgv(): string[] {
    return [...this.sshOptions(), '-O', 'exit', '--', this.target()];
  }

  override async close(): Promise<void> {
    // Ask the shared master connection to exit; fine if there is none.
    await execa('ssh', this.exitArgv(), { reject: false, stdin: 'ignore', timeout: 3000 });
  }

  override closeSync(): void {
    // SIGTERM/SIGHUP: the process exits right after, so an asynchronous close would never
    // happen and the master (and a remote `journalctl -f`) would linger for ControlPersist.
    spawnSync('ssh', this.exitArgv(), { stdio: 'ignore', timeout: 2000 });
  }
}

function sshControlDir(): string {
  const base = process.env.XDG_RUNTIME_DIR ?? path.join(homedir(), '.cache');
  const dir = path.join(base, 'opsdeck', 'ssh');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}
