// A Host that plays back what a real host answered: every command's exit code, stdout and
// stderr, and every stream's bytes, recorded from the lab by record-backups.ts (RecordingHost
// below) while it drove the console's store the way the tests do. Commands are matched by
// their argv, with the random parts opsdeck makes (mktemp names, temporary files beside a
// target) set aside; a command that was not recorded fails the test, naming it. A stream can
// be held part way (a verify "running") until the test lets it go or stops it.
import { PassThrough } from 'node:stream';
import type { Host, RunOptions, RunResult, StreamHandle, StreamOptions, Transport } from '../../src/core/host/host.js';
import { CommandError, type ErrorKind } from '../../src/core/text/errors.js';

export interface RecordedRun {
  argv: string[];
  exitCode?: number;
  stdout?: string;
  stderr?: string;
  /** The command threw (a refused exit code, a missing tool): its kind and message. */
  throws?: { kind: ErrorKind; message: string };
}

export interface RecordedStream {
  argv: string[];
  stdout: string;
  exitCode: number | undefined;
  stderr: string;
}

/** Base64 bytes per command, per phase (the state of the host when it was recorded). */
export interface Recording {
  recorded: string;
  phases: Record<string, { runs: RecordedRun[]; streams: RecordedStream[] }>;
}

/**
 * The parts of an argv a recording does not depend on: mktemp's suffix, the temporary file of an
 * atomic write; and, `anyProperties`, which properties `systemctl show` is asked for (a property
 * added to the one show is then missing from the recorded answer, as from an older systemd).
 */
export function argvKey(argv: readonly string[], anyProperties = false): string {
  return argv
    .map((a) => a.replace(/\.opsdeck-verify\.[A-Za-z0-9]+/g, '.opsdeck-verify.RANDOM').replace(/\.opsdeck-[0-9a-f]{12}\b/g, '.opsdeck-RANDOM'))
    .map((a) => (anyProperties ? a.replace(/^--property=.*/, '--property=…') : a))
    .join('\0');
}

const b64 = (text: string | undefined) => Buffer.from(text ?? '', 'base64');

export class ReplayHost implements Host {
  readonly transport: Transport = 'local';
  readonly stats = { spawned: 0 };
  /** Every argv run or streamed, in order (what the test may assert on). */
  readonly asked: string[][] = [];
  private phase: string;
  private holds: Array<{ pattern: RegExp; released: Promise<void>; release: () => void }> = [];

  constructor(
    private readonly recording: Recording,
    phase: string,
    readonly name = 'lab',
  ) {
    this.phase = phase;
  }

  /** Answer as the host did in another recorded state. */
  setPhase(phase: string): void {
    if (!this.recording.phases[phase]) throw new Error(`no recorded phase ${phase}`);
    this.phase = phase;
  }

  /** The next stream whose argv matches sends half of its output, then waits for `release()` (or is stopped). */
  hold(pattern: RegExp): { release: () => void } {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    this.holds.push({ pattern, released, release });
    return { release };
  }

  /** How many times a command matching `pattern` (its argv joined by spaces) was asked for. */
  count(pattern: RegExp): number {
    return this.asked.filter((argv) => pattern.test(argv.join(' '))).length;
  }

  private find<T extends { argv: string[] }>(list: readonly T[], argv: readonly string[]): T {
    const key = argvKey(argv);
    const loose = argvKey(argv, true);
    // The exact command if it was recorded, else the same one asking for other properties.
    const found = list.find((r) => argvKey(r.argv) === key) ?? list.find((r) => argvKey(r.argv, true) === loose);
    if (!found) throw new Error(`not recorded in phase ${this.phase}: ${argv.join(' ')}`);
    return found;
  }

  async run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    this.stats.spawned++;
    this.asked.push([...argv]);
    const recorded = this.find(this.recording.phases[this.phase]!.runs, argv);
    // An answer comes back later, as from a real host: never inside the caller's own turn.
    await new Promise((r) => setImmediate(r));
    if (options.signal?.aborted) throw new CommandError({ host: this.name, argv, message: `${argv[0]} was cancelled` });
    if (recorded.throws) throw new CommandError({ kind: recorded.throws.kind, host: this.name, argv, message: recorded.throws.message });
    const stdoutBytes = b64(recorded.stdout);
    return { argv, exitCode: recorded.exitCode ?? 0, stdout: stdoutBytes.toString('utf8'), stdoutBytes, stderr: b64(recorded.stderr).toString('utf8'), durationMs: 1 };
  }

  stream(argv: readonly string[], options: StreamOptions = {}): StreamHandle {
    this.stats.spawned++;
    this.asked.push([...argv]);
    const recorded = this.find(this.recording.phases[this.phase]!.streams, argv);
    const bytes = b64(recorded.stdout);
    const stdout = new PassThrough();
    const holdIndex = this.holds.findIndex((h) => h.pattern.test(argv.join(' ')));
    const hold = holdIndex >= 0 ? this.holds.splice(holdIndex, 1)[0]! : null;
    let settle!: (r: { exitCode: number | undefined; stderr: string; canceled: boolean }) => void;
    const done = new Promise<{ exitCode: number | undefined; stderr: string; canceled: boolean }>((r) => (settle = r));
    let ended = false;
    const stop = () => {
      if (ended) return;
      ended = true;
      stdout.end();
      settle({ exitCode: undefined, stderr: '', canceled: true });
    };
    options.signal?.addEventListener('abort', stop, { once: true });
    if (options.signal?.aborted) stop();
    void (async () => {
      await new Promise((r) => setImmediate(r));
      // Held: the first half of its lines, then nothing until released.
      const cut = hold ? bytes.lastIndexOf(10, Math.floor(bytes.length / 2)) + 1 : bytes.length;
      if (!ended) stdout.write(bytes.subarray(0, cut));
      if (hold) await Promise.race([hold.released, done]);
      if (ended) return;
      stdout.end(bytes.subarray(cut));
      ended = true;
      stdout.once('end', () => undefined);
      settle({ exitCode: recorded.exitCode, stderr: b64(recorded.stderr).toString('utf8'), canceled: false });
    })();
    return { stdout, stdin: null, done, stop };
  }

  wrap(argv: readonly string[]): string[] {
    return [...argv];
  }
  failure(): undefined {
    return undefined;
  }
  async close(): Promise<void> {}
  closeSync(): void {}
}

/**
 * Wraps a real host and writes down what it answers (for record-backups.ts). `name`: a name of
 * its own per phase, so caches keyed by the host's name (the catalog's sidecars) start cold and
 * every phase holds the reads a test run alone needs.
 */
export class RecordingHost implements Host {
  readonly runs: RecordedRun[] = [];
  readonly streams: RecordedStream[] = [];
  constructor(
    private readonly inner: Host,
    readonly name: string = inner.name,
  ) {}
  get transport() {
    return this.inner.transport;
  }
  get stats() {
    return this.inner.stats;
  }
  private keep<T extends { argv: string[] }>(list: T[], entry: T): void {
    // The first answer per command is the one played back: later ones must say the same.
    if (!list.some((r) => argvKey(r.argv) === argvKey(entry.argv))) list.push(entry);
  }
  async run(argv: readonly string[], options?: RunOptions): Promise<RunResult> {
    try {
      const result = await this.inner.run(argv, options);
      this.keep(this.runs, { argv: [...argv], exitCode: result.exitCode, stdout: result.stdoutBytes.toString('base64'), stderr: Buffer.from(result.stderr).toString('base64') });
      return result;
    } catch (error) {
      if (error instanceof CommandError) this.keep(this.runs, { argv: [...argv], throws: { kind: error.kind, message: error.message } });
      throw error;
    }
  }
  stream(argv: readonly string[], options?: StreamOptions): StreamHandle {
    const handle = this.inner.stream(argv, options);
    const chunks: Buffer[] = [];
    const tee = new PassThrough();
    handle.stdout.on('data', (chunk: Buffer) => chunks.push(Buffer.from(chunk)));
    handle.stdout.pipe(tee);
    const done = handle.done.then((r) => {
      if (!r.canceled) this.keep(this.streams, { argv: [...argv], stdout: Buffer.concat(chunks).toString('base64'), exitCode: r.exitCode, stderr: Buffer.from(r.stderr).toString('base64') });
      return r;
    });
    return { stdout: tee, stdin: handle.stdin, done, stop: () => handle.stop() };
  }
  wrap(argv: readonly string[]): string[] {
    return this.inner.wrap(argv);
  }
  failure(argv: readonly string[], exitCode: number | undefined, stderr: string) {
    return this.inner.failure(argv, exitCode, stderr);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  closeSync(): void {
    this.inner.closeSync();
  }
}
