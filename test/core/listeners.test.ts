import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cgroupPath, commandLine, parseProcFiles, parseProcNetTcp, parseSocketOwners, procFilesArgv, socketOwnersArgv, unitOfCgroup } from '../../src/core/systemd/listeners.js';

// Recorded from the lab: /proc/net/tcp{,6}, the find over /proc/PID/fd, and grep -z of the owners' files.
const tcp = readFileSync(new URL('../fixtures/proc-net-tcp.txt', import.meta.url), 'utf8');
const find = readFileSync(new URL('../fixtures/find-socket-owners.txt', import.meta.url), 'utf8');
const files = readFileSync(new URL('../fixtures/proc-files-z.txt', import.meta.url), 'utf8');

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const row = (local: string, state: string, inode: number, uid = 0) => `   0: ${local} 00000000:0000 ${state} 00000000:00000000 00:00000000 00000000 ${uid} 0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;

describe('listening sockets from /proc/net/tcp (recorded from the lab)', () => {
  it('reads address, port and inode of every listening socket', () => {
    const sockets = parseProcNetTcp(tcp);
    expect(sockets.find((s) => s.port === 3444)).toMatchObject({ address: '127.0.0.1', uid: 0 });
    expect(sockets.find((s) => s.port === 2024)).toMatchObject({ address: '0.0.0.0' });
    expect(sockets.every((s) => s.inode > 0)).toBe(true);
  });

  it('reads IPv6 and IPv4-mapped addresses, and skips sockets that do not listen', () => {
    const text = HEADER + row('00000000000000000000000001000000:1F90', '0A', 11) + row('00000000000000000000000000000000:0016', '0A', 12) + row('0000000000000000FFFF00000100007F:0050', '0A', 13) + row('0100007F:0D74', '01', 14);
    expect(parseProcNetTcp(text).map((s) => [s.address, s.port])).toEqual([['::1', 8080], ['::', 22], ['127.0.0.1', 80]]);
  });

  it('finds the PIDs holding each socket, and their command line and unit', () => {
    const owners = parseSocketOwners(find);
    const sockets = parseProcNetTcp(tcp);
    const prodInode = sockets.find((s) => s.port === 3444)!.inode;
    const devInode = sockets.find((s) => s.port === 3446)!.inode;
    const facts = parseProcFiles(files);
    const prod = facts.get(owners.get(prodInode)![0]!)!;
    const dev = facts.get(owners.get(devInode)![0]!)!;
    expect(commandLine(prod.argv)).toMatch(/node .*\/srv\/production\/server\.mjs$/);
    expect(prod.unit).toBeNull();
    expect(dev.unit).toBe('mcp-coordination-dev.service');
    expect(dev.name).toBe('node');
  });

  it('asks find only for the wanted inodes, pruning the rest of /proc', () => {
    const argv = socketOwnersArgv([11, 22]);
    expect(argv.filter((a) => a === '-lname')).toHaveLength(2);
    expect(argv).toContain('socket:\\[22\\]');
  });

  it('maps cgroups to units, ignoring login sessions and init', () => {
    expect(unitOfCgroup('/user.slice/user-0.slice/session-3.scope')).toBeNull();
    expect(unitOfCgroup('/init.scope')).toBeNull();
    expect(unitOfCgroup('/system.slice/run-r1.scope')).toBe('run-r1.scope');
    expect(unitOfCgroup('/system.slice/app.service/worker')).toBe('app.service');
    expect(unitOfCgroup('/')).toBeNull();
    expect(cgroupPath('12:pids:/x\n1:name=systemd:/system.slice/a.service\n0::/system.slice/b.service\n')).toBe('/system.slice/b.service');
  });
});

describe('hostile process text cannot forge a PID, a unit or a listener', () => {
  const grepRecord = (pid: number, file: string, content: string) => `/proc/${pid}/${file}:${content}\0`;

  it('an argument holding a newline and a fake cgroup line stays an argument', () => {
    const forged = '/proc/77/cgroup:0::/system.slice/trusted.service';
    const out = grepRecord(77, 'cmdline', 'node') + grepRecord(77, 'cmdline', `x\n${forged}\n`) + grepRecord(77, 'cgroup', '0::/user.slice/user-1000.slice/session-2.scope\n') + grepRecord(77, 'comm', 'a",pid=1,fd=9)\n');
    const facts = parseProcFiles(out).get(77)!;
    expect(facts.unit).toBeNull();
    expect(facts.argv).toEqual(['node', `x\n${forged}\n`]);
    expect(commandLine(facts.argv)).not.toMatch(/\n/);
    expect(facts.name).toBe('a",pid=1,fd=9)');
  });

  it('no command line, name or cgroup text makes a process appear that was not read, or moves it to a unit', () => {
    const text = fc.string({ unit: 'binary', maxLength: 60 }).map((s) => s.replace(/\0/g, ''));
    fc.assert(
      fc.property(fc.array(text, { maxLength: 4 }), text, (args, name) => {
        const out = args.map((a) => grepRecord(5, 'cmdline', a)).join('') + grepRecord(5, 'cgroup', '0::/user.slice/session-1.scope\n') + grepRecord(5, 'comm', name);
        const facts = parseProcFiles(out);
        expect([...facts.keys()]).toEqual([5]);
        expect(facts.get(5)!.unit).toBeNull();
        expect(commandLine(facts.get(5)!.argv)).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202a-\u202e]/);
      }),
    );
  });

  it('/proc/net/tcp and find output never yield a socket or an owner that was not in them', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (junk) => {
        for (const s of parseProcNetTcp(junk)) expect(junk).toContain(String(s.inode));
        for (const [inode, pids] of parseSocketOwners(junk)) for (const pid of pids) expect(junk).toContain(`/proc/${pid}/fd\tsocket:[${inode}]`);
      }),
    );
  });

  it('reads every PID\'s files in one NUL-separated grep', () => {
    expect(procFilesArgv([5, 6])).toEqual(['grep', '-H', '-a', '-s', '-z', '', '--', '/proc/5/cmdline', '/proc/5/cgroup', '/proc/5/comm', '/proc/6/cmdline', '/proc/6/cgroup', '/proc/6/comm']);
  });
});
