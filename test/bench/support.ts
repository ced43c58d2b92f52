// Shared pieces of the benchmarks: a lab of their own, timing helpers, result rows.
import { build } from 'esbuild';
import { execa } from 'execa';
import path from 'node:path';
import { labDown, labUp } from '../../src/lab/lab.js';

export const repoRoot = path.resolve(import.meta.dirname, '../..');
export const opsdeckBin = path.join(repoRoot, 'bin', 'opsdeck.js');
export const BENCH_LAB_DIR = '/var/lib/opsdeck-lab-bench';
export const BENCH_PORT_BASE = 33444;

export interface BenchRow {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  target?: string;
  /** true: target met; false: missed; undefined: no target. */
  met?: boolean | undefined;
}

export async function withBenchLab<T>(fn: (config: string) => Promise<T>): Promise<T> {
  await labDown({ dir: BENCH_LAB_DIR });
  const { state } = await labUp({ dir: BENCH_LAB_DIR, portBase: BENCH_PORT_BASE });
  try {
    return await fn(state.config);
  } finally {
    await labDown({ dir: BENCH_LAB_DIR });
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function timeCli(args: string[]): Promise<number> {
  const started = performance.now();
  await execa(process.execPath, [opsdeckBin, ...args], { reject: false, stdin: 'ignore', env: { NO_COLOR: '1' } });
  return performance.now() - started;
}

/**
 * Bundle a bench's child script (TypeScript source importing the repo's src/) into DIR/NAME.mjs,
 * so a measurement runs in a fresh process of its own (its memory is the code's, not the runner's).
 */
export async function bundleChild(dir: string, name: string, source: string): Promise<string> {
  const outfile = path.join(dir, `${name}.mjs`);
  await build({
    stdin: { contents: source, resolveDir: repoRoot, loader: 'ts', sourcefile: `${name}.ts` },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
    logLevel: 'warning',
  });
  return outfile;
}
