// The console on the lab, in a real pseudo-terminal (util-linux `script`): time from process
// start to the first frame and to the first complete frame (every environment's state shown),
// then RSS after a minute idle and CPU used over that minute with the default refresh.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { median, opsdeckBin, type BenchRow } from './support.js';

const CLK_TCK = 100;

function descendants(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number) => {
    for (const task of safe(() => readdirSync(`/proc/${p}/task`), [] as string[])) {
      for (const child of safe(() => readFileSync(`/proc/${p}/task/${task}/children`, 'utf8'), '').trim().split(/\s+/).filter(Boolean).map(Number)) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}

function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

/** utime+stime of the process and of its children it has waited for, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / CLK_TCK;
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Math.round(Number(line.split(/\s+/)[1]) / 102.4) / 10;
}

interface Session {
  pid: number;
  output: () => string;
  stop: () => void;
  started: number;
}

function openConsole(config: string): Session {
  const started = performance.now();
  const child = spawn('script', ['-qfec', `stty cols 120 rows 40; exec ${process.execPath} ${opsdeckBin} --config ${config}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'ignore'], detached: true });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
    if (text.length > 200_000) text = text.slice(-100_000);
  });
  return { pid: child.pid!, output: () => text, stop: () => safe(() => process.kill(-child.pid!, 'SIGKILL'), undefined), started };
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
  const firstFrames: number[] = [];
  const completeFrames: number[] = [];
  for (let i = 0; i < 7; i++) {
    const session = openConsole(config);
    const first = await until(() => session.output().includes('environments'));
    const complete = await until(() => /CRASH-LOOP[\s\S]*active\/running|active\/running[\s\S]*CRASH-LOOP/.test(session.output()));
    firstFrames.push(first - session.started);
    completeFrames.push(complete - session.started);
    session.stop();
    await new Promise((r) => setTimeout(r, 300));
  }

  const idleSeconds = Number(process.env.OPSDECK_BENCH_IDLE_SEC ?? 60);
  const session = openConsole(config);
  await until(() => session.output().includes('CRASH-LOOP'));
  const node = descendants(session.pid).find((p) => safe(() => readFileSync(`/proc/${p}/cmdline`, 'utf8'), '').includes('opsdeck.js'))!;
  await new Promise((r) => setTimeout(r, 2000));
  const cpuBefore = cpuSeconds(node);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, idleSeconds * 1000));
  const cpu = cpuSeconds(node) - cpuBefore;
  const elapsed = (performance.now() - t0) / 1000;
  const rss = rssMb(node);
  session.stop();

  const firstMedian = Math.round(median(firstFrames));
  const completeMedian = Math.round(median(completeFrames));
  const cpuPercent = Math.round((cpu / elapsed) * 1000) / 10;
  return [
    { bench: 'console', metric: 'start to first frame (median of 7)', value: firstMedian, unit: 'ms' },
    { bench: 'console', metric: 'start to first complete frame (median of 7)', value: completeMedian, unit: 'ms', target: '< 300 ms', met: completeMedian < 300 },
    { bench: 'console', metric: `RSS after ${idleSeconds} s idle`, value: rss, unit: 'MB' },
    { bench: 'console', metric: `CPU while idle ${idleSeconds} s (refresh 2 s, incl. its commands)`, value: cpuPercent, unit: '% of a core', target: '< 2%', met: cpuPercent < 2 },
  ];
}
