// The "incident" scenario: the production mess opsdeck exists for, laid out on disk.
//   srv/production/            V1 code, WorkingDirectory of the production unit
//   srv/production/data/       the LIVE data (the hand-started V1 process writes here)
//   srv/production-data/       a STALE older copy, named by the unit's ReadWritePaths=
//   srv/production-data-backups/  archives of the stale copy (the backup job's mistake)
//   srv/development/           V2 code and its own data, a healthy unit
//   srv/releases/v2/           V2 code, ready for a cutover of production
import { copyFileSync, existsSync, mkdirSync, utimesSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import type { LabPorts } from '../core/host/lab-state.js';
import { stampOf } from '../core/backups/policy.js';

export const UNITS = {
  production: 'mcp-coordination.service',
  development: 'mcp-coordination-dev.service',
  backup: 'mcp-backup.service',
  backupTimer: 'mcp-backup.timer',
  sshd: 'opsdeck-lab-sshd.service',
} as const;

export const RELEASES = {
  v1: { version: '1.4.2', tools: 12 },
  v2: { version: '2.0.0', tools: 43 },
} as const;

const STUB_TARGETS = ['sysinit', 'basic', 'sockets', 'local-fs', 'local-fs-pre', 'shutdown', 'paths', 'timers', 'network', 'network-online', 'multi-user', 'swap', 'umount', 'slices'];
const JOURNALD_UNITS = ['systemd-journald.service', 'systemd-journald.socket', 'systemd-journald-dev-log.socket'];
/** A system bus, as every real host has: systemd-run (transient units and timers) needs it. */
const DBUS_UNITS = ['dbus.socket', 'dbus.service'];

export interface ScenarioPaths {
  dir: string;
  units: string;
  srv: string;
  production: string;
  liveData: string;
  staleData: string;
  backups: string;
  development: string;
  /** Development's archives (a proper backup of its own data). */
  developmentBackups: string;
  releaseV2: string;
  scripts: string;
  ssh: string;
  /** opsdeck's own state on the lab host (locks, operation journals), bound to /var/lib/opsdeck. */
  state: string;
  /** The config opsdeck reads when it runs inside the lab (the scheduled backup): every environment on host local. */
  onHostConfig: string;
}

export function scenarioPaths(dir: string): ScenarioPaths {
  const srv = path.join(dir, 'srv');
  return {
    dir,
    units: path.join(dir, 'units'),
    srv,
    production: path.join(srv, 'production'),
    liveData: path.join(srv, 'production', 'data'),
    staleData: path.join(srv, 'production-data'),
    backups: path.join(srv, 'production-data-backups'),
    development: path.join(srv, 'development'),
    developmentBackups: path.join(srv, 'development-backups'),
    releaseV2: path.join(srv, 'releases', 'v2'),
    scripts: path.join(srv, 'scripts'),
    ssh: path.join(dir, 'ssh'),
    state: path.join(dir, 'state'),
    onHostConfig: path.join(dir, 'opsdeck.onhost.yaml'),
  };
}

export function sampleAppSource(): string {
  // From src/lab/ (tsx, tests) or dist/ (the bundle); both resolve into the checkout's src/.
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.join(here, 'sample-app', 'server.mjs'), path.join(here, '..', 'src', 'lab', 'sample-app', 'server.mjs')];
  const found = candidates.find((file) => existsSync(file));
  if (found) return found;
  throw new Error(`sample app not found (looked in ${candidates.join(', ')})`);
}

/** The opsdeck checkout this lab was started from (its bin/opsdeck.js runs the scheduled backups inside the lab). */
export function opsdeckCheckout(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.join(here, '..', '..'), path.join(here, '..')];
  const found = candidates.find((dir) => existsSync(path.join(dir, 'bin', 'opsdeck.js')) && existsSync(path.join(dir, 'package.json')));
  if (found) return path.resolve(found);
  throw new Error(`opsdeck's checkout not found (looked in ${candidates.join(', ')})`);
}

function installRelease(target: string, release: { version: string; tools: number }): void {
  mkdirSync(target, { recursive: true });
  copyFileSync(sampleAppSource(), path.join(target, 'server.mjs'));
  writeFileSync(path.join(target, 'release.json'), JSON.stringify(release, null, 2) + '\n');
}

function writeData(dir: string, label: string, ageHours: number): void {
  mkdirSync(path.join(dir, 'messages'), { recursive: true });
  const instances = ['Kai', 'Zara', 'Viktor', 'Nova', 'Phoenix', 'Lupo'].map((name, i) => ({ id: i + 1, name }));
  writeFileSync(path.join(dir, 'instances.json'), JSON.stringify({ label, instances }, null, 2) + '\n');
  writeFileSync(path.join(dir, 'messages', 'inbox.jsonl'), `{"from":"Kai","text":"${label} message"}\n`);
  const when = new Date(Date.now() - ageHours * 3600_000);
  for (const file of [path.join(dir, 'instances.json'), path.join(dir, 'messages', 'inbox.jsonl'), path.join(dir, 'messages'), dir]) utimesSync(file, when, when);
}

function unitFile(sections: Record<string, Array<[string, string]>>): string {
  return Object.entries(sections)
    .map(([name, entries]) => `[${name}]\n${entries.map(([k, v]) => `${k}=${v}`).join('\n')}\n`)
    .join('\n');
}

function appService(opts: { description: string; dir: string; env: string; port: number; dataDir: string; readWrite: string; restart: string }): string {
  const node = process.execPath;
  return unitFile({
    Unit: [['Description', opts.description], ['After', 'network.target'], ['StartLimitIntervalSec', '0']],
    Service: [
      ['Type', 'simple'],
      ['User', 'root'],
      ['WorkingDirectory', opts.dir],
      ['ExecStart', `${node} ${path.join(opts.dir, 'server.mjs')}`],
      ['Environment', `APP_ENV=${opts.env}`],
      ['Environment', `PORT=${opts.port}`],
      ['Environment', `DATA_DIR=${opts.dataDir}`],
      ['Environment', 'LOG_RATE=0.5'],
      ['ReadWritePaths', opts.readWrite],
      ['NoNewPrivileges', 'yes'],
      ['PrivateTmp', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['Restart', opts.restart],
      ['RestartSec', '3'],
    ],
    Install: [['WantedBy', 'multi-user.target']],
  });
}

/** Lay out the scenario's files and unit folder; returns the units lab.target should start. */
export function writeIncidentScenario(p: ScenarioPaths, ports: LabPorts, sshd: boolean): string[] {
  rmSync(p.srv, { recursive: true, force: true });
  rmSync(p.units, { recursive: true, force: true });
  // A fresh lab is a fresh machine: no locks or operation journals of an earlier one.
  rmSync(p.state, { recursive: true, force: true });
  mkdirSync(p.state, { mode: 0o700 });
  mkdirSync(p.units, { recursive: true });

  installRelease(p.production, RELEASES.v1);
  writeData(p.liveData, 'live', 0);
  mkdirSync(path.join(p.production, 'logs'), { recursive: true });
  writeData(p.staleData, 'stale', 72);
  installRelease(p.releaseV2, RELEASES.v2);
  installRelease(p.development, RELEASES.v2);
  writeData(path.join(p.development, 'data'), 'development', 1);

  // The backup job as it was written: faithfully archiving the stale copy.
  mkdirSync(p.scripts, { recursive: true });
  mkdirSync(p.backups, { recursive: true });
  const backupScript = path.join(p.scripts, 'backup-production-data.sh');
  writeFileSync(
    backupScript,
    [
      '#!/bin/sh',
      '# Production data backup (archives SOURCE_DIR into BACKUP_DIR, keeps the last 30)',
      'set -e',
      `SOURCE_DIR=${p.staleData}`,
      `BACKUP_DIR=${p.backups}`,
      'STAMP=$(date +%Y%m%d_%H%M%S)',
      'tar -czf "$BACKUP_DIR/data-$STAMP.tar.gz" -C "$SOURCE_DIR" .',
      'ls -t "$BACKUP_DIR"/data-*.tar.gz | tail -n +31 | xargs -r rm --',
      'echo "backup complete: $BACKUP_DIR/data-$STAMP.tar.gz"',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  for (const hoursAgo of [30, 24, 18, 12, 6]) {
    const when = new Date(Date.now() - hoursAgo * 3600_000);
    const archive = path.join(p.backups, `data-${stampOf(when)}.tar.gz`);
    execFileSync('tar', ['-czf', archive, '-C', p.staleData, '.']);
    utimesSync(archive, when, when);
  }

  // Development is backed up properly (an archive of its own data, an hour old): no alarm there.
  mkdirSync(p.developmentBackups, { recursive: true });
  const hourAgo = new Date(Date.now() - 3600_000);
  const devArchive = path.join(p.developmentBackups, `data-${stampOf(hourAgo)}.tar.gz`);
  execFileSync('tar', ['-czf', devArchive, '-C', path.join(p.development, 'data'), '.']);
  utimesSync(devArchive, hourAgo, hourAgo);

  for (const t of STUB_TARGETS) writeFileSync(path.join(p.units, `${t}.target`), `[Unit]\nDescription=${t} (lab stub)\n`);
  for (const u of JOURNALD_UNITS) copyFileSync(path.join('/lib/systemd/system', u), path.join(p.units, u));
  const bus = DBUS_UNITS.every((u) => existsSync(path.join('/lib/systemd/system', u)));
  if (bus) for (const u of DBUS_UNITS) copyFileSync(path.join('/lib/systemd/system', u), path.join(p.units, u));

  writeFileSync(
    path.join(p.units, UNITS.production),
    appService({ description: 'MCP Coordination System (production)', dir: p.production, env: 'production', port: ports.production, dataDir: p.liveData, readWrite: p.staleData, restart: 'always' }),
  );
  writeFileSync(
    path.join(p.units, UNITS.development),
    appService({ description: 'MCP Coordination System (development, V2)', dir: p.development, env: 'development', port: ports.development, dataDir: path.join(p.development, 'data'), readWrite: path.join(p.development, 'data'), restart: 'on-failure' }),
  );
  writeFileSync(
    path.join(p.units, UNITS.backup),
    unitFile({ Unit: [['Description', 'Backup of production data']], Service: [['Type', 'oneshot'], ['ExecStart', `/bin/sh ${backupScript}`]] }),
  );
  writeFileSync(
    path.join(p.units, UNITS.backupTimer),
    unitFile({ Unit: [['Description', 'Backup of production data every 6 hours']], Timer: [['OnActiveSec', '5s'], ['OnUnitActiveSec', '6h']], Install: [['WantedBy', 'timers.target']] }),
  );
  const wants: string[] = [...(bus ? ['dbus.socket'] : []), UNITS.production, UNITS.development, UNITS.backupTimer];
  if (sshd) {
    const sshdConfig = path.join(p.ssh, 'sshd_config');
    writeFileSync(
      sshdConfig,
      [
        `Port ${ports.ssh}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${path.join(p.ssh, 'hostkey')}`,
        `AuthorizedKeysFile ${path.join(p.ssh, 'authorized_keys')}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'UsePAM no',
        'PidFile none',
        'MaxStartups 50:30:100',
        'MaxSessions 50',
        '',
      ].join('\n'),
    );
    writeFileSync(
      path.join(p.units, UNITS.sshd),
      unitFile({
        Unit: [['Description', 'OpenSSH server of the opsdeck lab']],
        Service: [['ExecStartPre', '/bin/mkdir -p /run/sshd'], ['ExecStart', `/usr/sbin/sshd -D -e -f ${sshdConfig}`], ['Restart', 'on-failure']],
      }),
    );
    wants.push(UNITS.sshd);
  }
  writeFileSync(
    path.join(p.units, 'lab.target'),
    unitFile({ Unit: [['Description', 'opsdeck lab'], ['Wants', ['systemd-journald.service', ...wants].join(' ')]] }),
  );
  return wants;
}
