// The doctor view's tests and the recording they play back (test/fixtures/doctor-view.json,
// made by record-doctor.ts against the lab): every command the doctor ran there, and every
// command building and previewing each fix asked. Two phases, each with its own config:
//   incident  the lab's two environments as `opsdeck lab up` writes them: production
//             crash-looping (its sandbox cause, the hand-started port holder, the backups of
//             the stale copy), development healthy;
//   quiet     one environment, scratch, with no service yet and its backups source not made:
//             nothing above info, one info finding (source sanity cannot tell).
// The doctor's rules read the clock (ages, a backup older than a day, a crash loop's rate):
// the tests pin Date to the moment of the recording (doctor-replay.ts), so the findings stay
// the ones the lab gave, however old the recording is.
import { readFileSync } from 'node:fs';
import type { Host } from '../../src/core/host/host.js';
import type { AppStore } from '../../src/store/app-store.js';
import type { Recording } from './recorded-host.js';
import { storeOnOneHost } from './one-host.js';

export type Phase = 'incident' | 'quiet';

// In the tests every host is the ReplayHost; local keeps previews plain (no nsenter prefix).
const HOSTS = `
hosts:
  lab:
    transport: local
`;

const CONFIGS: Record<Phase, string> = {
  incident: `${HOSTS}
environments:
  production:
    description: V1 in production (crash-looping unit, port held by a hand-started process)
    host: lab
    protected: true
    unit: mcp-coordination.service
    relatedUnits: [mcp-backup.service, mcp-backup.timer]
    workingDir: /var/lib/opsdeck-lab/srv/production
    dataDir: /var/lib/opsdeck-lab/srv/production/data
    ports: [3444]
    health:
      url: http://127.0.0.1:3444/health
      rpcUrl: http://127.0.0.1:3444/mcp
      expect:
        status: 200
        json: { status: ok }
    backups:
      dir: /var/lib/opsdeck-lab/srv/production-data-backups
      source: /var/lib/opsdeck-lab/srv/production/data
  development:
    description: V2 under development
    host: lab
    unit: mcp-coordination-dev.service
    workingDir: /var/lib/opsdeck-lab/srv/development
    dataDir: /var/lib/opsdeck-lab/srv/development/data
    ports: [3446]
    health:
      url: http://127.0.0.1:3446/health
      rpcUrl: http://127.0.0.1:3446/mcp
      expect:
        status: 200
        version: "^2\\\\."
    backups:
      dir: /var/lib/opsdeck-lab/srv/development-backups
`,
  quiet: `${HOSTS}
environments:
  scratch:
    description: a scratch area with no service yet
    host: lab
    backups:
      dir: /var/lib/opsdeck-lab/srv/production-data-backups
      source: /var/lib/opsdeck-lab/srv/scratch
`,
};

export interface DoctorRecording extends Recording {
  /** When the recording began: the tests' clock. */
  at: string;
}

export function loadRecording(): DoctorRecording {
  return JSON.parse(readFileSync(new URL('../fixtures/doctor-view.json', import.meta.url), 'utf8')) as DoctorRecording;
}

/** A console store of `phase`'s config on one host (the ReplayHost in tests, a RecordingHost when recording), with an audit log of its own. */
export function doctorStoreOn(host: Host, phase: Phase, options: { readonly?: boolean } = {}): { store: AppStore; cleanup: () => void } {
  return storeOnOneHost(host, CONFIGS[phase], `doctor-${phase}.yaml`, options);
}
