// Names built to fool a parser, inside the real lab: processes named to fool `ss -p` (quotes,
// parentheses, a newline and a fake "LISTEN" line), and a file named to fool a line-based
// listing of the backups dir. opsdeck still names the right PID for each port, shows no
// listener that is not there, and lists each file once, as it is.
import { execa, type ResultPromise } from 'execa';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readLabState } from '../../src/core/host/lab-state.js';
import { collectStatus } from '../../src/core/status/collect.js';
import { killGroup } from '../../src/core/host/children.js';
import { describeLab, labContext } from '../support/lab.js';
import { PORT_OFFSETS, SHARED_LAB_DIR, privatePortBase } from '../support/lab-constants.js';

const NAMES = ['a",pid=1,fd=9)', '\nLISTEN 0 0 :7 ', 'q"),("z",pid=5']; // names are cut to 15 bytes
const ports = NAMES.map((_, i) => privatePortBase(PORT_OFFSETS.hostileNames + i));
const children: ResultPromise[] = [];
let dir = '';

describeLab('hostile process names', () => {
  beforeAll(async () => {
    const lab = readLabState(SHARED_LAB_DIR)!;
    // The kernel names a process after the file it executes: links to node with hostile names.
    dir = mkdtempSync('/var/lib/opsdeck-names-'); // /var/tmp is the lab's own
    for (const [i, name] of NAMES.entries()) {
      const link = path.join(dir, name);
      symlinkSync(process.execPath, link);
      const script = `require('net').createServer().listen(${ports[i]}, '127.0.0.1', () => console.log('listening'))`;
      const child = execa('nsenter', ['-t', String(lab.pid), '-m', '-p', '-C', '--', link, '-e', script], { detached: true, reject: false, stdin: 'ignore' });
      children.push(child);
      // Wait until it really listens (its own word), never a fixed time.
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => d.toString().includes('listening') && resolve());
        void child.then((r) => reject(new Error(`listener ${i} exited: ${r.stderr}`)));
      });
    }
  });
  afterAll(() => {
    for (const child of children) if (child.pid) killGroup(child.pid);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('names the PID holding each port, and invents no listener', async () => {
    const { config, hosts } = labContext();
    config.environments = Object.fromEntries(ports.map((port, i) => [`hostile${i}`, { host: 'lab', ports: [port], relatedUnits: [], protected: false, readonly: false }])) as typeof config.environments;
    const report = await collectStatus(config, hosts);
    for (const [i, port] of ports.entries()) {
      const env = report.environments.find((e) => e.name === `hostile${i}`)!;
      expect(env.listeners).toHaveLength(1);
      expect(env.listeners[0]!.pid).toBeGreaterThan(1);
      expect(env.listeners[0]!.unit).toBeNull();
      expect(env.listeners[0]!.command).toContain(`listen(${port}`);
      expect(env.listeners[0]!.process).not.toMatch(/\n/);
      expect(env.problems.map((p) => p.code)).toContain('port-unmanaged');
    }
    // The newline name once forged a listener on port 7 out of thin air.
    expect(report.hosts[0]!.listeners.filter((l) => l.port === 7)).toEqual([]);
  });

  it('lists a backup whose name holds a newline and tabs as the one file it is', async () => {
    const backups = path.join(dir, 'backups');
    mkdirSync(backups);
    const old = path.join(backups, 'data-20261101_000000.tar.gz');
    writeFileSync(old, 'old');
    utimesSync(old, new Date('2026-11-01T00:00:00Z'), new Date('2026-11-01T00:00:00Z'));
    // Read by lines, this name would add a 2100-dated "newest" archive and hide the stale one.
    const forger = path.join(backups, 'x.tar.gz\n999999\t4102444800\tdata-21000101_000000.tar.gz');
    writeFileSync(forger, 'forger');
    utimesSync(forger, new Date('2026-10-01T00:00:00Z'), new Date('2026-10-01T00:00:00Z'));
    const { config, hosts } = labContext();
    config.environments = { stale: { host: 'lab', ports: [], relatedUnits: [], protected: false, readonly: false, backups: { dir: backups } } } as unknown as typeof config.environments;
    const listing = (await collectStatus(config, hosts)).environments[0]!.backups!;
    expect(listing.archives).toHaveLength(2);
    expect(listing.newest!.name).toBe('data-20261101_000000.tar.gz');
    expect(listing.archives.map((a) => a.sizeBytes).sort()).toEqual([3, 6]);
  });
});
