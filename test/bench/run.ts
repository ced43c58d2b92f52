// `npm run bench`: runs the benchmarks against a lab of their own, prints a table and writes
// bench-results/latest.json (and a dated copy). Select some with: npm run bench -- status logs
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchBackups } from './backups.bench.js';
import { benchConsole } from './console.bench.js';
import { benchDoctor } from './doctor.bench.js';
import { benchLogs } from './logs.bench.js';
import { benchOps } from './ops.bench.js';
import { benchStatus } from './status.bench.js';
import { repoRoot, withBenchLab, type BenchRow } from './support.js';

type Bench = (config: string) => Promise<BenchRow[]>;
// The console and the operations run before the log flood, which leaves journald busy for a while.
const BENCHES: Record<string, Bench> = {
  status: benchStatus,
  doctor: benchDoctor,
  ops: benchOps,
  console: benchConsole,
  logs: benchLogs,
  backups: benchBackups,
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const selected = Object.entries(BENCHES).filter(([name]) => wanted.length === 0 || wanted.includes(name));
if (selected.length === 0) {
  console.error(`unknown benchmark(s): ${wanted.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}

const rows = await withBenchLab(async (config) => {
  const all: BenchRow[] = [];
  for (const [name, bench] of selected) {
    process.stderr.write(`running ${name}…\n`);
    all.push(...(await bench(config)));
  }
  return all;
});

const header = ['bench', 'metric', 'value', 'target', 'met'];
const table = rows.map((r) => [r.bench, r.metric, `${r.value} ${r.unit}`, r.target ?? '', r.met === undefined ? '' : r.met ? 'yes' : 'NO']);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const row of table) console.log(line(row));

const dir = path.join(repoRoot, 'bench-results');
mkdirSync(dir, { recursive: true });
const result = { at: new Date().toISOString(), node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, rows };
writeFileSync(path.join(dir, 'latest.json'), JSON.stringify(result, null, 2) + '\n');
writeFileSync(path.join(dir, `${result.at.replace(/[:.]/g, '-')}.json`), JSON.stringify(result, null, 2) + '\n');
console.log(`\nwritten to ${path.relative(process.cwd(), path.join(dir, 'latest.json'))}`);
