import { describe, expect, it } from 'vitest';
import { LocalHost, progressLines } from '../../src/core/host/host.js';

async function* chunks(...parts: Array<string | Buffer>) {
  for (const p of parts) yield typeof p === 'string' ? Buffer.from(p) : p;
}

describe('progress lines', () => {
  it('splits on \\r as on \\n, across chunks that cut a line or a character', async () => {
    const euro = Buffer.from('€');
    const out: string[] = [];
    for await (const line of progressLines(chunks('  1,024  10%  1.00MB/s\r  2,048  2', '0%\r\n', euro.subarray(0, 1), euro.subarray(1), ' done\n'))) out.push(line);
    expect(out).toEqual(['  1,024  10%  1.00MB/s', '  2,048  20%', '€ done']);
  });
});

describe('streaming with stdin', () => {
  it('feeds a command what it reads and hands its output back', async () => {
    const handle = new LocalHost().stream(['tr', 'a-z', 'A-Z'], { stdin: 'pipe' });
    handle.stdin!.end('tar and rsync read stdin\n');
    const out: string[] = [];
    for await (const line of progressLines(handle.stdout as AsyncIterable<Buffer>)) out.push(line);
    expect(out).toEqual(['TAR AND RSYNC READ STDIN']);
    expect((await handle.done).exitCode).toBe(0);
  });
});
