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

export function curlArgv(url: string, timeoutMs: number, post?: string): string[] {
  const seconds = (timeoutMs / 1000).toFixed(1);
  const argv = [
    'curl', '--silent', '--show-error', '--proto', '=http,https', '--max-time', seconds, '--connect-timeout', seconds,
    '--max-filesize', '1048576', '--write-out', `${MARKER}%{http_code} %{time_total}`,
  ];
  if (post !== undefined) {
    argv.push('--header', 'Content-Type: application/json', '--header', 'Accept: application/json, text/event-stream', '--data-binary', post);
  }
  // --url takes the next argument as the URL even if it starts with '-'.
  argv.push('--url', url);
  return argv;
}

interface CurlAnswer {
  httpStatus: number | null;
  latencyMs: number | null;
  body: string;
  error: string | null;
}

export function parseCurl(exitCode: number, stdout: string, stderr: string): CurlAnswer {
  const at = stdout.lastIndexOf(MARKER);
  const body = at >= 0 ? stdout.slice(0, at) : stdout;
  const [code, total] = at >= 0 ? stdout.slice(at + MARKER.length).trim().split(' ') : [];
  const httpStatus = code && code !== '000' ? Number(code) : null;
  const latencyMs = total ? Math.round(Number(total) * 1000) : null;
  let error: string | null = null;
  if (exitCode !== 0) {
    const detail = sanitizeLine(stderr.trim().replace(/^curl: \(\d+\)\s*/, ''));
    error = CURL_ERRORS[exitCode] ? `${CURL_ERRORS[exitCode]}${detail ? ` (${detail})` : ''}` : detail || `curl exit code ${exitCode}`;
  }
  return { httpStatus, latencyMs: httpStatus === null ? null : latencyMs, body, error };
}

async function curl(host: Host, url: string, timeoutMs: number, options: RunOptions, post?: string): Promise<CurlAnswer> {
  // curl's own exit codes are answers about the service; any code is accepted here.
  const anyCode = Array.from({ length: 100 }, (_, i) => i).filter((c) => c !== 127);
  const result = await host.run(curlArgv(url, timeoutMs, post), { ...options, timeoutMs: timeoutMs + 5000, okExitCodes: anyCode });
  return parseCurl(result.exitCode, result.stdout, result.stderr);
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
  const timeoutMs = probe.timeoutMs ?? 3000;
  const expect = probe.expect ?? {};
  // Both requests at once; the tools count only counts if the health request answered.
  const rpcPromise = probe.rpcUrl ? callTools(host, probe.rpcUrl, timeoutMs, options).catch((error: unknown) => ({ count: null, error: (error as Error).message })) : null;
  const answer = await curl(host, probe.url, timeoutMs, options);
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
  if (rpcPromise && !answer.error) {
    const rpc = await rpcPromise;
    toolsCount = rpc.count;
    if (rpc.error) failures.push(`tools/list: ${rpc.error}`);
    else if (probe.minTools !== undefined && (rpc.count ?? 0) < probe.minTools) failures.push(`tools/list gave ${rpc.count} tools, expected at least ${probe.minTools}`);
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
export async function callTools(host: Host, url: string, timeoutMs = 3000, options: RunOptions = {}): Promise<{ count: number | null; error: string | null }> {
  const request = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });
  const answer = await curl(host, url, timeoutMs, options, request);
  if (answer.error) return { count: null, error: answer.error };
  if (answer.httpStatus !== 200) return { count: null, error: `HTTP ${answer.httpStatus}` };
  const json = parseJsonBody(answer.body) as { result?: { tools?: unknown[] }; error?: { message?: string } } | undefined;
  if (json?.error) return { count: null, error: sanitizeLine(String(json.error.message ?? 'JSON-RPC error')) };
  const tools = json?.result?.tools;
  if (!Array.isArray(tools)) return { count: null, error: 'no result.tools in the answer' };
  return { count: tools.length, error: null };
}
