// The opsdeck.yaml that `opsdeck lab up` writes for its lab; the README uses it as the
// example of the schema.
import path from 'node:path';
import type { LabPorts } from '../core/host/lab-state.js';
import { opsdeckCheckout, RELEASES, UNITS, type ScenarioPaths } from './scenario.js';

/**
 * The lab's config. `onHost`: the one opsdeck reads when it runs inside the lab itself (the
 * scheduled backup's service): every environment on host local, its audit log in the lab.
 */
export function labConfigYaml(p: ScenarioPaths, ports: LabPorts, sshd: boolean, onHost = false): string {
  const envHost = onHost ? 'local' : 'lab';
  if (onHost) {
    return [
      `# opsdeck config for opsdeck running inside the lab in ${p.dir} (the scheduled backups read it).`,
      `auditLog: ${path.join(p.state, 'audit.jsonl')}`,
      ...environmentsYaml(p, ports, envHost),
    ].join('\n');
  }
  const lines = [
    `# opsdeck config for the lab in ${p.dir} (written by \`opsdeck lab up\`).`,
    '# Hosts: `lab` runs commands inside the lab directly; `lab-ssh` reaches the same',
    '# machine through its sshd, as a real remote host (try: opsdeck status --host lab-ssh).',
    'refreshSeconds: 2',
    'hosts:',
    '  lab:',
    '    transport: lab',
    `    lab: ${p.dir}`,
  ];
  if (sshd) {
    lines.push(
      '  lab-ssh:',
      '    transport: ssh',
      '    address: 127.0.0.1',
      `    port: ${ports.ssh}`,
      '    user: root',
      `    identityFile: ${path.join(p.ssh, 'client')}`,
      `    knownHostsFile: ${path.join(p.ssh, 'known_hosts')}`,
    );
  }
  lines.push(...environmentsYaml(p, ports, envHost));
  return lines.join('\n');
}

function environmentsYaml(p: ScenarioPaths, ports: LabPorts, envHost: string): string[] {
  const checkout = opsdeckCheckout();
  return [
    'environments:',
    '  production:',
    '    description: V1 in production (crash-looping unit, port held by a hand-started process)',
    `    host: ${envHost}`,
    '    protected: true',
    `    unit: ${UNITS.production}`,
    `    relatedUnits: [${UNITS.backup}, ${UNITS.backupTimer}]`,
    `    workingDir: ${p.production}`,
    `    dataDir: ${p.liveData}`,
    `    ports: [${ports.production}]`,
    '    health:',
    `      url: http://127.0.0.1:${ports.production}/health`,
    `      rpcUrl: http://127.0.0.1:${ports.production}/mcp`,
    '      expect:',
    '        status: 200',
    '        json: { status: ok }',
    '    backups:',
    `      dir: ${p.backups}`,
    `      source: ${p.liveData}`,
    `      opsdeck: [${process.execPath}, ${path.join(checkout, 'bin', 'opsdeck.js')}]`,
    `      hostConfig: ${p.onHostConfig}`,
    '  development:',
    '    description: V2 under development',
    `    host: ${envHost}`,
    `    unit: ${UNITS.development}`,
    `    workingDir: ${p.development}`,
    `    dataDir: ${path.join(p.development, 'data')}`,
    `    ports: [${ports.development}]`,
    '    health:',
    `      url: http://127.0.0.1:${ports.development}/health`,
    `      rpcUrl: http://127.0.0.1:${ports.development}/mcp`,
    '      expect:',
    '        status: 200',
    `        version: "^${RELEASES.v2.version.split('.')[0]}\\\\."`,
    '    backups:',
    `      dir: ${p.developmentBackups}`,
    `      opsdeck: [${process.execPath}, ${path.join(checkout, 'bin', 'opsdeck.js')}]`,
    `      hostConfig: ${p.onHostConfig}`,
    '',
  ];
}
