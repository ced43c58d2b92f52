// Records test/fixtures/doctor-incident-facts.json: what the doctor gathers on the lab's incident
// (a refresh, the failing unit's journal, the hand-started process, the per-host looks), which the
// rules' unit tests vary. The lab must be up (`opsdeck lab up`); nothing on it is changed:
//   node --import tsx test/support/record-doctor-facts.ts [/var/lib/opsdeck-lab/opsdeck.yaml]
// Record again when the doctor gathers something new; the tests say what they expect of it.
import { writeFileSync } from 'node:fs';
import { loadConfig } from '../../src/config/load.js';
import { gatherDoctorFacts } from '../../src/core/doctor/doctor.js';
import { HostRegistry } from '../../src/core/host/registry.js';

const labConfig = process.argv[2] ?? '/var/lib/opsdeck-lab/opsdeck.yaml';
const { config } = loadConfig(labConfig);
const hosts = new HostRegistry(config);
try {
  const facts = await gatherDoctorFacts(config, hosts);
  if (facts.errors.length > 0) throw new Error(`the doctor could not gather everything on the lab: ${facts.errors.join('; ')}`);
  // The config's other environments (peers) are the tests' to set: each test says which it wants.
  const environments = facts.environments.map(({ peers: _peers, ...rest }) => rest);
  const out = new URL('../fixtures/doctor-incident-facts.json', import.meta.url);
  writeFileSync(out, JSON.stringify({ recordedAt: new Date().toISOString(), environments }, null, 1) + '\n');
  process.stdout.write(`wrote ${out.pathname}: ${environments.map((e) => e.environment).join(', ')}\n`);
} finally {
  await hosts.closeAll();
}
