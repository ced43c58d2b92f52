// `opsdeck doctor --json` on the lab's incident: wall time, and the processes it spawns per host
// against a status refresh of the same config (the doctor asks only the journal lines and the
// process facts its findings need on top of the status).
import { loadConfig } from '../../src/config/load.js';
import { runDoctor } from '../../src/core/doctor/doctor.js';
import { HostRegistry } from '../../src/core/host/registry.js';
import { collectStatus } from '../../src/core/status/collect.js';
import { median, timeCli, type BenchRow } from './support.js';

/** Processes one in-process run spawns on each host, by program. */
async function spawnedBy(config: string, work: (parsed: ReturnType<typeof loadConfig>['config'], hosts: HostRegistry) => Promise<unknown>): Promise<Map<string, Map<string, number>>> {
  const { config: parsed } = loadConfig(config);
  const hosts = new HostRegistry(parsed);
  const counts = new Map<string, Map<string, number>>();
  try {
    for (const name of hosts.names()) {
      const host = hosts.get(name);
      const run = host.run.bind(host);
      const stream = host.stream.bind(host);
      const count = (argv: readonly string[]) => {
        const byProgram = counts.get(name) ?? new Map<string, number>();
        byProgram.set(argv[0]!, (byProgram.get(argv[0]!) ?? 0) + 1);
        counts.set(name, byProgram);
      };
      host.run = (argv, options) => (count(argv), run(argv, options));
      host.stream = (argv, options) => (count(argv), stream(argv, options));
    }
    await work(parsed, hosts);
  } finally {
    await hosts.closeAll();
  }
  return counts;
}

const total = (byProgram: Map<string, number> | undefined) => [...(byProgram ?? new Map<string, number>()).values()].reduce((n, c) => n + c, 0);

export async function benchDoctor(config: string): Promise<BenchRow[]> {
  const runs = 7;
  await timeCli(['doctor', '--json', '--config', config]); // warm the page cache
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await timeCli(['doctor', '--json', '--config', config]));
  const statusTimes: number[] = [];
  for (let i = 0; i < runs; i++) statusTimes.push(await timeCli(['status', '--json', '--config', config]));

  // A refresh first, so both counts below see the same caches of this process (a foreign
  // archive's content is read once per version of it): the difference is the doctor's own.
  await spawnedBy(config, (parsed, hosts) => collectStatus(parsed, hosts));
  const status = await spawnedBy(config, (parsed, hosts) => collectStatus(parsed, hosts));
  const doctor = await spawnedBy(config, (parsed, hosts) => runDoctor(parsed, hosts));
  const rows: BenchRow[] = [
    { bench: 'doctor', metric: `opsdeck doctor --json on the incident, wall time (median of ${runs})`, value: Math.round(median(times)), unit: 'ms', target: '< 2000 ms', met: median(times) < 2000 },
    { bench: 'doctor', metric: `opsdeck status --json, the same config, for comparison (median of ${runs})`, value: Math.round(median(statusTimes)), unit: 'ms' },
  ];
  for (const [host, byProgram] of doctor) {
    const extra = total(byProgram) - total(status.get(host));
    const more = [...byProgram.entries()].map(([p, n]) => [p, n - (status.get(host)?.get(p) ?? 0)] as const).filter(([, n]) => n !== 0).sort();
    rows.push({ bench: 'doctor', metric: `processes the doctor spawns on host ${host} (${[...byProgram.entries()].sort().map(([p, n]) => `${p} ${n}`).join(', ')})`, value: total(byProgram), unit: 'procs' });
    // Beyond a refresh (which reads the failing unit's journal itself): the port holder's /proc
    // read and ps (per environment with one), and per host one stat -f, verify and calendar.
    rows.push({ bench: 'doctor', metric: `  of which more than a status refresh on host ${host} (${more.map(([p, n]) => `${p} ${n > 0 ? '+' : ''}${n}`).join(', ')})`, value: extra, unit: 'procs', target: '<= 5', met: extra <= 5 });
    rows.push({ bench: 'doctor', metric: `  systemctl show calls on host ${host}`, value: byProgram.get('systemctl') ?? 0, unit: 'procs', target: '1', met: (byProgram.get('systemctl') ?? 0) === 1 });
  }
  return rows;
}
