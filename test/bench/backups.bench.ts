// Backups on one generated data set (about 630 MB: 20,000 small files, four large ones, text
// that compresses like real data and some incompressible bytes), on this machine (local) and
// on the bench lab's ssh host (lab-ssh: the same disk, reached through its sshd):
//   create:  writeArchive (pre-scan, the host's tar with progress, SHA-256 (openssl) while fsync, rename,
//            manifest) against the bare tar on the same host, same data, same directory:
//            gzip via tar --gzip (pigz hidden from opsdeck) vs `tar -czf`; gzip via pigz
//            (opsdeck's default where pigz is installed) vs `tar -I pigz` and vs `tar -czf`;
//            zstd vs `tar --zstd` (opsdeck runs zstd on every core: ZSTD_NBTHREADS=0), and a bare
//            pipeline that adds only a SHA-256 of the stream and an fsync (a shell's, for scale);
//   verify:  verifyArchive (SHA-256, a test extraction, the tree compared with the manifest)
//            of the gzip (pigz) archive and of the zstd archive;
//   memory:  each create and verify runs in a fresh process of its own (the core bundled, as
//            the CLI is), its RSS sampled every 50 ms (peak, peaks of the first and second half,
//            VmHWM) and its heap measured after a full collection at 1/4, 2/4 and 3/4 of the
//            files: flat means it does not grow as the data streams. The host's tar and
//            compressor are sampled from /proc (the lab's processes are visible from here).
// The data set is read once before anything is timed and stays in the page cache (nothing is
// dropped); `sync` runs before every measurement; every archive is removed after its last use.
// Creates: REPS runs of each, alternating with the baseline, the fastest counting (the machine
// may be shared). MB = 10^6 bytes of input data.
import { removeArchive } from '../../src/core/backups/create.js';
import { createCipheriv } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statfsSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { archiveName } from '../../src/core/backups/policy.js';
import { loadConfig } from '../../src/config/load.js';
import type { HostConfig } from '../../src/config/schema.js';
import { LocalHost, type Host } from '../../src/core/host/host.js';
import { describeError } from '../../src/core/text/errors.js';
import { HostRegistry } from '../../src/core/host/registry.js';
import { bundleChild, type BenchRow } from './support.js';

const DATA_ROOT = '/var/lib/opsdeck-bench-data';
const DATA = path.join(DATA_ROOT, 'data');
const ARCHIVES = path.join(DATA_ROOT, 'archives');
const RECIPE_FILE = path.join(DATA_ROOT, 'recipe.json');
const MIN_FREE_BYTES = 3e9;
const RSS_TARGET_MB = 150;
/** Heap kept (after a full collection) from 1/4 to 3/4 of the files, per file: flat is about 0
 *  (a map of every path is ~150 B/file: 150 MB for a million files). */
const HEAP_PER_FILE_TARGET = 32;
/** Runs of each create and its baseline, alternately, the fastest counting: the gzip runs are
 *  long (noise averages out within them, and each costs ~30 s), zstd's are short (repeated).
 *  Verify runs once. About 7 minutes in all on 2 cores. */
const REPS = { gzip: 1, zstd: 3 };
const MB = 1e6;
/** $1: the data, $2: the archive. zstd on every core, as opsdeck runs it; the hash read from the stream as it is written; then the fsync. */
const ZSTD_FLOOR = 'tar --blocking-factor=2048 -cf - -C "$1" . | zstd -q -T0 -c | tee "$2" | openssl dgst -sha256 -r >/dev/null && sync "$2"';

/** Change anything here and the data set is made again. */
const RECIPE = {
  version: 1,
  seed: 20251002,
  smallFiles: 20_000,
  smallDirs: 100,
  smallBytes: [1024, 16 * 1024],
  /** Every this-many small file is incompressible (a thumbnail, an upload). */
  smallRandomEvery: 20,
  large: [
    { path: 'db/events.jsonl', mib: 150, random: 0 },
    { path: 'db/snapshot.db', mib: 128, random: 0.25 },
    { path: 'logs/app.log', mib: 96, random: 0 },
    { path: 'media/uploads.bin', mib: 64, random: 1 },
  ],
};

// --- the data set ---------------------------------------------------------------------------

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu order invoice customer payment refund shipment warehouse ticket session token account profile report export import queue worker retry timeout latency cache miss hit region shard replica primary backup restore snapshot volume disk memory cpu network request response error warning notice debug trace span metric gauge counter histogram'.split(' ');
const EVENTS = ['login', 'logout', 'order.created', 'order.paid', 'order.shipped', 'ticket.opened', 'ticket.closed', 'sync.started', 'sync.finished', 'export.failed'];
const STATUSES = [200, 200, 200, 200, 201, 204, 304, 400, 404, 500];

/** JSON-ish records (ids, times, words, numbers): compresses about like logs and documents do. */
function textBytes(rand: () => number, bytes: number): Buffer {
  const word = () => WORDS[Math.floor(rand() * WORDS.length)]!;
  const hex = () => Math.floor(rand() * 0x100000000).toString(16).padStart(8, '0');
  const two = (n: number) => String(n).padStart(2, '0');
  const parts: string[] = [];
  let size = 0;
  while (size < bytes) {
    const line = `{"id":"${hex()}${hex()}","ts":"2025-${two(1 + Math.floor(rand() * 12))}-${two(1 + Math.floor(rand() * 28))}T${two(Math.floor(rand() * 24))}:${two(Math.floor(rand() * 60))}:${two(Math.floor(rand() * 60))}.${Math.floor(rand() * 1000)}Z","user":"${word()}.${word()}@example.com","event":"${EVENTS[Math.floor(rand() * EVENTS.length)]}","status":${STATUSES[Math.floor(rand() * STATUSES.length)]},"ms":${(rand() * 900).toFixed(1)},"tags":["${word()}","${word()}"],"msg":"${word()} ${word()} ${word()} ${word()} ${word()}"}\n`;
    parts.push(line);
    size += line.length;
  }
  return Buffer.from(parts.join(''), 'latin1').subarray(0, bytes);
}

/** Incompressible and deterministic: AES-CTR of zeros, keyed by the seed. */
function randomStream(seed: number): (bytes: number) => Buffer {
  const key = Buffer.alloc(16);
  key.writeUInt32BE(seed >>> 0);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return (bytes) => cipher.update(Buffer.alloc(bytes));
}

function generate(into: string): void {
  const [min, max] = RECIPE.smallBytes as [number, number];
  for (let i = 0; i < RECIPE.smallFiles; i++) {
    const dir = path.join(into, 'docs', String(i % RECIPE.smallDirs).padStart(3, '0'));
    if (i < RECIPE.smallDirs) mkdirSync(dir, { recursive: true });
    const rand = mulberry32(RECIPE.seed + i);
    const size = min + Math.floor(rand() * (max - min + 1));
    const incompressible = i % RECIPE.smallRandomEvery === 0;
    writeFileSync(path.join(dir, `doc-${String(i).padStart(5, '0')}.${incompressible ? 'bin' : 'json'}`), incompressible ? randomStream(RECIPE.seed + i)(size) : textBytes(rand, size));
  }
  RECIPE.large.forEach((file, n) => {
    const target = path.join(into, file.path);
    mkdirSync(path.dirname(target), { recursive: true });
    const rand = mulberry32(RECIPE.seed * 7 + n);
    const random = randomStream(RECIPE.seed * 7 + n);
    const fd = openSync(target, 'w');
    try {
      for (let mib = 0; mib < file.mib; mib++) writeSync(fd, rand() < file.random ? random(1 << 20) : textBytes(rand, 1 << 20));
    } finally {
      closeSync(fd);
    }
  });
}

/** The data set, made once per recipe (reused while recipe.json matches); its size in bytes. */
async function dataSet(say: (line: string) => void): Promise<{ bytes: number; files: number }> {
  mkdirSync(DATA_ROOT, { recursive: true, mode: 0o755 });
  const { bavail, bsize } = statfsSync(DATA_ROOT);
  const free = bavail * bsize;
  if (free < MIN_FREE_BYTES) {
    throw new Error(`the backups benchmark needs 3 GB free on the disk of ${DATA_ROOT} (data set ~0.7 GB, archives, a test extraction): only ${(free / 1e9).toFixed(1)} GB free (df ${DATA_ROOT}); free space there and run it again`);
  }
  const recipe = JSON.stringify(RECIPE);
  const current = existsSync(RECIPE_FILE) ? readFileSync(RECIPE_FILE, 'utf8') : null;
  if (current !== recipe || !existsSync(DATA)) {
    say(`generating the data set in ${DATA} (once per recipe)`);
    rmSync(RECIPE_FILE, { force: true });
    rmSync(DATA, { recursive: true, force: true });
    const partial = `${DATA}.partial`;
    rmSync(partial, { recursive: true, force: true });
    const t = performance.now();
    generate(partial);
    renameSync(partial, DATA);
    await execa('sync');
    writeFileSync(RECIPE_FILE, recipe);
    say(`  made in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  // Read it all once: every measurement then starts from the same, warm page cache.
  const { stdout } = await execa('sh', ['-c', 'tar -cf - -C "$0" . | wc -c >/dev/null && find "$0" -type f -printf "%s\\n"', DATA]);
  const sizes = stdout.trim().split('\n').map(Number);
  return { bytes: sizes.reduce((a, b) => a + b, 0), files: sizes.length };
}

// --- the measured process -------------------------------------------------------------------

// One create or verify in a process of its own, as the CLI would run it. Prints one JSON line.
const CHILD_SOURCE = `
import { readFileSync } from 'node:fs';
import { LocalHost } from './src/core/host/host.js';
import { createHost } from './src/core/host/registry.js';
import { CommandError, describeError } from './src/core/text/errors.js';
import { writeArchive } from './src/core/backups/create.js';
import { readCatalog } from './src/core/backups/catalog.js';
import { verifyArchive } from './src/core/backups/verify.js';
const args = JSON.parse(process.env.OPSDECK_BENCH_ARGS);
const send = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const host = args.ssh ? createHost('lab-ssh', args.ssh) : new LocalHost();
// Time spent per command (tar is streamed), and pigz hidden when asked (gzip then is tar --gzip).
const commands = [];
const run = host.run.bind(host);
host.run = async (argv, options) => {
  if (args.hidePigz && argv[0] === 'pigz') throw new CommandError({ kind: 'missing-tool', host: host.name, argv, message: 'pigz hidden by the benchmark' });
  const t = performance.now();
  try { return await run(argv, options); } finally { commands.push([argv[0], performance.now() - t]); }
};
const stream = host.stream.bind(host);
host.stream = (argv, options) => {
  const t = performance.now();
  const handle = stream(argv, options);
  void handle.done.then(() => commands.push([argv.includes('tar') ? 'tar' : argv[0], performance.now() - t]));
  return handle;
};
try {
  await host.run(['true']); // the ssh master up: a connection is not what is measured
  commands.length = 0;
  const samples = [];
  let t0 = performance.now();
  const timer = setInterval(() => samples.push([performance.now() - t0, process.memoryUsage().rss]), 50);
  const rssBefore = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  const progress = { events: 0, bytes: 0, totalBytes: 0 };
  // What stays on the heap as the files stream past: a full collection at 1/4, 2/4 and 3/4 of them.
  const heaps = [];
  const onProgress = (p) => {
    progress.events++;
    progress.bytes = p.bytes;
    progress.totalBytes = p.totalBytes ?? 0;
    if (p.totalFiles && heaps.length < 3 && p.files >= ((heaps.length + 1) * p.totalFiles) / 4) {
      globalThis.gc();
      heaps.push(process.memoryUsage().heapUsed);
    }
  };
  let result;
  if (args.mode === 'create') {
    const m = await writeArchive(host, { environment: 'bench', source: args.source, dir: args.dir, name: args.name, compression: args.compression, createdBy: 'bench' }, { onProgress });
    result = { compressor: m.compressor, archiveBytes: m.archiveBytes, bytes: m.bytes, files: m.files };
  } else {
    const catalog = await readCatalog(host, { dir: args.dir, prefix: 'data-' });
    const entry = catalog.entries.find((e) => e.name === args.name);
    if (!entry) throw new Error(args.name + ' is not in the catalog of ' + args.dir);
    commands.length = 0;
    t0 = performance.now();
    const report = await verifyArchive(host, entry, { onProgress });
    result = { ok: report.ok, checks: report.checks.map((c) => c.name + (c.ok ? ' ok' : ' FAILED: ' + c.detail)) };
  }
  const ms = performance.now() - t0;
  clearInterval(timer);
  const cpu = process.cpuUsage(cpu0);
  const hwm = Number(/VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) * 1024;
  send({ type: 'done', ms, cpuMs: (cpu.user + cpu.system) / 1000, rssBefore, samples, hwm, heaps, progress, commands, result });
} catch (error) {
  send({ type: 'error', message: describeError(error) });
} finally {
  await host.close();
}
process.exit(0);
`;

interface ChildArgs {
  mode: 'create' | 'verify';
  ssh?: HostConfig | undefined;
  hidePigz?: boolean;
  source?: string;
  dir: string;
  name: string;
  compression?: 'gzip' | 'zstd';
}

interface ChildResult {
  ms: number;
  cpuMs: number;
  rssBefore: number;
  samples: [number, number][];
  hwm: number;
  /** heapUsed after a full collection at 1/4, 2/4 and 3/4 of the files. */
  heaps: number[];
  progress: { events: number; bytes: number; totalBytes: number };
  commands: [string, number][];
  result: { compressor?: string; archiveBytes?: number; bytes?: number; files?: number; ok?: boolean; checks?: string[] };
}


async function inChild(script: string, args: ChildArgs): Promise<ChildResult> {
  const { stdout } = await execa(process.execPath, ['--expose-gc', script], { reject: false, stdin: 'ignore', stderr: 'inherit', env: { OPSDECK_BENCH_ARGS: JSON.stringify(args) } });
  const last = stdout.trim().split('\n').pop() ?? '';
  let message: (ChildResult & { type: 'done' }) | { type: 'error'; message: string };
  try {
    message = JSON.parse(last) as typeof message;
  } catch {
    throw new Error(`the ${args.mode} process printed no result (last line: ${last.slice(0, 200) || 'none'})`);
  }
  if (message.type === 'error') throw new Error(`${args.mode} of ${args.name} failed: ${message.message}`);
  return message;
}

// --- the host's tar and compressor, seen from /proc -----------------------------------------

/** RSS of the tar and the hasher (openssl or sha256sum) working in `dir`, with all their descendants (the compressor), now (bytes). */
function toolRss(dir: string): number {
  const procs: { pid: number; ppid: number; name: string; rss: number }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let status: string;
    try {
      status = readFileSync(`/proc/${entry}/status`, 'utf8');
    } catch {
      continue;
    }
    const field = (name: string) => new RegExp(`^${name}:\\s+(\\S+)`, 'm').exec(status)?.[1] ?? '';
    procs.push({ pid: Number(entry), ppid: Number(field('PPid')), name: field('Name'), rss: Number(field('VmRSS') || 0) * 1024 });
  }
  // tar forks before it runs the compressor: the compressor may be a grandchild.
  const counted = new Set<number>();
  for (const p of procs) {
    if (p.name !== 'tar' && p.name !== 'sha256sum' && p.name !== 'openssl') continue;
    try {
      if (readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').includes(dir)) counted.add(p.pid);
    } catch {
      /* gone */
    }
  }
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) {
      if (!counted.has(p.pid) && counted.has(p.ppid)) {
        counted.add(p.pid);
        grew = true;
      }
    }
  }
  return procs.filter((p) => counted.has(p.pid)).reduce((sum, p) => sum + p.rss, 0);
}

/** Sample toolRss every 100 ms until stopped; the peak. */
function watchTools(dir: string): () => number {
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, toolRss(dir))), 100);
  return () => {
    clearInterval(timer);
    return peak;
  };
}

// --- measuring ------------------------------------------------------------------------------

interface Timed {
  seconds: number;
  archiveBytes: number;
  /** The host's tar and compressor (and sha256sum), sampled from /proc. */
  toolPeak: number;
  child?: ChildResult;
}

const local = new LocalHost();
const settle = () => local.run(['sync'], { timeoutMs: 600_000 });

async function baseline(host: Host, argv: string[], out: string): Promise<Timed> {
  await settle();
  const stop = watchTools(ARCHIVES);
  const t = performance.now();
  await host.run(argv, { timeoutMs: 1_800_000 });
  const seconds = (performance.now() - t) / 1000;
  const toolPeak = stop();
  const { stdout } = await host.run(['stat', '-c', '%s', '--', out]);
  await host.run(['rm', '-f', '--', out]);
  return { seconds, archiveBytes: Number(stdout.trim()), toolPeak };
}

async function measured(script: string, args: ChildArgs): Promise<Timed & { child: ChildResult }> {
  await settle();
  const stop = watchTools(ARCHIVES);
  const child = await inChild(script, args);
  const toolPeak = stop();
  return { seconds: child.ms / 1000, archiveBytes: child.result.archiveBytes ?? 0, toolPeak, child };
}

/** The archive and all opsdeck wrote beside it (as a create's undo removes them). */
async function removeArchiveNamed(host: Host, name: string): Promise<void> {
  await removeArchive(host, path.posix.join(ARCHIVES, name));
}

const r1 = (n: number) => Math.round(n * 10) / 10;
const r2 = (n: number) => Math.round(n * 100) / 100;
const mb = (bytes: number) => Math.round(bytes / MB);

/** The fastest of the runs, with every run's seconds and the highest memory of any. */
function best(runs: Timed[]): Timed & { all: string } {
  const fastest = runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const slowestMemory = runs.reduce((a, b) => (peakRss(b) > peakRss(a) ? b : a));
  return { ...fastest, toolPeak: Math.max(...runs.map((r) => r.toolPeak)), child: slowestMemory.child, all: runs.map((r) => r1(r.seconds)).join(', ') };
}

function peakRss(t: Timed): number {
  return t.child ? Math.max(t.child.rssBefore, ...t.child.samples.map(([, rss]) => rss)) : 0;
}

/** Where a create's or verify's time went, from the commands it ran. */
function breakdown(c: ChildResult): string {
  const by = new Map<string, number>();
  for (const [command, ms] of c.commands) by.set(command, (by.get(command) ?? 0) + ms);
  const named = ['tar', 'openssl', 'sha256sum', 'sync', 'find'].filter((k) => by.has(k));
  // A create hashes (openssl or sha256sum) while sync flushes: their times overlap, so "other" is what is left of the wall time, at least 0.
  const other = Math.max(0, c.ms - named.reduce((sum, k) => sum + by.get(k)!, 0));
  return [...named.map((k) => `${k} ${r1(by.get(k)! / 1000)}`), `other ${r1(other / 1000)}`].join(', ') + ` s; opsdeck CPU ${r1(c.cpuMs / 1000)} s`;
}

/** Peak RSS of the opsdeck process, and whether what it keeps grows with the files streamed. */
function memoryRows(label: string, what: string, t: Timed, files: number): BenchRow[] {
  const c = t.child!;
  const half = c.ms / 2;
  const peakOf = (list: [number, number][]) => Math.max(c.rssBefore, ...list.map(([, rss]) => rss));
  const first = peakOf(c.samples.filter(([ms]) => ms < half));
  const second = peakOf(c.samples.filter(([ms]) => ms >= half));
  const peak = Math.max(first, second);
  const perFile = c.heaps.length === 3 ? Math.round((c.heaps[2]! - c.heaps[0]!) / (files / 2)) : NaN;
  return [
    {
      bench: 'backups',
      metric: `${label}: opsdeck RSS during ${what}, peak of ${c.samples.length} samples (start ${mb(c.rssBefore)}, 1st half ${mb(first)}, 2nd half ${mb(second)}, VmHWM ${mb(c.hwm)} MB); the host's tar+compressor peak ${mb(t.toolPeak)} MB`,
      value: mb(peak),
      unit: 'MB',
      target: `< ${RSS_TARGET_MB} MB`,
      met: peak / MB < RSS_TARGET_MB,
    },
    {
      bench: 'backups',
      metric: `  heap kept as the files stream (after a full GC at 1/4, 2/4, 3/4 of them: ${c.heaps.map((h) => r1(h / MB)).join(', ')} MB), growth per file`,
      value: perFile,
      unit: 'B/file',
      target: `< ${HEAP_PER_FILE_TARGET} (flat)`,
      met: perFile < HEAP_PER_FILE_TARGET,
    },
  ];
}

interface HostUnderTest {
  label: string;
  host: Host;
  ssh?: HostConfig | undefined;
}

interface Input {
  bytes: number;
  files: number;
}

/** Measures one host, adding rows as it goes (what was measured is kept if a later step fails). */
async function benchHost(script: string, target: HostUnderTest, input: Input, rows: BenchRow[], say: (line: string) => void): Promise<void> {
  const { label, host, ssh } = target;
  const rate = (seconds: number) => r1(input.bytes / MB / seconds);
  const row = (metric: string, t: Timed & { all?: string }, extra = ''): BenchRow => ({
    bench: 'backups',
    metric: `${label}: ${metric} (${t.all?.includes(',') ? `best of ${t.all} s` : `${r1(t.seconds)} s`}, archive ${mb(t.archiveBytes)} MB${extra})`,
    value: rate(t.seconds),
    unit: 'MB/s',
  });
  const ratio = (metric: string, ours: Timed, theirs: Timed, withTarget: boolean): BenchRow => {
    const value = r2(theirs.seconds / ours.seconds);
    return { bench: 'backups', metric: `${label}: ${metric}, throughput ratio`, value, unit: 'x', ...(withTarget ? { target: '>= 1.0', met: value >= 1 } : {}) };
  };
  const into = (name: string) => path.posix.join(ARCHIVES, name);

  /** One opsdeck create; the archive kept (for a verify) or removed. */
  const create = async (compression: 'gzip' | 'zstd', hidePigz: boolean, keep: boolean) => {
    const name = archiveName({ prefix: 'data-', compression }, new Date(), hidePigz ? '-gzip' : '');
    const m = await measured(script, { mode: 'create', ssh, hidePigz, source: DATA, dir: ARCHIVES, name, compression });
    const p = m.child.progress;
    if (p.bytes !== input.bytes || m.child.result.files !== input.files) throw new Error(`${label}: create ${name}: progress ended at ${p.bytes} of ${input.bytes} bytes, the manifest counts ${m.child.result.files} of ${input.files} files`);
    if (!keep) await removeArchiveNamed(host, name);
    return { ...m, name };
  };
  /** REPS times the baseline and opsdeck's create, alternately; the last create's archive kept. */
  const pair = async (what: string, argv: string[], out: string, compression: 'gzip' | 'zstd', hidePigz: boolean, keep: boolean) => {
    say(`${label}: ${what}`);
    const bare: Timed[] = [];
    const ours: Awaited<ReturnType<typeof create>>[] = [];
    for (let rep = 0; rep < REPS[compression]; rep++) {
      const last = rep === REPS[compression] - 1;
      if (rep % 2 === 0) bare.push(await baseline(host, argv, out));
      ours.push(await create(compression, hidePigz, keep && last));
      if (rep % 2 === 1) bare.push(await baseline(host, argv, out));
    }
    return { bare: best(bare), ours: best(ours), kept: ours[ours.length - 1]! };
  };
  const compressorOf = (t: Timed) => t.child?.result.compressor ?? '?';

  const gzip = await pair('gzip', ['tar', '-czf', into('baseline.tar.gz'), '-C', DATA, '.'], into('baseline.tar.gz'), 'gzip', true, false);
  rows.push(row('create gzip: tar -czf (baseline)', gzip.bare, `, tar+gzip peak RSS ${mb(gzip.bare.toolPeak)} MB`));
  rows.push(row(`create gzip: opsdeck via ${compressorOf(gzip.ours)} (pigz hidden); ${breakdown(gzip.ours.child!)}; ${gzip.ours.child!.progress.events} progress events`, gzip.ours));
  rows.push(ratio('create gzip: opsdeck (tar --gzip) / tar -czf, same compressor', gzip.ours, gzip.bare, false));
  rows.push(...memoryRows(label, 'create gzip', gzip.ours, input.files));

  let gzArchive: { name: string; archiveBytes: number };
  const hasPigz = await host.run(['pigz', '--version'], { okExitCodes: [0, 1, 2] }).then((r) => r.exitCode === 0, () => false);
  if (hasPigz) {
    const pigz = await pair('pigz', ['tar', '--use-compress-program=pigz', '-cf', into('baseline-pigz.tar.gz'), '-C', DATA, '.'], into('baseline-pigz.tar.gz'), 'gzip', false, true);
    gzArchive = pigz.kept;
    rows.push(row('create gzip: tar -I pigz (baseline)', pigz.bare, `, tar+pigz peak RSS ${mb(pigz.bare.toolPeak)} MB`));
    rows.push(row(`create gzip: opsdeck via ${compressorOf(pigz.ours)} (its default here); ${breakdown(pigz.ours.child!)}`, pigz.ours));
    rows.push(ratio('create gzip: opsdeck (pigz) / tar -I pigz, same compressor', pigz.ours, pigz.bare, false));
    rows.push(ratio('create gzip: opsdeck default (pigz) / tar -czf', pigz.ours, gzip.bare, true));
    rows.push(...memoryRows(label, 'create gzip (pigz)', pigz.ours, input.files));
  } else {
    gzArchive = await create('gzip', false, true);
    rows.push({ bench: 'backups', metric: `${label}: pigz is not installed on this host: opsdeck's gzip is tar --gzip (the rows above)`, value: 0, unit: '' });
  }

  const zstd = await pair('zstd', ['tar', '--zstd', '-cf', into('baseline.tar.zst'), '-C', DATA, '.'], into('baseline.tar.zst'), 'zstd', false, true);
  // For scale: a bare shell pipeline that adds only what the target requires beyond tar (a SHA-256,
  // computed from the stream, and an fsync), with no progress, pre-scan or manifest. opsdeck runs
  // no shell pipeline; when this is below tar --zstd too, the gap is the checksum and the fsync
  // on this machine's cores, not opsdeck's way of running them.
  say(`${label}: zstd with only a checksum and an fsync`);
  const floorRuns: Timed[] = [];
  for (let rep = 0; rep < REPS.zstd; rep++) floorRuns.push(await baseline(host, ['sh', '-c', ZSTD_FLOOR, 'sh', DATA, into('floor.tar.zst')], into('floor.tar.zst')));
  const floor = best(floorRuns);
  rows.push(row('create zstd: tar --zstd (baseline: zstd on one thread)', zstd.bare, `, tar+zstd peak RSS ${mb(zstd.bare.toolPeak)} MB`));
  rows.push(row(`create zstd: bare pipeline with only a checksum and an fsync: tar | zstd -T0 | tee | openssl dgst, then sync (no progress, no pre-scan)`, floor));
  rows.push(row(`create zstd: opsdeck (zstd on every core); ${breakdown(zstd.ours.child!)}`, zstd.ours));
  rows.push(ratio('create zstd: opsdeck / tar --zstd', zstd.ours, zstd.bare, true));
  rows.push(ratio('create zstd: the bare pipeline with checksum and fsync / tar --zstd', floor, zstd.bare, false));
  rows.push(ratio('create zstd: opsdeck / the bare pipeline with checksum and fsync', zstd.ours, floor, false));
  rows.push(...memoryRows(label, 'create zstd', zstd.ours, input.files));

  say(`${label}: verify`);
  for (const [what, made] of [['gzip', gzArchive], ['zstd', zstd.kept]] as const) {
    const v = await measured(script, { mode: 'verify', ssh, dir: ARCHIVES, name: made.name });
    if (!v.child.result.ok) throw new Error(`${label}: verify of ${made.name} failed: ${v.child.result.checks?.join('; ')}`);
    await removeArchiveNamed(host, made.name);
    rows.push(row(`verify ${what}: opsdeck verifyArchive, checks ${v.child.result.checks?.map((c) => c.split(' ')[0]).join('+')} ok; ${breakdown(v.child)}`, { ...v, archiveBytes: made.archiveBytes }));
    rows.push(...memoryRows(label, `verify ${what}`, v, input.files));
  }
}

export async function benchBackups(config: string): Promise<BenchRow[]> {
  const say = (line: string) => process.stderr.write(`  ${line}\n`);
  const input = await dataSet(say);
  say(`data set: ${mb(input.bytes)} MB in ${input.files} files`);
  const { config: parsed } = loadConfig(config);
  const hosts = new HostRegistry(parsed);
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'opsdeck-bench-backups-'));
  // Archives of an earlier run that was cut off: this directory holds nothing else.
  rmSync(ARCHIVES, { recursive: true, force: true });
  mkdirSync(ARCHIVES, { recursive: true, mode: 0o750 });
  const load = os.loadavg().map((l) => l.toFixed(1)).join(' ');
  const rows: BenchRow[] = [{ bench: 'backups', metric: `data set ${DATA}: ${input.files} files (page cache warm, nothing dropped; creates gzip ${REPS.gzip}x, zstd best of ${REPS.zstd}, verify once; load average at start ${load} on ${os.cpus().length} CPUs)`, value: mb(input.bytes), unit: 'MB' }];
  // A host that fails (the lab gone, a disk full) is a failed row, not the loss of the other's.
  const measure = async (target: HostUnderTest) => {
    try {
      await target.host.run(['true']);
      await benchHost(script, target, input, rows, say);
    } catch (error) {
      say(`${target.label}: ${describeError(error)}`);
      rows.push({ bench: 'backups', metric: `${target.label}: stopped: ${describeError(error).split('\n')[0]}`, value: 0, unit: '', target: 'completes', met: false });
      // The lab's ssh host shares this machine's disk: what it left is here.
      rmSync(ARCHIVES, { recursive: true, force: true });
      mkdirSync(ARCHIVES, { recursive: true, mode: 0o750 });
    }
  };
  let script = '';
  try {
    script = await bundleChild(scratch, 'backups-child', CHILD_SOURCE);
    await measure({ label: 'local', host: local });
    const sshConfig = parsed.hosts['lab-ssh'];
    if (!sshConfig) rows.push({ bench: 'backups', metric: 'ssh: skipped, the bench lab has no sshd (install openssh-server)', value: 0, unit: '' });
    else await measure({ label: 'ssh (lab-ssh)', host: hosts.get('lab-ssh'), ssh: sshConfig });
  } finally {
    await hosts.closeAll();
    rmSync(scratch, { recursive: true, force: true });
    rmSync(ARCHIVES, { recursive: true, force: true });
  }
  return rows;
}
