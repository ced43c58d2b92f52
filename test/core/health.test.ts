import { describe, expect, it } from 'vitest';
import { curlArgv, parseCurl, parseJsonBody } from '../../src/core/health.js';

describe('curl probes', () => {
  it('limits protocols and passes the URL as a value, never as an option', () => {
    const argv = curlArgv('-K/etc/passwd', 2000);
    expect(argv).toContain('=http,https');
    expect(argv.slice(-2)).toEqual(['--url', '-K/etc/passwd']);
  });

  it('reads status and latency after the body', () => {
    const answer = parseCurl(0, '{"status":"ok","version":"2.0.0"}\n@@opsdeck-curl@@200 0.012345', '');
    expect(answer).toEqual({ httpStatus: 200, latencyMs: 12, body: '{"status":"ok","version":"2.0.0"}', error: null });
  });

  it('explains a refused connection', () => {
    const answer = parseCurl(7, '\n@@opsdeck-curl@@000 0.000', 'curl: (7) Failed to connect to 127.0.0.1 port 1: Connection refused');
    expect(answer.httpStatus).toBeNull();
    expect(answer.error).toMatch(/^connection refused/);
  });

  it('reads JSON from a server-sent-events body', () => {
    expect(parseJsonBody('event: message\ndata: {"result":{"tools":[1,2]}}\n\n')).toEqual({ result: { tools: [1, 2] } });
  });
});
