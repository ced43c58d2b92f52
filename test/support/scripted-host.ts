// A Host whose stream() hands out scripted processes: a test writes their stdout and decides
// when and how they exit. For the journal follower and the logs pane without a real journalctl.
import { PassThrough } from 'node:stream';
import type { Host, StreamHandle } from '../../src/core/host/host.js';

export class ScriptedHost implements Host {
  readonly name = 'scripted';
  constructor(readonly transport: 'local' | 'ssh' = 'local') {}
  readonly stats = { spawned: 0 };
  readonly runs: Array<{ argv: string[]; stdout: PassThrough; exit: (code: number | undefined, stderr?: string) => void; stopped: boolean }> = [];
  run(): never {
    throw new Error('not used');
  }
  wrap(argv: readonly string[]): string[] {
    return [...argv];
  }
  failure(): undefined {
    return undefined;
  }
  stream(argv: readonly string[]): StreamHandle {
    this.stats.spawned++;
    const stdout = new PassThrough();
    let settle!: (r: { exitCode: number | undefined; stderr: string; canceled: boolean }) => void;
    const done = new Promise<{ exitCode: number | undefined; stderr: string; canceled: boolean }>((r) => (settle = r));
    const run = {
      argv: [...argv],
      stdout,
      stopped: false,
      exit: (code: number | undefined, stderr = '') => {
        stdout.end();
        settle({ exitCode: code, stderr, canceled: run.stopped });
      },
    };
    this.runs.push(run);
    return {
      stdout,
      stdin: null,
      done,
      stop: () => {
        run.stopped = true;
        run.exit(undefined);
      },
    };
  }
  async close(): Promise<void> {}
  closeSync(): void {}
}

