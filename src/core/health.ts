// HTTP health probes with curl, run on the environment's host (services often listen on
// loopback only): status code, latency, JSON fields such as `version`, and JSON-RPC calls
// (`tools/list`). A service that does not answer is a result, not an error; a missing curl
// or an unreachable host is an error.
import type { Host, RunOptions } from './host.js';
import { sanitizeLine } from './sanitize.js';

export interface HealthExpectations {
  status?: number | undefined;
  /** Regular expression the reported version must match. */
  version?: string | undefined;
  /** JSON fields that must have exactly these values, e.g. { status: "ok" }. */
  json?: Record<string, string | number | boolean> | undefined;
}

export interface HealthProbe {
  url: string;
  timeoutMs?: number | undefined;
  expect?: HealthExpectations | undefined;
  /** A JSON-RPC endpoint to ask `tools/list`. */
  rpcUrl?: string | undefined;
  minTools?: number | undefined;
  /** The tool count from a recent tools/list, used (and checked against minTools) instead of asking again. */
  knownTools?: number | undefined;
}

export interface HealthResult {
  ok: boolean;
  url: string;
  httpStatus: number | null;
  latencyMs: number | null;
  version: string | null;
  /** The body's `status` field, when it is JSON with one. */
  status: string | null;
  toolsCount: number | null;
  /** Why it is not ok (empty when ok). */
  failures: string[];
  /** The start of the body, sanitized, for the detail view. */
  bodyPreview: string;
}

const MARKER = '\n@@opsdeck-curl@@';
const CURL_ERRORS: Record<number, string> = {
  6: 'host name not resolved',
  7: 'connection refused',
  28: 'timed out',
  35: 'TLS handshake failed',
  52: 'empty reply from server',
  56: 'connection reset',
  60: 'TLS certificate not trusted',
};

export interface CurlRequest {
  url: string;
  timeoutMs: number;
  /** A JSON body to POST. */
  post?: string | undefined;
}

/** One curl for several requests (`--next` between them): one process per refresh per host. */
export function curlArgv(requests: readonly CurlRequest[]): string[] {
  const argv = ['curl', '--silent', '--show-error'];
  requests.forEach((request, i) => {
    if (i > 0) argv.push('--next');
    const seconds = (request.timeoutMs / 1000).toFixed(1);
    argv.push('--proto', '=http,https', '--max-time', seconds, '--connect-timeout', seconds, '--max-filesize', '1048576');
    argv.push('--write-out', `${MARKER}%{http_code} %{time_total} %{exitcode} %{errormsg}\n`);
    if (request.post !== undefined) {
      argv.push('--header', 'Content-Type: application/json', '--header', 'Accept: application/json, text/event-stream', '--data-binary', request.post);
    }
    // --url takes the next argument as the URL even if it starts with '-'.
    argv.push('--url', request.url);
  });
  return argv;
}

export interface CurlAnswer {
  httpStatus: number | null;
  latencyMs: number | null;
  body: string;
  error: string | null;
}

/** Split the output of a multi-request curl: body, then our write-out line, for each request. */
export function parseCurl(stdout: string, count: number): CurlAnswer[] {
  const segments = stdout.split(MARKER);
  const answers: CurlAnswer[] = [];
  for (let i = 0; i < count; i++) {
    const body = i === 0 ? (segments[0] ?? '') : (segments[i] ?? '').slice((segments[i] ?? '').indexOf('\n') + 1);
    const meta = segments[i + 1];
    if (meta === undefined) {
      answers.push({ httpStatus: null, latencyMs: null, body: '', error: 'no answer (curl stopped early)' });
      continue;
    }
    const line = meta.slice(0, meta.indexOf('\n') >= 0 ? meta.indexOf('\n') : meta.length);
    const [code, total, exit, ...message] = line.split(' ');
    const exitCode = Number(exit);
    const httpStatus = code && code !== '000' ? Number(code) : null;
    let error: string | null = null;
    if (exitCode !== 0) {
      const detail = sanitizeLine(message.join(' ').trim());
      error = CURL_ERRORS[exitCode] ? `${CURL_ERRORS[exitCode]}${detail ? ` (${detail})` : ''}` : detail || `curl exit code ${exitCode}`;
    }
    answers.push({ httpStatus, latencyMs: httpStatus === null || !total ? null : Math.round(Number(total) * 1000), body, error });
  }
  return answers;
}

/** curl's own exit codes are answers about the services; only 127 (no curl) is an error. */
const CURL_ANSWERS = Array.from({ length: 100 }, (_, i) => i);

async function curl(host: Host, requests: readonly CurlRequest[], options: RunOptions): Promise<CurlAnswer[]> {
  if (requests.length === 0) return [];
  const budget = requests.reduce((sum, r) => sum + r.timeoutMs, 0) + 5000;
  const result = await host.run(curlArgv(requests), { ...options, timeoutMs: budget, okExitCodes: CURL_ANSWERS });
  return parseCurl(result.stdout, requests.length);
}

/** Parse a JSON body, or the first `data:` event of a server-sent-events body. */
export function parseJsonBody(body: string): unknown {
  const text = body.trim();
  try {
    return JSON.parse(text);
  } catch {
    const data = text.split('\n').find((line) => line.startsWith('data:'));
    if (!data) return undefined;
    try {
      return JSON.parse(data.slice(5));
    } catch {
      return undefined;
    }
  }
}

export async function probeHealth(host: Host, probe: HealthProbe, options: RunOptions = {}): Promise<HealthResult> {
  return (await probeHealthAll(host, [probe], options))[0]!;
}

const TOOLS_LIST = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });

/** Every probe of a host in one curl call (health GETs and tools/list POSTs). */
export async function probeHealthAll(host: Host, probes: readonly HealthProbe[], options: RunOptions = {}): Promise<HealthResult[]> {
  const requests: CurlRequest[] = [];
  const index = probes.map((probe) => {
    const timeoutMs = probe.timeoutMs ?? 3000;
    const health = requests.push({ url: probe.url, timeoutMs }) - 1;
    const rpc = probe.rpcUrl ? requests.push({ url: probe.rpcUrl, timeoutMs, post: TOOLS_LIST }) - 1 : null;
    return { health, rpc };
  });
  const answers = await curl(host, requests, options);
  return probes.map((probe, i) => evaluate(probe, answers[index[i]!.health]!, index[i]!.rpc === null ? null : answers[index[i]!.rpc!]!));
}

function evaluate(probe: HealthProbe, answer: CurlAnswer, rpc: CurlAnswer | null): HealthResult {
  const expect = probe.expect ?? {};
  const failures: string[] = [];
  if (answer.error) failures.push(answer.error);
  const json = parseJsonBody(answer.body) as Record<string, unknown> | undefined;
  const field = (key: string) => (json && typeof json === 'object' && json[key] !== undefined && json[key] !== null ? sanitizeLine(String(json[key])) : null);
  const version = field('version');
  const status = field('status');
  if (answer.httpStatus !== null) {
    const wanted = expect.status ?? 200;
    if (answer.httpStatus !== wanted) failures.push(`HTTP ${answer.httpStatus}, expected ${wanted}`);
  }
  if (!answer.error) {
    for (const [key, value] of Object.entries(expect.json ?? {})) {
      const actual = json && typeof json === 'object' ? json[key] : undefined;
      if (actual !== value) failures.push(`${key} is ${actual === undefined ? 'missing' : JSON.stringify(actual)}, expected ${JSON.stringify(value)}`);
    }
    if (expect.version && !(version !== null && new RegExp(expect.version).test(version))) {
      failures.push(`version ${version ?? 'missing'} does not match /${expect.version}/`);
    }
  }
  let toolsCount: number | null = null;
  if (!answer.error && (rpc || probe.knownTools !== undefined)) {
    const tools = rpc ? countTools(rpc) : { count: probe.knownTools!, error: undefined };
    toolsCount = tools.count;
    if (tools.error) failures.push(`tools/list: ${tools.error}`);
    else if (probe.minTools !== undefined && (tools.count ?? 0) < probe.minTools) failures.push(`tools/list gave ${tools.count} tools, expected at least ${probe.minTools}`);
  }
  return {
    ok: failures.length === 0,
    url: probe.url,
    httpStatus: answer.httpStatus,
    latencyMs: answer.latencyMs,
    version,
    status,
    toolsCount,
    failures,
    bodyPreview: sanitizeLine(answer.body.slice(0, 300)),
  };
}

/** JSON-RPC `tools/list`: how many tools the service offers. */
function countTools(answer: CurlAnswer): { count: number | null; error: string | null } {
  if (answer.error) return { count: null, error: answer.error };
  if (answer.httpStatus !== 200) return { count: null, error: `HTTP ${answer.httpStatus}` };
  const json = parseJsonBody(answer.body) as { result?: { tools?: unknown[] }; error?: { message?: string } } | undefined;
  if (json?.error) return { count: null, error: sanitizeLine(String(json.error.message ?? 'JSON-RPC error')) };
  const tools = json?.result?.tools;
  if (!Array.isArray(tools)) return { count: null, error: 'no result.tools in the answer' };
  return { count: tools.length, error: null };
}
