// Live logs under a flood, against the bench lab's journald:
//   live:     a unit writes 1,000,000 lines as fast as it can while a separate process follows
//             it with JournalFollower into a LogBuffer (what the console does): ingest rate,
//             lag, CPU of that process, RSS as the lines pass (< 200 MB and flat);
//   catch-up: a unit's 400,000 stored lines read by raw `journalctl -o json ... > /dev/null`
//             vs the follower (same argv plus --follow, which only changes what happens at the
//             end) vs the one-shot CLI: the follower's rate should be >= 0.9 of raw journalctl.
// The lab caps its journal at 256 MB (about 550,000 such lines), hence 400,000 for catch-up.
// The follower runs in its own process, bundled like the real CLI, so its CPU and RSS are its own.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { loadConfig } from '../../src/config/load.js';
import type { Host } from '../../src/core/host/host.js';
import { HostRegistry } from '../../src/core/host/registry.js';
import { journalArgv } from '../../src/core/journal/read.js';
import { bundleChild, opsdeckBin, type BenchRow } from './support.js';

const LIVE_LINES = 1_000_000;
const CATCHUP_LINES = 400_000;
const RSS_TARGET_MB = 200;

// The ingesting process: follow a unit from its first line, keep a 50,000-line ring buffer,
// report samples and the end as JSON lines.
const CHILD_SOURCE = `
import { LabHost } from './src/core/host/lab.js';
import { JournalFollower } from './src/core/journal/follow.js';
import { LogBuffer } from './src/core/journal/buffer.js';
const args = JSON.parse(process.env.OPSDECK_BENCH_ARGS);
const send = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const host = new LabHost('lab', args.labDir);
const buffer = new LogBuffer(50000);
const follower = new JournalFollower(host, { units: [args.unit], lines: 'all' });
let count = 0;
let nextSample = args.sampleEvery;
let firstAt = 0;
let firstTimeUs = 0;
const startedAt = performance.now();
const cpuAtStart = process.cpuUsage();
let cpuAtFirst = cpuAtStart;
follower.onEvent((e) => send({ type: 'event', event: e.type }));
follower.onBatch((batch) => {
  if (count === 0) { firstAt = performance.now(); cpuAtFirst = process.cpuUsage(); firstTimeUs = batch[0].timeUs; }
  buffer.push(batch);
  count += batch.length;
  const last = batch[batch.length - 1];
  const lagMs = Date.now() - last.timeUs / 1000;
  while (count >= nextSample) {
    const rss = process.memoryUsage().rss;
    // Retained memory (what would grow on a leak): the heap right after a full collection.
    globalThis.gc();
    send({ type: 'sample', count: nextSample, rss, heap: process.memoryUsage().heapUsed, lagMs });
    nextSample += args.sampleEvery;
  }
  if (count >= args.target) {
    const now = performance.now();
    const cpu = process.cpuUsage(cpuAtFirst);
    send({ type: 'done', count, sinceStartMs: now - startedAt, sinceFirstMs: now - firstAt, cpuMs: (cpu.user + cpu.system) / 1000,
      rss: process.memoryUsage().rss, batches: follower.stats.batches, lagMs, firstTimeUs, lastTimeUs: last.timeUs, held: buffer.size });
    void follower.stop().then(() => process.exit(0));
  }
});
follower.start();
`;

const FLOOD_SCRIPT = [
  'const N = Number(process.argv[1]); let n = 0; const pad = "x".repeat(40);',
  'function burst() { let c = ""; for (let i = 0; i < 500 && n < N; i++) c += "<6>flood line " + (++n) + " " + pad + "\\n";',
  '  if (n >= N) { process.stdout.write(c, function () { process.exit(0); }); return; }',
  '  if (process.stdout.write(c)) setImmediate(burst); else process.stdout.once("drain", burst); }',
  'burst();',
].join('\n');

interface ChildMessage {
  type: 'event' | 'sample' | 'done';
  event?: string;
  count?: number;
  rss?: number;
  heap?: number;
  lagMs?: number;
  sinceStartMs?: number;
  sinceFirstMs?: number;
  cpuMs?: number;
  batches?: number;
  firstTimeUs?: number;
  lastTimeUs?: number;
}


/** Run the ingesting process; resolves with its messages once it is done (or stalls). */
function ingest(script: string, labDir: string, unit: string, target: number, onReady?: () => void, ticksPerSecond = 100) {
  const child = execa(process.execPath, ['--expose-gc', script], {
    reject: false,
    stdin: 'ignore',
    stderr: 'inherit',
    buffer: false,
    env: { OPSDECK_BENCH_ARGS: JSON.stringify({ labDir, unit, target, sampleEvery: Math.floor(target / 4) }) },
  });
  const messages: ChildMessage[] = [];
  const journalctl = { cpuSeconds: 0, startSeconds: 0, from: 0, to: 0 };
  let lastProgress = Date.now();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const message = JSON.parse(line) as ChildMessage;
    messages.push(message);
    lastProgress = Date.now();
    if (message.type === 'event' && message.event === 'connected') onReady?.();
  });
  // A follower that stops receiving (lines lost, journal vacuumed) must not hang the bench.
  const watchdog = setInterval(() => {
    if (Date.now() - lastProgress > 30_000) child.kill('SIGKILL');
    // The journalctl feeding the follower: its CPU (between the first sample and the end)
    // shows where the ceiling is.
    if (child.pid !== undefined && messages.some((m) => m.type === 'sample') && !messages.some((m) => m.type === 'done')) {
      const seconds = journalctlCpuSeconds(child.pid, ticksPerSecond);
      if (seconds > 0) {
        if (journalctl.from === 0) {
          journalctl.from = Date.now();
          journalctl.startSeconds = seconds;
        }
        journalctl.to = Date.now();
        journalctl.cpuSeconds = seconds - journalctl.startSeconds;
      }
    }
  }, 250);
  return child.then(() => {
    clearInterval(watchdog);
    return { messages, journalctl };
  });
}

async function startFlood(host: Host, unit: string, lines: number): Promise<void> {
  await host.run(['systemd-run', `--unit=${unit}`, '--quiet', '--collect', '--property=LogRateLimitIntervalSec=0', '--', process.execPath, '-e', FLOOD_SCRIPT, String(lines)]);
}

async function waitUnitGone(host: Host, unit: string, timeoutMs = 300_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { stdout } = await host.run(['systemctl', 'is-active', '--', unit], { okExitCodes: [0, 3, 4] });
    if (!['active', 'activating', 'deactivating'].includes(stdout.trim())) return;
    if (Date.now() > until) throw new Error(`${unit} still running after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** journald takes in a flood later than the writer writes it: wait until the last line is stored. */
async function waitStored(host: Host, unit: string, lines: number, timeoutMs = 300_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    // The last lines may be systemd's about the unit ("Deactivated successfully.").
    const { stdout } = await host.run(['journalctl', '--no-pager', '--quiet', '--output=cat', '--lines=10', `--unit=${unit}`]);
    if (stdout.includes(`flood line ${lines} `)) return;
    if (Date.now() > until) throw new Error(`journald did not store line ${lines} of ${unit} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** CPU seconds so far of the journalctl among a process's descendants (0 if none). */
function journalctlCpuSeconds(root: number, ticksPerSecond: number): number {
  const children = (pid: number): number[] => {
    try {
      return readdirSync(`/proc/${pid}/task`).flatMap((task) => readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {
      return [];
    }
  };
  const queue = children(root);
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (stat.includes('(journalctl)')) return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
    } catch {
      continue;
    }
    queue.push(...children(pid));
  }
  return 0;
}

async function timeRaw(host: Host, argv: string[]): Promise<number> {
  const started = performance.now();
  await host.run(['sh', '-c', 'exec "$0" "$@" > /dev/null', ...argv], { timeoutMs: 600_000 });
  return performance.now() - started;
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
const perSecond = (lines: number, ms: number) => Math.round(lines / (ms / 1000));

export async function benchLogs(config: string): Promise<BenchRow[]> {
  const { config: parsed } = loadConfig(config);
  const labDir = parsed.hosts.lab?.lab;
  if (!labDir) throw new Error(`${config} has no lab host`);
  const host = new HostRegistry(parsed).get('lab');
  const tag = randomBytes(3).toString('hex');
  const liveUnit = `opsdeck-bench-flood-${tag}.service`;
  const storedUnit = `opsdeck-bench-stored-${tag}.service`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opsdeck-bench-logs-'));
  const rows: BenchRow[] = [];
  const row = (metric: string, value: number, unit: string, target?: string, met?: boolean) =>
    rows.push({ bench: 'logs', metric, value, unit, ...(target !== undefined ? { target, met } : {}) });
  try {
    const script = await bundleChild(dir, 'logs-ingest', CHILD_SOURCE);

    // Live: follow first, then flood.
    let ready!: () => void;
    const isReady = new Promise<void>((r) => (ready = r));
    const ticks = Number((await execa('getconf', ['CLK_TCK'], { reject: false })).stdout) || 100;
    const live = ingest(script, labDir, liveUnit, LIVE_LINES, () => ready(), ticks);
    await isReady;
    await startFlood(host, liveUnit, LIVE_LINES);
    const { messages: liveMessages, journalctl } = await live;
    await waitUnitGone(host, liveUnit);
    const done = liveMessages.find((m) => m.type === 'done');
    const samples = liveMessages.filter((m) => m.type === 'sample');
    if (!done) {
      const got = samples.at(-1)?.count ?? 0;
      row(`live: follower did not receive all ${LIVE_LINES} lines (last sample)`, got, 'lines', `${LIVE_LINES}`, false);
    } else {
      const produced = (done.lastTimeUs! - done.firstTimeUs!) / 1000;
      row(`live: flood of ${LIVE_LINES} lines written to journald at`, perSecond(LIVE_LINES, produced), 'lines/s');
      row('live: follower ingested (first to last line)', perSecond(LIVE_LINES, done.sinceFirstMs!), 'lines/s');
      row('live: lag of the last line behind journald', Math.round(done.lagMs!), 'ms');
      row('live: CPU of the following process (one core = 100%)', Math.round((done.cpuMs! / done.sinceFirstMs!) * 100), '%');
      if (journalctl.to > journalctl.from) row('live: CPU of the journalctl feeding it (from 250,000 lines on)', Math.round((journalctl.cpuSeconds * 1000 / (journalctl.to - journalctl.from)) * 100), '%');
      row('live: batches delivered (<= 10/s)', done.batches!, 'batches', `<= ${Math.ceil(done.sinceFirstMs! / 100) + 1}`, done.batches! <= Math.ceil(done.sinceFirstMs! / 100) + 1);
      for (const s of samples) row(`live: RSS after ${s.count!.toLocaleString('en')} lines`, mb(s.rss!), 'MB', s.count === LIVE_LINES ? `< ${RSS_TARGET_MB} MB` : undefined, s.count === LIVE_LINES ? mb(s.rss!) < RSS_TARGET_MB : undefined);
      const half = samples.find((s) => s.count === LIVE_LINES / 2);
      const full = samples.find((s) => s.count === LIVE_LINES);
      if (half && full) {
        row('live: heap after a full GC at 500,000 lines (ring buffer of 50,000 held)', mb(half.heap!), 'MB');
        const growth = Math.round(((full.heap! - half.heap!) / 1024 / 1024) * 10) / 10;
        row('live: heap growth after GC from 500,000 to 1,000,000 lines', growth, 'MB', 'flat (< 5 MB)', growth < 5);
      }
      const reconnects = liveMessages.filter((m) => m.type === 'event' && m.event === 'reconnecting').length;
      row('live: reconnects', reconnects, '');
    }

    // Catch-up: the same stored lines, read by raw journalctl, the follower and the CLI.
    await startFlood(host, storedUnit, CATCHUP_LINES);
    await waitUnitGone(host, storedUnit);
    await waitStored(host, storedUnit, CATCHUP_LINES);
    const rawArgv = journalArgv({ units: [storedUnit] });
    // Every entry of the unit (systemd's few lines about it included) is what all readers read.
    const count = Number((await host.run(['sh', '-c', 'exec "$0" "$@" | wc -l', ...rawArgv], { timeoutMs: 600_000 })).stdout.trim());
    const flood = Number((await host.run(['sh', '-c', 'journalctl --no-pager --quiet --output=cat --unit="$0" | grep -c "^flood line "', storedUnit], { timeoutMs: 600_000 })).stdout.trim());
    if (flood < CATCHUP_LINES) row(`catch-up: flood lines stored (expected ${CATCHUP_LINES}; the journal cap?)`, flood, 'lines', `${CATCHUP_LINES}`, false);
    const raw: number[] = [];
    const rawStdbuf: number[] = [];
    const allFields: number[] = [];
    const ours: number[] = [];
    const oursCpu: number[] = [];
    const oursRss: number[] = [];
    for (let i = 0; i < 2; i++) {
      raw.push(await timeRaw(host, rawArgv));
      rawStdbuf.push(await timeRaw(host, ['stdbuf', '--output=64K', ...rawArgv]));
      const { messages } = await ingest(script, labDir, storedUnit, count);
      const end = messages.find((m) => m.type === 'done');
      if (end) {
        ours.push(end.sinceStartMs!);
        oursCpu.push((end.cpuMs! / end.sinceFirstMs!) * 100);
        oursRss.push(end.rss!);
      }
    }
    allFields.push(await timeRaw(host, ['journalctl', '--no-pager', '--quiet', '--output=json', `--unit=${storedUnit}`]));
    const cliStarted = performance.now();
    const cli = await execa(process.execPath, [opsdeckBin, 'logs', storedUnit, '--host', 'lab', '--config', config], { reject: false, stdin: 'ignore', stdout: 'ignore', env: { NO_COLOR: '1' } });
    const cliMs = performance.now() - cliStarted;

    const rawRate = perSecond(count, Math.min(...raw));
    row(`catch-up: raw journalctl -o json, same fields, > /dev/null (${count.toLocaleString('en')} lines, best of 2)`, rawRate, 'lines/s');
    row('catch-up: the same under stdbuf --output=64K (as the follower runs it), > /dev/null', perSecond(count, Math.min(...rawStdbuf)), 'lines/s');
    row('catch-up: raw journalctl -o json, all fields, > /dev/null', perSecond(count, allFields[0]!), 'lines/s');
    if (ours.length > 0) {
      const oursRate = perSecond(count, Math.min(...ours));
      row('catch-up: JournalFollower -> LogBuffer, from spawn to last line (best of 2)', oursRate, 'lines/s');
      const ratio = Math.round((oursRate / rawRate) * 100) / 100;
      row('catch-up: follower / raw journalctl (same fields)', ratio, 'x', '>= 0.9', ratio >= 0.9);
      row('catch-up: CPU of the following process', Math.round(Math.min(...oursCpu)), '%');
      row('catch-up: RSS of the following process at the end', mb(Math.max(...oursRss)), 'MB', `< ${RSS_TARGET_MB} MB`, mb(Math.max(...oursRss)) < RSS_TARGET_MB);
    } else {
      row('catch-up: the follower did not finish', 0, '', 'finishes', false);
    }
    row(`catch-up: opsdeck logs UNIT > /dev/null (one-shot CLI, plain text)${cli.exitCode === 0 ? '' : ` exit ${cli.exitCode}`}`, perSecond(count, cliMs), 'lines/s');
  } finally {
    rmSync(dir, { recursive: true, force: true });
    for (const unit of [liveUnit, storedUnit]) await host.run(['systemctl', 'stop', '--', unit], { okExitCodes: [0, 1, 5] }).catch(() => undefined);
  }
  return rows;
}
