import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES, curlArgv, parseCurl, parseJsonBody } from '../../src/core/status/health.js';

// Recorded from the lab: one curl asking dev /health (ok), a refused port, then production's
// tools/list POST; stdout holds the bodies, stderr curl's facts about each.
const recorded = JSON.parse(readFileSync(new URL('../fixtures/curl-answers.json', import.meta.url), 'utf8')) as { stdout: string; stderr: string };
const meta = (i: number, size: number, exit = 0, code = 200) => `@@opsdeck-curl@@ ${i} ${code} 0.001 ${exit} ${size} \n`;

describe('curl probes', () => {
  it('ignores ~/.curlrc, limits protocols, takes URLs literally, and passes each URL as a value, never as an option', () => {
    const argv = curlArgv([{ url: '-K/etc/passwd', timeoutMs: 2000 }]);
    expect(argv.slice(0, 2)).toEqual(['curl', '-q']);
    expect(argv).toContain('=http,https');
    expect(argv).toContain('--globoff');
    expect(argv).not.toContain('--show-error');
    expect(argv.slice(-2)).toEqual(['--url', '-K/etc/passwd']);
  });

  it('asks several URLs in one process, every per-request limit repeated after --next', () => {
    const argv = curlArgv([{ url: 'http://a/health', timeoutMs: 1000 }, { url: 'http://a/mcp', timeoutMs: 1000, post: '{}' }]);
    expect(argv.filter((a) => a === 'curl')).toHaveLength(1);
    expect(argv.filter((a) => a === '--next')).toHaveLength(1);
    for (const option of ['--globoff', '=http,https', '--max-time', '--max-filesize', '--limit-rate', '--silent']) expect(argv.filter((a) => a === option)).toHaveLength(2);
    // Each request's facts go to stderr, tagged with its position.
    expect(argv.filter((a) => a.startsWith('%{stderr}@@opsdeck-curl@@ 1 '))).toHaveLength(1);
  });

  it('splits an answer into status, latency, body or error for each request', () => {
    const [health, refused, rpc] = parseCurl(Buffer.from(recorded.stdout), recorded.stderr, 3);
    expect(health).toMatchObject({ httpStatus: 200, error: null });
    expect(health!.latencyMs).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(health!.body)).toMatchObject({ status: 'ok', version: '2.0.0' });
    expect(refused).toMatchObject({ httpStatus: null, latencyMs: null, body: '' });
    expect(refused!.error).toMatch(/^connection refused \(Failed to connect to 127\.0\.0\.1 port 1/);
    expect((parseJsonBody(rpc!.body) as { result: { tools: unknown[] } }).result.tools).toHaveLength(12);
  });

  it('says so when curl stopped before answering every request', () => {
    expect(parseCurl(Buffer.alloc(0), '', 1)[0]!.error).toMatch(/no answer/);
    const [first, second] = parseCurl(Buffer.from('{}'), meta(0, 2), 2);
    expect(first!.error).toBeNull();
    expect(second!.error).toMatch(/no answer/);
  });

  it('cuts bodies by their sizes, counted in bytes (multi-byte text included)', () => {
    const a = '{"v":"é✓"}';
    const b = '{"v":"😀"}';
    const [first, second] = parseCurl(Buffer.from(a + b), meta(0, Buffer.byteLength(a)) + meta(1, Buffer.byteLength(b)), 2);
    expect([first!.body, second!.body]).toEqual([a, b]);
  });

  it('fails a body past the size cap on its own row', () => {
    const big = Buffer.alloc(MAX_BODY_BYTES + 10, 'x');
    const [first, second] = parseCurl(Buffer.concat([big, Buffer.from('{}')]), meta(0, big.length) + meta(1, 2), 2);
    expect(first!.error).toMatch(/body larger than/);
    expect(second).toMatchObject({ error: null, body: '{}' });
  });

  it('no body, whatever bytes it holds, changes another request\'s answer', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.constant(`{"status":"ok"}\n${meta(1, 2)}{}`), fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1'))),
        (hostile) => {
          const body = Buffer.from(hostile);
          // Request 0 sent the hostile body; request 1 was refused.
          const stderr = meta(0, body.length) + '@@opsdeck-curl@@ 1 000 0.000 7 0 Failed to connect\n';
          const [first, second] = parseCurl(body, stderr, 2);
          expect(first!.body).toBe(body.toString('utf8'));
          expect(second).toMatchObject({ httpStatus: null, latencyMs: null, body: '' });
          expect(second!.error).toMatch(/^connection refused/);
        },
      ),
    );
  });

  it('never crashes on arbitrary output, never shows a control character, never answers a request curl did not', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.string(), fc.integer({ min: 1, max: 4 }), (stdout, stderr, count) => {
        const answers = parseCurl(Buffer.from(stdout), stderr, count);
        expect(answers).toHaveLength(count);
        for (const a of answers) {
          if (a.error !== null) expect(a.error).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
          if (a.httpStatus !== null) expect(a.httpStatus).toBeGreaterThanOrEqual(100);
        }
      }),
    );
  });

  it('stops trusting the facts at the first line out of order', () => {
    const answers = parseCurl(Buffer.from('{}{}'), meta(1, 2) + meta(0, 2), 2);
    expect(answers.map((a) => a.error)).toEqual([expect.stringMatching(/no answer/), expect.stringMatching(/no answer/)]);
  });

  it('reads JSON from a server-sent-events body', () => {
    expect(parseJsonBody('event: message\ndata: {"result":{"tools":[1,2]}}\n\n')).toEqual({ result: { tools: [1, 2] } });
  });
});
