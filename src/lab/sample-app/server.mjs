#!/usr/bin/env node
// The lab's stand-in for the real service: plain Node, no dependencies.
//   GET  /health -> {"status":"ok","version":"..."}
//   POST /mcp    -> JSON-RPC; tools/list answers with the release's tools
// It writes its state under DATA_DIR every few seconds and exits 3 with a clear message when
// it cannot; it exits 4 when its port is taken; it logs to stdout at LOG_RATE lines/s with
// some warnings and errors (journald priorities via the "<N>" prefix).
import { createServer } from 'node:http';
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const release = JSON.parse(readFileSync(path.join(here, 'release.json'), 'utf8'));
const port = Number(process.env.PORT ?? 3444);
const host = process.env.HOST ?? '127.0.0.1';
const dataDir = process.env.DATA_DIR ?? path.join(here, 'data');
const environment = process.env.APP_ENV ?? 'development';
const logRate = Number(process.env.LOG_RATE ?? 0.5);
const stateEveryMs = Number(process.env.STATE_INTERVAL_MS ?? 5000);
const startedAt = new Date();
let requests = 0;

const PRIORITY = { error: 3, warning: 4, notice: 5, info: 6, debug: 7 };
function log(level, message) {
  process.stdout.write(`<${PRIORITY[level]}>${message}\n`);
}

function writeState() {
  const file = path.join(dataDir, 'state.json');
  const body = JSON.stringify({ version: release.version, environment, pid: process.pid, requests, writtenAt: new Date().toISOString() });
  try {
    writeFileSync(`${file}.tmp`, body);
    renameSync(`${file}.tmp`, file);
  } catch (error) {
    log('error', `FATAL: cannot write state to ${file}: ${error.message}`);
    process.exit(3);
  }
}

const tools = Array.from({ length: release.tools }, (_, i) => ({
  name: release.toolNames?.[i] ?? `tool_${String(i + 1).padStart(2, '0')}`,
  description: `Sample tool ${i + 1} of release ${release.version}`,
  inputSchema: { type: 'object', properties: {} },
}));

function rpc(request) {
  const reply = (result) => ({ jsonrpc: '2.0', id: request?.id ?? null, result });
  switch (request?.method) {
    case 'tools/list':
      return reply({ tools });
    case 'initialize':
      return reply({ protocolVersion: '2025-06-18', serverInfo: { name: 'sample-app', version: release.version }, capabilities: { tools: {} } });
    default:
      return { jsonrpc: '2.0', id: request?.id ?? null, error: { code: -32601, message: `method not found: ${request?.method}` } };
  }
}

const server = createServer((req, res) => {
  requests++;
  const send = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.method === 'GET' && req.url === '/health') {
    return send(200, { status: 'ok', version: release.version, environment, pid: process.pid, uptimeSec: Math.round((Date.now() - startedAt) / 1000) });
  }
  if (req.method === 'POST' && req.url === '/mcp') {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
      if (body.length > 1e6) req.destroy();
    });
    req.on('end', () => {
      try {
        send(200, rpc(JSON.parse(body)));
      } catch {
        send(400, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } });
      }
    });
    return;
  }
  send(404, { error: 'not found' });
});

server.on('error', (error) => {
  if (error.code === 'EADDRINUSE') {
    log('error', `FATAL: cannot listen on ${host}:${port}: address already in use (EADDRINUSE); is another instance running?`);
    process.exit(4);
  }
  log('error', `FATAL: server error: ${error.message}`);
  process.exit(1);
});

// Write state before serving: a service that cannot persist must not pretend to be healthy.
writeState();
setInterval(writeState, stateEveryMs).unref();
server.listen(port, host, () => {
  log('notice', `sample-app ${release.version} (${environment}) listening on http://${host}:${port}, data in ${dataDir}`);
});

const messages = [
  ['info', () => `request handled in ${Math.round(Math.random() * 40)} ms`],
  ['info', () => `session ${Math.random().toString(36).slice(2, 10)} refreshed`],
  ['info', () => `state saved (${requests} requests so far)`],
  ['warning', () => `slow request: ${200 + Math.round(Math.random() * 800)} ms for tools/call`],
  ['error', () => `ERROR upstream timeout after 5000 ms (attempt ${1 + Math.floor(Math.random() * 3)})`],
];
function pick() {
  const r = Math.random();
  return r < 0.85 ? messages[Math.floor(Math.random() * 3)] : r < 0.96 ? messages[3] : messages[4];
}
if (logRate > 0) {
  if (logRate >= 1000) {
    // Flood mode for benchmarks: as fast as the pipe takes it, in batches.
    let n = 0;
    const burst = () => {
      let chunk = '';
      for (let i = 0; i < 500; i++) chunk += `<6>flood line ${++n} ${'x'.repeat(40)}\n`;
      if (process.stdout.write(chunk)) setImmediate(burst);
      else process.stdout.once('drain', burst);
    };
    burst();
  } else {
    setInterval(() => {
      const [level, text] = pick();
      log(level, text());
    }, 1000 / logRate).unref();
  }
}

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    log('notice', `received ${signal}, shutting down`);
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
