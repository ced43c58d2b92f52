import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cgroupPath, parseProcGrep, parseSs, unitOfCgroup } from '../../src/core/listeners.js';

const ss = readFileSync(new URL('../fixtures/ss-ltnpH.txt', import.meta.url), 'utf8');
const grep = readFileSync(new URL('../fixtures/proc-grep.txt', import.meta.url), 'utf8');

describe('ss -ltnpH parsing (recorded from the lab)', () => {
  it('reads address, port and owners', () => {
    const rows = parseSs(ss);
    const prod = rows.find((r) => r.port === 3444)!;
    expect(prod.address).toBe('127.0.0.1');
    expect(prod.owners).toEqual([{ process: 'node', pid: 77 }]);
    // A socket of a process outside the lab's PID namespace has no owner to show.
    expect(rows.find((r) => r.port === 2024)?.owners).toEqual([]);
  });

  it('handles IPv6 and several owners', () => {
    const rows = parseSs('LISTEN 0 511 [::1]:8080 [::]:* users:(("nginx",pid=10,fd=6),("nginx",pid=11,fd=6))\nLISTEN 0 4096 *:22 *:*\n');
    expect(rows[0]).toEqual({ address: '::1', port: 8080, owners: [{ process: 'nginx', pid: 10 }, { process: 'nginx', pid: 11 }] });
    expect(rows[1]).toMatchObject({ address: '*', port: 22 });
  });
});

describe('which unit holds a PID', () => {
  const files = parseProcGrep(grep);

  it('finds the service of a unit-managed process', () => {
    expect(unitOfCgroup(cgroupPath(files.get('/proc/48/cgroup')!))).toBe('mcp-coordination-dev.service');
  });

  it('finds none for the process started by hand', () => {
    expect(unitOfCgroup(cgroupPath(files.get('/proc/77/cgroup')!))).toBeNull();
    expect(files.get('/proc/77/cmdline')).toContain('/srv/production/server.mjs');
  });

  it('treats login sessions and init.scope as no unit, transient scopes as units', () => {
    expect(unitOfCgroup('/user.slice/user-0.slice/session-3.scope')).toBeNull();
    expect(unitOfCgroup('/init.scope')).toBeNull();
    expect(unitOfCgroup('/system.slice/run-r1.scope')).toBe('run-r1.scope');
    expect(unitOfCgroup('/system.slice/app.service/worker')).toBe('app.service');
    expect(unitOfCgroup('/')).toBeNull();
  });
});
