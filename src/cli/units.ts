// `opsdeck units [--json]`: every service unit systemd knows on the host(s).
import { listUnits, type UnitListEntry } from '../core/systemd/units.js';
import { loadContext, type GlobalOptions } from './context.js';
import { paint, printJson } from './format.js';
import { table } from './table.js';

export async function unitsCommand(options: GlobalOptions & { json?: boolean; type?: string }): Promise<number> {
  const ctx = loadContext(options);
  // The hosts the environments live on; else the local machine.
  const names = options.host
    ? [options.host]
    : [...new Set(Object.values(ctx.config.environments).map((e) => e.host))];
  if (names.length === 0) names.push('local');
  const types = (options.type ?? 'service').split(',').map((t) => t.trim()).filter(Boolean);
  try {
    const results = await Promise.all(
      names.map(async (name) => {
        const host = ctx.hosts.get(name);
        return { host: host.name, units: await listUnits(host, { types }) };
      }),
    );
    if (options.json) {
      printJson({ hosts: results });
    } else {
      for (const { host, units } of results) {
        process.stdout.write(`${paint.head(`host ${host}`)}: ${units.length} units\n`);
        process.stdout.write(table(['UNIT', 'LOAD', 'ACTIVE', 'SUB', 'DESCRIPTION'], units.map(row)) + '\n\n');
      }
    }
    return results.some((r) => r.units.some((u) => u.activeState === 'failed')) ? 1 : 0;
  } finally {
    await ctx.hosts.closeAll();
  }
}

function row(u: UnitListEntry): string[] {
  const active = u.activeState === 'failed' ? paint.bad(u.activeState) : u.activeState === 'active' ? paint.good(u.activeState) : u.activeState;
  return [u.name, u.loadState, active, u.subState, u.description];
}
