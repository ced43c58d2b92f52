// HTTP health probes with curl, run on the environment's host (services often listen on
// loopback only): status code, latency, JSON fields such as `version`, and JSON-RPC calls
// (`tools/list`). A service that does not answer is a result, not an error; a missing curl
// or an unreachable host is an error.
//
// One curl per host per refresh asks every request in turn (over ssh every command is a
// session and a remote shell start-up, so the count matters). Each answer is kept apart: the
// bodies go to stdout and nothing else does, while curl's own facts about each request (its
// index, status, time, exit code and the body's exact size) go to stderr, where no body can
// reach. Stdout is cut by those sizes, so no body, whatever bytes it holds, can be read as
// another request's answer. Every request is capped in time, rate and size, so one bad
// endpoint fails only its own row.
import type { Host, RunOptions } from '../host/host.js';
import { sharedPattern, type Pattern } from '../text/pattern.js';
import { sanitizeLine } from '../text/sanitize.js';

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
  /** The version the config expects (health.expect.version), when the answer's does not match it. */
  versionExpected: string | null;
  /** The body's `status` field, when it is JSON with one. */
  status: string | null;
  toolsCount: number | null;
  /** Why it is not ok (empty when ok). */
  failures: string[];
  /** The start of the body, sanitized, for the detail view. */
  bodyPreview: string;
}

/** The biggest body read: a health answer is a few hundred bytes; past this the probe fails. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** A streaming body is read at most this fast (curl's limiter is loose: it bounds, it does not meter). */
const RATE_LIMIT = '1M';
/** What one request can write at most, for the process's output cap (a few times rate x time). */
const PER_REQUEST_OUTPUT = 16 * 1024 * 1024;
const META = '@@opsdeck-curl@@';
const CURL_ERRORS: Record<number, string> = {
  3: 'malformed URL',
  6: 'host name not resolved',
  7: 'connection refused',
  28: 'timed out',
  35: 'TLS handshake failed',
  52: 'empty reply from server',
  56: 'connection reset',
  60: 'TLS certificate not trusted',
  63: `body larger than ${MAX_BODY_BYTES} bytes`,
};

export interface CurlRequest {
  url: string;
  timeoutMs: number;
  /** A JSON body to POST. */
  post?: string | undefined;
}

/** One curl for several requests (`--next` between them), every per-request option repeated. */
export function curlArgv(requests: readonly CurlRequest[]): string[] {
  // -q first: no ~/.curlrc on the host can add options (follow redirects, write files...).
  const argv = ['curl', '-q'];
  requests.forEach((request, i) => {
    if (i > 0) argv.push('--next');
    const seconds = (request.timeoutMs / 1000).toFixed(1);
    argv.push(
      // No --show-error: stderr carries only our write-out lines, never text a server chose.
      '--silent',
      // URLs are taken literally: `{a,b}` or `[1-9]` would otherwise ask other ports and paths.
      '--globoff',
      '--proto', '=http,https',
      '--max-time', seconds,
      '--connect-timeout', seconds,
      '--max-filesize', String(MAX_BODY_BYTES),
      '--limit-rate', RATE_LIMIT,
      '--write-out', `%{stderr}${META} ${i} %{http_code} %{time_total} %{exitcode} %{size_download} %{errormsg}\\n`,
    );
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

const noAnswer = (error: string): CurlAnswer => ({ httpStatus: null, latencyMs: null, body: '', error });

/**
 * Split a multi-request curl's output: stderr holds one line of facts per request, in order;
 * stdout holds the bodies back to back, each exactly as long as its line says. A line out of
 * order, or sizes that do not add up, end what can be trusted: the rest get no answer.
 */
export function parseCurl(stdout: Buffer, stderr: string, count: number): CurlAnswer[] {
  const answers: CurlAnswer[] = [];
  const lines = stderr.split('\n').filter((l) => l.startsWith(`${META} `));
  let offset = 0;
  let trusted = true;
  for (let i = 0; i < count; i++) {
    const fields = trusted ? lines[i]?.slice(META.length + 1).split(' ') : undefined;
    const [index, code, total, exit, size, ...message] = fields ?? [];
    const bytes = Number(size);
    if (!fields || index !== String(i) || !/^\d+$/.test(size ?? '') || offset + bytes > stdout.length) {
      trusted = false;
      answers.push(noAnswer('no answer (curl stopped early)'));
      continue;
    }
    const body = stdout.subarray(offset, offset + Math.min(bytes, MAX_BODY_BYTES)).toString('utf8');
    offset += bytes;
    const exitCode = Number(exit);
    const httpStatus = code && /^[1-5]\d\d$/.test(code) ? Number(code) : null;
    let error: string | null = null;
    if (exitCode !== 0) {
      const detail = sanitizeLine(message.join(' ').trim()).slice(0, 200);
      error = CURL_ERRORS[exitCode] ? `${CURL_ERRORS[exitCode]}${detail ? ` (${detail})` : ''}` : detail || `curl exit code ${Number.isFinite(exitCode) ? exitCode : '?'}`;
    } else if (bytes > MAX_BODY_BYTES) {
      error = `body larger than ${MAX_BODY_BYTES} bytes`;
    }
    const seconds = Number(total);
    answers.push({ httpStatus, latencyMs: httpStatus === null || !Number.isFinite(seconds) ? null : Math.round(seconds * 1000), body, error });
  }
  return answers;
}

/** curl's own exit codes are answers about the services; only 127 (no curl) is an error. */
const CURL_ANSWERS = Array.from({ length: 100 }, (_, i) => i);

async function curl(host: Host, requests: readonly CurlRequest[], options: RunOptions): Promise<CurlAnswer[]> {
  if (requests.length === 0) return [];
  const budget = requests.reduce((sum, r) => sum + r.timeoutMs, 0) + 5000;
  const result = await host.run(curlArgv(requests), { ...options, timeoutMs: budget, okExitCodes: CURL_ANSWERS, maxOutputBytes: requests.length * PER_REQUEST_OUTPUT });
  return parseCurl(result.stdoutBytes, result.stderr, requests.length);
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

const TOOLS_LIST = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });

export async function probeHealth(host: Host, probe: HealthProbe, options: RunOptions = {}): Promise<HealthResult> {
  return (await probeHealthAll(host, [probe], options))[0]!;
}

/** Every probe of a host in one curl call (health GETs and tools/list POSTs), each answer its own. */
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
  let versionExpected: string | null = null;
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
      if (actual !== value) failures.push(`${key} is ${actual === undefined ? 'missing' : sanitizeLine(JSON.stringify(actual)).slice(0, 80)}, expected ${JSON.stringify(value)}`);
    }
    if (expect.version && !(version !== null && versionPattern(expect.version).test(version))) {
      failures.push(`version ${version ?? 'missing'} does not match /${expect.version}/`);
      versionExpected = expect.version;
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
    versionExpected,
    status,
    toolsCount,
    failures,
    bodyPreview: sanitizeLine(answer.body.slice(0, 300)),
  };
}

/** The expected version as a linear-time pattern: the one the config loader compiled when it checked it. */
function versionPattern(source: string): Pattern {
  return sharedPattern(source, 'health.expect.version', { smartCase: false });
}

/** JSON-RPC `tools/list`: how many tools the service offers. */
function countTools(answer: CurlAnswer): { count: number | null; error: string | null } {
  if (answer.error) return { count: null, error: answer.error };
  if (answer.httpStatus !== 200) return { count: null, error: `HTTP ${answer.httpStatus}` };
  const json = parseJsonBody(answer.body) as { result?: { tools?: unknown[] }; error?: { message?: string } } | undefined;
  if (json?.error) return { count: null, error: sanitizeLine(String(json.error.message ?? 'JSON-RPC error')).slice(0, 200) };
  const tools = json?.result?.tools;
  if (!Array.isArray(tools)) return { count: null, error: 'no result.tools in the answer' };
  return { count: tools.length, error: null };
}
