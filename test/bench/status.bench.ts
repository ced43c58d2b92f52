// `opsdeck status --json` on the lab: wall time, and processes spawned per host per refresh.
import { loadConfig } from '../../src/config/load.js';
import { HostRegistry } from '../../src/core/host/registry.js';
import { collectStatus } from '../../src/core/status/collect.js';
import { median, timeCli, type BenchRow } from './support.js';

export async function benchStatus(config: string): Promise<BenchRow[]> {
  const runs = 7;
  await timeCli(['status', '--json', '--config', config]); // warm the page cache
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await timeCli(['status', '--json', '--config', config]));

  const { config: parsed } = loadConfig(config);
  const hosts = new HostRegistry(parsed);
  const byCommand = new Map<string, number>();
  const host = hosts.get('lab');
  const run = host.run.bind(host);
  host.run = (argv, options) => {
    byCommand.set(argv[0]!, (byCommand.get(argv[0]!) ?? 0) + 1);
    return run(argv, options);
  };
  const report = await collectStatus(parsed, hosts);
  const envCount = report.environments.length;
  const rows: BenchRow[] = [
    { bench: 'status', metric: `opsdeck status --json, wall time (median of ${runs})`, value: Math.round(median(times)), unit: 'ms' },
    { bench: 'status', metric: `in-process refresh of ${envCount} environments`, value: report.durationMs, unit: 'ms' },
    { bench: 'status', metric: 'processes spawned per refresh on host lab', value: report.hosts[0]!.spawned, unit: 'procs' },
  ];
  for (const [command, count] of [...byCommand.entries()].sort()) {
    const target = command === 'systemctl' ? '1 per host' : undefined;
    rows.push({ bench: 'status', metric: `  of which ${command}`, value: count, unit: 'procs', ...(target ? { target, met: count === 1 } : {}) });
  }
  return rows;
}
