// The operations on a set of hosts, for `opsdeck ops` and the console's header alike: each
// host read in parallel (its journals in one command, its locks in one more), each operation
// once (two host entries may reach one machine, e.g. the lab directly and over ssh: the entry
// the plan names wins), a host that does not answer said, not fatal.
import type { Host } from '../host/host.js';
import { describeError } from '../text/errors.js';
import { operationOwnerAlive, readLocks } from './lock.js';
import { readOpenOperations, readStoredOperations, type StoredOperation, type UnusablePlan } from './state.js';

export interface Catalog {
  found: Array<{ host: Host; stored: StoredOperation; alive: boolean }>;
  /** Plans on the hosts that cannot be used (damaged, or not opsdeck's): listed, never acted on. */
  unusable: Array<UnusablePlan & { host: Host }>;
  unreachable: Array<{ host: Host; error: string }>;
}

/** `id`: only that operation; `open`: only those not ended for good (cheaper: ended ones are not read). */
export async function listOperations(hosts: readonly Host[], options: { id?: string; open?: boolean } = {}): Promise<Catalog> {
  const perHost = await Promise.all(
    hosts.map(async (host) => {
      const unusable: UnusablePlan[] = [];
      try {
        const [stored, locks] = await Promise.all([options.open ? readOpenOperations(host, unusable) : readStoredOperations(host, options.id, unusable), readLocks(host).catch(() => [])]);
        return { found: stored.map((s) => ({ host, stored: s, alive: operationOwnerAlive(s.plan, locks) })), unusable: unusable.map((u) => ({ ...u, host })), unreachable: [] };
      } catch (error) {
        return { found: [], unusable: [], unreachable: [{ host, error: describeError(error) }] };
      }
    }),
  );
  const byId = new Map<string, Catalog['found'][number]>();
  for (const entry of perHost.flatMap((h) => h.found)) {
    const seen = byId.get(entry.stored.plan.id);
    if (!seen || (seen.host.name !== seen.stored.plan.host && entry.host.name === entry.stored.plan.host)) byId.set(entry.stored.plan.id, entry);
  }
  const unusable = new Map(perHost.flatMap((h) => h.unusable).map((u) => [u.id, u]));
  return { found: [...byId.values()], unusable: [...unusable.values()], unreachable: perHost.flatMap((h) => h.unreachable) };
}
