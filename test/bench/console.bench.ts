// The console on the lab, in a real pseudo-terminal (util-linux `script`): time from process
// start to the first frame and to the first complete frame (every environment's state shown),
// then RSS after a minute idle and CPU used over that minute with the default refresh.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { HostRegistry } from '../../src/core/host/registry.js';
import { descendants } from '../support/proc.js';
import { median, opsdeckBin, percentile, type BenchRow } from './support.js';

const CLK_TCK = 100;

function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

/** CPU seconds of the process itself, and of the children it has waited for (its commands). */
function cpuSeconds(pid: number): { self: number; children: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { self: (Number(fields[11]) + Number(fields[12])) / CLK_TCK, children: (Number(fields[13]) + Number(fields[14])) / CLK_TCK };
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Math.round(Number(line.split(/\s+/)[1]) / 102.4) / 10;
}

interface Session {
  pid: number;
  output: () => string;
  type: (keys: string) => void;
  stop: () => void;
  started: number;
}

function openConsole(config: string, command = `exec ${process.execPath} ${opsdeckBin} --config ${config}`, env: NodeJS.ProcessEnv = process.env): Session {
  const started = performance.now();
  const child = spawn('script', ['-qfec', `stty cols 120 rows 40; ${command}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'ignore'], detached: true, env });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
    if (text.length > 200_000) text = text.slice(-100_000);
  });
  return { pid: child.pid!, output: () => text, type: (keys) => child.stdin!.write(keys), stop: () => safe(() => process.kill(-child.pid!, 'SIGKILL'), undefined), started };
}

async function until(test: () => boolean, timeoutMs = 10_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (!test()) {
    if (performance.now() > deadline) throw new Error('timed out waiting for the console');
    await new Promise((r) => setTimeout(r, 2));
  }
  return performance.now();
}

export async function benchConsole(config: string): Promise<BenchRow[]> {
  return [...(await benchStartupAndIdle(config)), ...(await benchLogLatency(config))];
}

async function benchStartupAndIdle(config: string): Promise<BenchRow[]> {
  // The launcher keeps V8's compiled code of the bundle in the user's cache dir (bin/run-bundle.js):
  // an empty one here, so the first start is measured as after an install or an upgrade.
  const cacheHome = mkdtempSync(path.join(os.tmpdir(), 'opsdeck-bench-cache-'));
  const env = { ...process.env, XDG_CACHE_HOME: cacheHome };
  const timeToFrames = async () => {
    const session = openConsole(config, undefined, env);
    const first = await until(() => session.output().includes('environments'));
    const complete = await until(() => /CRASH-LOOP[\s\S]*active\/running|active\/running[\s\S]*CRASH-LOOP/.test(session.output()));
    return { session, first: first - session.started, complete: complete - session.started };
  };
  const cold = await timeToFrames();
  // The cache is written a moment after start-up; a session killed sooner leaves none.
  await until(() => safe(() => readdirSync(path.join(cacheHome, 'opsdeck')).some((f) => f.endsWith('.v8')), false), 10_000);
  cold.session.stop();
  await new Promise((r) => setTimeout(r, 300));

  const firstFrames: number[] = [];
  const completeFrames: number[] = [];
  for (let i = 0; i < 7; i++) {
    const { session, first, complete } = await timeToFrames();
    firstFrames.push(first);
    completeFrames.push(complete);
    session.stop();
    await new Promise((r) => setTimeout(r, 300));
  }
  rmSync(cacheHome, { recursive: true, force: true });

  // What the pseudo-terminal itself costs before opsdeck's process starts (script, stty):
  // measured the same way with a command that prints at once, and taken off.
  const ptyCosts: number[] = [];
  for (let i = 0; i < 7; i++) {
    const session = openConsole(config, 'exec printf environments');
    ptyCosts.push((await until(() => session.output().includes('environments'))) - session.started);
    session.stop();
  }
  const ptyCost = median(ptyCosts);

  const idleSeconds = Number(process.env.OPSDECK_BENCH_IDLE_SEC ?? 60);
  const session = openConsole(config);
  await until(() => session.output().includes('CRASH-LOOP'));
  const node = descendants(session.pid).find((p) => safe(() => readFileSync(`/proc/${p}/cmdline`, 'utf8'), '').includes('opsdeck.js'))!;
  await new Promise((r) => setTimeout(r, 2000));
  const cpuBefore = cpuSeconds(node);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, idleSeconds * 1000));
  const cpuAfter = cpuSeconds(node);
  const elapsed = (performance.now() - t0) / 1000;
  const percent = (seconds: number) => Math.round((seconds / elapsed) * 1000) / 10;
  const selfPercent = percent(cpuAfter.self - cpuBefore.self);
  const childrenPercent = percent(cpuAfter.children - cpuBefore.children);
  const rss = rssMb(node);
  session.stop();

  const firstMedian = Math.round(median(firstFrames) - ptyCost);
  const completeMedian = Math.round(median(completeFrames) - ptyCost);
  return [
    { bench: 'console', metric: 'process start to first frame (median of 7)', value: firstMedian, unit: 'ms' },
    { bench: 'console', metric: 'process start to first complete frame (median of 7)', value: completeMedian, unit: 'ms', target: '< 300 ms', met: completeMedian < 300 },
    { bench: 'console', metric: '  the first start of a build (no code cache yet)', value: Math.round(cold.complete - ptyCost), unit: 'ms' },
    { bench: 'console', metric: '  (the pseudo-terminal\'s own start, taken off the above)', value: Math.round(ptyCost), unit: 'ms' },
    { bench: 'console', metric: `RSS after ${idleSeconds} s idle`, value: rss, unit: 'MB' },
    { bench: 'console', metric: `CPU of the console while idle ${idleSeconds} s (refresh 2 s)`, value: selfPercent, unit: '% of a core', target: '< 2%', met: selfPercent < 2 },
    { bench: 'console', metric: '  plus its commands (nsenter+systemctl, ss, curl per refresh)', value: childrenPercent, unit: '% of a core' },
    { bench: 'console', metric: '  together', value: Math.round((selfPercent + childrenPercent) * 10) / 10, unit: '% of a core' },
  ];
}

/**
 * Delay from a line being written to it being on screen, at 1,000 lines/s: a lab unit writes
 * "mark <epoch ms>" lines; the console follows it in a pseudo-terminal; each mark's first
 * appearance in the terminal output is timed against the time in it.
 */
export async function benchLogLatency(config: string): Promise<BenchRow[]> {
  const { config: parsed } = loadConfig(config);
  const host = new HostRegistry(parsed).get('lab');
  const unit = `opsdeck-bench-marks-${process.pid}.service`;
  const floodConfig = config.replace(/\.yaml$/, '-marks.yaml');
  // An environment of its own, listed first so the console selects it.
  writeFileSync(floodConfig, readFileSync(config, 'utf8').replace('environments:\n', `environments:\n  marks:\n    host: lab\n    unit: ${unit}\n`));
  const writer = `let n=0;setInterval(()=>{let s='';for(let i=0;i<10;i++)s+='mark '+Date.now()+' '+(n++)+'\\n';process.stdout.write(s)},10);setTimeout(()=>process.exit(0),${25_000})`;
  await host.run(['systemd-run', `--unit=${unit}`, '--property=LogRateLimitIntervalSec=0', '--', process.execPath, '-e', writer]);
  const session = openConsole(floodConfig);
  try {
    await until(() => session.output().includes('environments'));
    await new Promise((r) => setTimeout(r, 500));
    session.type('4'); // the logs pane
    const node = descendants(session.pid).find((p) => safe(() => readFileSync(`/proc/${p}/cmdline`, 'utf8'), '').includes('opsdeck.js'))!;
    const cpuBefore = cpuSeconds(node);
    const seen = new Map<number, number>();
    const started = performance.now();
    let scanned = 0;
    while (performance.now() - started < 15_000) {
      const text = session.output();
      const fresh = text.slice(Math.max(0, scanned - 40));
      scanned = text.length;
      const now = Date.now();
      for (const m of fresh.matchAll(/mark (\d{13}) (\d+)/g)) {
        const seq = Number(m[2]);
        if (!seen.has(seq)) seen.set(seq, now - Number(m[1]));
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    // Skip the history shown when the pane opened: only lines written while following count.
    const delays = [...seen.entries()].filter(([seq]) => seq > 2000).map(([, d]) => d);
    const p95 = delays.length ? percentile(delays, 95) : NaN;
    const cpuAfter = cpuSeconds(node);
    const elapsed = (performance.now() - started) / 1000;
    const followCpu = Math.round(((cpuAfter.self - cpuBefore.self) / elapsed) * 1000) / 10;
    return [
      { bench: 'console', metric: `log line written → on screen at 1,000 lines/s, p95 (${delays.length} lines seen)`, value: Math.round(p95), unit: 'ms', target: '< 150 ms', met: p95 < 150 },
      { bench: 'console', metric: 'same, median', value: Math.round(median(delays)), unit: 'ms' },
      { bench: 'console', metric: 'CPU of the console following 1,000 lines/s (logs pane open)', value: followCpu, unit: '% of a core' },
    ];
  } finally {
    session.stop();
    await host.run(['systemctl', 'stop', unit], { okExitCodes: [0, 1, 5] }).catch(() => undefined);
  }
}
