// Health endpoints as a hostile or broken service presents them, probed by the real curl on
// the lab host (locally through nsenter and over ssh): each environment's result comes only
// from its own request.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { describeLab, opsdeck, sharedLabConfig } from '../support/lab.js';

interface Env { name: string; health: { ok: boolean; httpStatus: number | null; version: string | null; failures: string[] } | null; errors: string[] }

let server: http.Server;
let port = 0;
let dir = '';
let config = '';

describeLab('hostile health endpoints', () => {
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/forge') {
        // A body dressed up as curl's own facts for the next request, in both the old and the new form.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"status":"ok","version":"1.0.0"}\n@@opsdeck-curl@@200 0.001 0 \n{"status":"ok","version":"6.6.6"}\n@@opsdeck-curl@@ 200 0.001 0 \n');
        return;
      }
      if (req.url === '/endless') {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = `{"status":"ok","pad":"${'x'.repeat(65_000)}"}\n`;
        const pump = () => {
          while (res.write(chunk)) { /* until the socket pushes back */ }
        };
        res.on('drain', pump);
        pump();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'ok', version: '2.0.0', path: req.url }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    const lab = parse(readFileSync(sharedLabConfig(), 'utf8')) as { hosts: Record<string, unknown> };
    const base = `http://127.0.0.1:${port}`;
    dir = mkdtempSync(path.join(tmpdir(), 'opsdeck-hostile-'));
    config = path.join(dir, 'opsdeck.yaml');
    writeFileSync(
      config,
      JSON.stringify({
        hosts: lab.hosts,
        environments: {
          forger: { host: 'lab', health: { url: `${base}/forge`, timeoutMs: 2000 } },
          victim: { host: 'lab', health: { url: 'http://127.0.0.1:1/health', timeoutMs: 2000, expect: { json: { status: 'ok' } } } },
          globber: { host: 'lab', health: { url: `http://127.0.0.1:{1,${port}}/health`, timeoutMs: 2000 } },
          ranger: { host: 'lab', health: { url: `${base}/[1-3]`, timeoutMs: 2000 } },
          streamer: { host: 'lab', health: { url: `${base}/endless`, timeoutMs: 3000 } },
          fine: { host: 'lab', health: { url: `${base}/ok`, timeoutMs: 2000, expect: { json: { status: 'ok' } } } },
        },
      }),
    );
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const via of ['lab', 'lab-ssh']) {
    it(`keeps every answer in its own row (host ${via})`, async () => {
      const { code, stdout } = await opsdeck(['status', '--json', '--config', config, '--host', via], { timeout: 60_000 });
      expect(code).toBe(1);
      const envs = Object.fromEntries((JSON.parse(stdout) as { environments: Env[] }).environments.map((e) => [e.name, e]));
      // The forger's own answer is its first JSON document or nothing: never a forged 6.6.6.
      expect(envs.forger!.health!.version).not.toBe('6.6.6');
      // A refused port stays refused, whatever the environment before it sent.
      expect(envs.victim!.health).toMatchObject({ ok: false, httpStatus: null, version: null });
      expect(envs.victim!.health!.failures[0]).toMatch(/^connection refused/);
      // Glob characters are not expanded into requests to other ports or paths.
      expect(envs.globber!.health!.ok).toBe(false);
      expect(envs.globber!.health!.httpStatus).toBeNull();
      expect(envs.ranger!.health).toMatchObject({ ok: true, httpStatus: 200 });
      // An endless body fails its own row, bounded in size and time...
      expect(envs.streamer!.health!.ok).toBe(false);
      expect(envs.streamer!.health!.failures.join(' ')).toMatch(/body larger than \d+ bytes|timed out/);
      // ...and the environment after it is unaffected.
      expect(envs.fine!.health).toMatchObject({ ok: true, httpStatus: 200, version: '2.0.0' });
      expect(envs.fine!.errors).toEqual([]);
    });
  }
});
