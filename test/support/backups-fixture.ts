// The backups pane's tests and the recording they play back (test/fixtures/backups-pane.json,
// made by record-backups.ts against the lab). Two environments:
//   production  the lab's, its backups pointed at the stale copy the old job archived (the
//               incident source sanity exists for): the verdict is stale-source;
//   fixture     a directory of the recorder's own on the lab host: an archive opsdeck made
//               (manifest, checksum), one of the old job's (plain tar), a damaged one (cut in
//               half), a partial left two days ago, and in phase "alarm" a newest archive
//               much smaller than the one before it.
// Phases: "lab" (production), "alarm" (fixture with its small newest archive), "clean" (without).
import { readFileSync } from 'node:fs';
import type { Host } from '../../src/core/host/host.js';
import type { AppStore } from '../../src/store/app-store.js';
import { ReplayHost, type Recording } from './recorded-host.js';
import { storeOnOneHost } from './one-host.js';

export const FIXTURE_DIR = '/var/lib/opsdeck-lab-fixtures/backups-pane';

export const BACKUPS_CONFIG = `
hosts:
  lab:
    transport: local   # in the tests every host is the ReplayHost; local keeps previews plain
environments:
  production:
    host: lab
    protected: true
    unit: mcp-coordination.service
    ports: [3444]
    dataDir: /var/lib/opsdeck-lab/srv/production/data
    backups:
      dir: /var/lib/opsdeck-lab/srv/production-data-backups
      source: /var/lib/opsdeck-lab/srv/production-data   # the stale copy the old job archived
  fixture:
    host: lab
    dataDir: ${FIXTURE_DIR}/data
    backups: { dir: ${FIXTURE_DIR}/backups, keepLast: 1 }
`;

export type Phase = 'lab' | 'alarm' | 'clean';

export function loadRecording(): Recording {
  return JSON.parse(readFileSync(new URL('../fixtures/backups-pane.json', import.meta.url), 'utf8')) as Recording;
}

/** A console store on one host (the ReplayHost in tests, a RecordingHost when recording), with an audit log of its own. */
export function storeOn(host: Host, options: { readonly?: boolean; now?: () => number } = {}): { store: AppStore; cleanup: () => void } {
  return storeOnOneHost(host, BACKUPS_CONFIG, 'backups-test.yaml', options);
}

/** A store whose host answers as the lab did in `phase`. */
export function replayStore(phase: Phase, options: { readonly?: boolean; now?: () => number } = {}): { store: AppStore; host: ReplayHost; cleanup: () => void } {
  const host = new ReplayHost(loadRecording(), phase);
  return { ...storeOn(host, options), host };
}

/** The backups pane of `env`, read: what a test starts from. */
export async function showBackups(store: AppStore, env: string): Promise<void> {
  const { actions } = store.getState();
  actions.selectEnv(env);
  actions.setPane('backups');
  await actions.readBackups({ env });
}
