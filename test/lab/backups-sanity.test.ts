// Source sanity on the shared lab (read-only here: nothing in the lab is changed). Production
// is the incident: the backup job archives the stale copy its unit's ReadWritePaths= names,
// while the hand-started process writes the live data elsewhere. Development raises no alarm,
// and neither does a fresh archive of the live data (made beside the lab, not in it).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listArchives } from '../../src/core/backups/listing.js';
import { resolvePolicy } from '../../src/core/backups/policy.js';
import { checkSourceSanity, type SanityInput } from '../../src/core/backups/sanity.js';
import type { Host } from '../../src/core/host/host.js';
import { describeLab, labContext } from '../support/lab.js';

describeLab('source sanity (lab)', () => {
  let ctx: ReturnType<typeof labContext>;
  let host: Host;
  let live: string;
  let stale: string;
  let beside: string | null = null;
  beforeAll(() => {
    ctx = labContext();
    host = ctx.hosts.get(ctx.config.environments.production!.host);
    live = ctx.config.environments.production!.backups!.source!;
    stale = path.join(path.dirname(path.dirname(live)), 'production-data');
  });
  afterAll(async () => {
    if (beside) rmSync(beside, { recursive: true, force: true });
    await ctx?.hosts.closeAll();
  });

  const inputFor = async (envName: string): Promise<SanityInput> => {
    const env = ctx.config.environments[envName]!;
    const policy = env.backups ? resolvePolicy(envName, env, null) : { source: env.dataDir! };
    const listing = env.backups ? await listArchives(host, env.backups.dir) : { archives: [] };
    return { envName, env, policy, archives: listing.archives.map((a) => ({ ...a, manifest: null })) };
  };

  it('production: the existing backups archive the stale copy named by ReadWritePaths=, not the live data', async () => {
    const before = host.stats.spawned;
    const result = await checkSourceSanity(host, await inputFor('production'));
    expect(result.verdict).toBe('archives-stale');
    expect(result.source).toBe(live);
    expect(result.liveDirs).toEqual([live]);
    expect(result.newestArchive!.matches).toBe(stale);
    expect(result.summary).toContain(`the existing backups archive ${stale} (mcp-coordination.service's ReadWritePaths=), not the live data in ${live}`);
    const evidence = result.evidence.map((e) => `${e.text} <- ${e.from}`);
    expect(evidence).toContain(`mcp-coordination.service: ReadWritePaths=${stale} <- systemctl show mcp-coordination.service -p ReadWritePaths`);
    const hand = evidence.find((e) => /^PID \d+ holds port \d+ and is in no unit \(started by hand\)/.test(e));
    expect(hand).toBeDefined();
    const pid = /^PID (\d+)/.exec(hand!)![1];
    expect(evidence).toContain(`PID ${pid} has DATA_DIR=${live} <- /proc/${pid}/environ`);
    expect(evidence.some((e) => new RegExp(`^\\d+ of (\\d+) files in data-\\d{8}_\\d{6}\\.tar\\.gz match ${stale} .* by size and mtime`).test(e))).toBe(true);
    expect(result.sourceScan).toMatchObject({ dir: live, exists: true });
    // One show, the listeners (up to three, cached per host), one find over /proc, a find per directory, one read of the archive.
    expect(host.stats.spawned - before).toBeLessThanOrEqual(12);
  });

  it('production with its source set to the stale copy: a backup now would archive stale data', async () => {
    const input = await inputFor('production');
    const result = await checkSourceSanity(host, { ...input, policy: { source: stale } });
    expect(result.verdict).toBe('stale-source');
    expect(result.liveDirs).toEqual([live]);
    expect(result.evidence[0]!.text).toMatch(new RegExp(`^the service writes to ${live} \\(PID \\d+'s DATA_DIR`));
  });

  it('development raises no alarm', async () => {
    const result = await checkSourceSanity(host, await inputFor('development'));
    expect(result.verdict).toBe('ok');
    expect(result.liveDirs).toEqual([ctx.config.environments.development!.dataDir]);
  });

  it('a fresh archive of the live data is ok, and matches the live data', async () => {
    // Beside the lab's directory (LAB/srv/production/data), not in it and not in /tmp (the lab
    // has its own /tmp): the lab sees it at the same path.
    beside = mkdtempSync(`${path.dirname(path.dirname(path.dirname(live)))}-sanity-`);
    const archive = path.join(beside, 'data-fresh.tar.gz');
    // The live data changes while tar reads it: exit 1 ("file changed as we read it") still made the archive.
    const tar = spawnSync('tar', ['-czf', archive, '-C', live, '.']);
    expect([0, 1]).toContain(tar.status);
    const input = await inputFor('production');
    const made = { name: 'data-fresh.tar.gz', path: archive, sizeBytes: statSync(archive).size, modifiedAt: statSync(archive).mtime.toISOString(), manifest: null };
    const result = await checkSourceSanity(host, { ...input, archives: [made, ...input.archives] });
    expect(result.verdict).toBe('ok');
    expect(result.newestArchive!.matches).toBe(live);
  });
});
