import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { curlArgv, parseCurl, parseJsonBody } from '../../src/core/health.js';

// Recorded: dev /health (ok), a refused port, then production's tools/list POST.
const recorded = readFileSync(new URL('../fixtures/curl-multi.txt', import.meta.url), 'utf8');

describe('curl probes', () => {
  it('limits protocols and passes each URL as a value, never as an option', () => {
    const argv = curlArgv([{ url: '-K/etc/passwd', timeoutMs: 2000 }]);
    expect(argv).toContain('=http,https');
    expect(argv.slice(-2)).toEqual(['--url', '-K/etc/passwd']);
  });

  it('asks several URLs in one process, options reset between them', () => {
    const argv = curlArgv([{ url: 'http://a/health', timeoutMs: 1000 }, { url: 'http://a/mcp', timeoutMs: 1000, post: '{}' }]);
    expect(argv.filter((a) => a === 'curl')).toHaveLength(1);
    expect(argv.filter((a) => a === '--next')).toHaveLength(1);
    expect(argv.filter((a) => a === '=http,https')).toHaveLength(2);
  });

  it('splits a multi-request answer into status, latency, body or error for each', () => {
    const [health, refused, rpc] = parseCurl(recorded, 3);
    expect(health).toMatchObject({ httpStatus: 200, error: null });
    expect(health!.latencyMs).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(health!.body)).toMatchObject({ status: 'ok', version: '2.0.0' });
    expect(refused).toMatchObject({ httpStatus: null, latencyMs: null });
    expect(refused!.error).toMatch(/^connection refused \(Failed to connect to 127\.0\.0\.1 port 1/);
    expect((parseJsonBody(rpc!.body) as { result: { tools: unknown[] } }).result.tools).toHaveLength(12);
  });

  it('says so when curl stopped before answering every request', () => {
    expect(parseCurl('', 1)[0]!.error).toMatch(/no answer/);
  });

  it('reads JSON from a server-sent-events body', () => {
    expect(parseJsonBody('event: message\ndata: {"result":{"tools":[1,2]}}\n\n')).toEqual({ result: { tools: [1, 2] } });
  });
});
