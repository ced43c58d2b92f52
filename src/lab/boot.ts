// How the lab boots: its cgroup subtree (so labs never share one), the two boot scripts (move
// into that subtree and unshare; inside, private mounts, then exec systemd), and its ssh keys.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { shellQuote } from '../core/host/host.js';
import { opsdeckCheckout, type ScenarioPaths } from './scenario.js';

export const SYSTEMD = '/lib/systemd/systemd';

/** The cgroup hierarchies the lab's systemd uses, as directories under /sys/fs/cgroup. */
export function cgroupHierarchies(): string[] {
  const wanted = new Set(['systemd', 'unified', 'pids', 'memory', 'devices', 'cpu', 'cpuacct', 'blkio', 'freezer']);
  try {
    return readdirSync('/sys/fs/cgroup').filter((name) => wanted.has(name) && existsSync(path.join('/sys/fs/cgroup', name, 'cgroup.procs')));
  } catch {
    return [];
  }
}

export function writeBootScripts(p: ScenarioPaths, cgroup: string, hierarchies: string[]): { prep: string } {
  const q = shellQuote;
  const prep = path.join(p.dir, 'prep.sh');
  const boot = path.join(p.dir, 'boot.sh');
  // The checkout stays visible inside the lab at its own path (the scheduled backup runs it
  // there), even when it lives under /tmp, which the lab hides behind its own tmpfs.
  const checkout = opsdeckCheckout();
  const hidden = ['/tmp/', '/var/tmp/', '/run/'].some((top) => `${checkout}/`.startsWith(top));
  // Outside the namespaces: move into the lab's own cgroup subtree, then unshare. The new
  // cgroup namespace makes that subtree the lab's root, so two labs never collide.
  writeFileSync(
    prep,
    [
      '#!/bin/sh',
      ...hierarchies.map((h) => `mkdir -p ${q(`/sys/fs/cgroup/${h}/${cgroup}`)} && echo $$ > ${q(`/sys/fs/cgroup/${h}/${cgroup}/cgroup.procs`)}`),
      `exec unshare --cgroup --pid --fork --mount --uts --mount-proc --propagation private /bin/sh ${q(boot)}`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  writeFileSync(
    boot,
    [
      '#!/bin/sh',
      'set -e',
      'hostname opsdeck-lab',
      ...(hidden ? [`mkdir -p /var/lib/opsdeck-lab-checkout.$$ && mount --bind ${q(checkout)} /var/lib/opsdeck-lab-checkout.$$`] : []),
      'mount -t tmpfs tmpfs /run',
      'mount -t tmpfs tmpfs /tmp      # mandatory: else systemd-tmpfiles may clean the machine\'s /tmp',
      'mount -t tmpfs tmpfs /var/tmp',
      ...(hidden ? [`mkdir -p ${q(checkout)} && mount --bind /var/lib/opsdeck-lab-checkout.$$ ${q(checkout)} && umount /var/lib/opsdeck-lab-checkout.$$ && rmdir /var/lib/opsdeck-lab-checkout.$$`] : []),
      'mkdir -p /var/log/journal',
      'mount -t tmpfs tmpfs /var/log/journal',
      'mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup',
      ...hierarchies.map((h) =>
        h === 'unified'
          ? 'mkdir -p /sys/fs/cgroup/unified && mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified'
          : `mkdir -p /sys/fs/cgroup/${h} && mount -t cgroup -o ${h === 'systemd' ? 'none,name=systemd' : h} cgroup /sys/fs/cgroup/${h}`,
      ),
      // The lab's sshd starts root's shell for every command: the machine's own rc files (a
      // pyenv init that takes a lock, say) must not make the lab's ssh host slow or stuck.
      'for rc in /root/.bashrc /root/.bash_profile /root/.profile; do [ -f "$rc" ] && mount --bind /dev/null "$rc"; done; true',
      // opsdeck's own state on a host (locks, operation journals) lives in /var/lib/opsdeck: the
      // lab's is its own, as on a separate machine (two labs must not share locks).
      `mkdir -p /var/lib/opsdeck ${q(p.state)}`,
      `mount --bind ${q(p.state)} /var/lib/opsdeck`,
      // systemctl enable writes into /etc/systemd/system, Persistent= timers stamp /var/lib/systemd:
      // the lab's own, never the machine's.
      `mkdir -p ${q(path.join(p.state, 'systemd-config'))} ${q(path.join(p.state, 'systemd-lib'))}`,
      `mount --bind ${q(path.join(p.state, 'systemd-config'))} /etc/systemd/system`,
      `mount --bind ${q(path.join(p.state, 'systemd-lib'))} /var/lib/systemd`,
      'mkdir -p /run/systemd/journald.conf.d',
      "printf '[Journal]\\nStorage=volatile\\nRateLimitIntervalSec=0\\nRuntimeMaxUse=256M\\n' > /run/systemd/journald.conf.d/lab.conf",
      'export container=opsdeck-lab',
      `export SYSTEMD_UNIT_PATH=${q(p.units)}`,
      `exec ${SYSTEMD} --system --unit=lab.target`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return { prep };
}

export function ensureSshKeys(p: ScenarioPaths, port: number): void {
  mkdirSync(p.ssh, { recursive: true, mode: 0o700 });
  chmodSync(p.ssh, 0o700);
  for (const key of ['hostkey', 'client']) {
    if (!existsSync(path.join(p.ssh, key))) {
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `opsdeck-lab-${key}`, '-f', path.join(p.ssh, key)]);
    }
  }
  writeFileSync(path.join(p.ssh, 'authorized_keys'), readFileSync(path.join(p.ssh, 'client.pub')), { mode: 0o600 });
  const hostPub = readFileSync(path.join(p.ssh, 'hostkey.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  writeFileSync(path.join(p.ssh, 'known_hosts'), `[127.0.0.1]:${port} ${hostPub}\n`, { mode: 0o600 });
}

/** Remove the lab's (now empty) cgroup subtrees, deepest first. */
export function removeCgroups(name: string): void {
  for (const hierarchy of cgroupHierarchies()) {
    const root = path.join('/sys/fs/cgroup', hierarchy, name);
    if (!existsSync(root)) continue;
    const dirs: string[] = [];
    const walk = (d: string) => {
      dirs.push(d);
      for (const entry of readdirSync(d)) {
        const full = path.join(d, entry);
        try {
          if (statSync(full).isDirectory()) walk(full);
        } catch {
          /* raced */
        }
      }
    };
    walk(root);
    for (const d of dirs.reverse()) {
      try {
        rmdirSync(d);
      } catch {
        /* still busy: harmless, reused next time */
      }
    }
  }
}
