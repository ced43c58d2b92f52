// Records test/fixtures/doctor-view.json from the lab (`opsdeck lab up` first; nothing on it is
// changed):
//   node --import tsx test/support/record-doctor.ts [/var/lib/opsdeck-lab/opsdeck.yaml]
// It drives the console's store through a RecordingHost exactly as the tests do, a fresh store
// per phase (doctor-fixture.ts says what each is): the doctor pane entered (the doctor runs),
// then in the incident each finding's fix planned and previewed, and the dialog closed unanswered.
// Record again when the core changes what it asks a host (a test then fails naming the
// command that was not recorded, or a finding's evidence says it could not gather something).
import { writeFileSync } from 'node:fs';
import { loadConfig } from '../../src/config/load.js';
import { HostRegistry } from '../../src/core/host/registry.js';
import { doctorRows } from '../../src/store/selectors.js';
import type { AppStore } from '../../src/store/app-store.js';
import { doctorStoreOn, type DoctorRecording, type Phase } from './doctor-fixture.js';
import { RecordingHost, type RecordedRun } from './recorded-host.js';
import { until } from './until.js';

const labConfig = process.argv[2] ?? '/var/lib/opsdeck-lab/opsdeck.yaml';
const { config } = loadConfig(labConfig);
const registry = new HostRegistry(config);
const lab = registry.get('lab');
const wait = { timeoutMs: 60_000, everyMs: 20 };

async function diagnosed(store: AppStore): Promise<void> {
  store.getState().actions.setPane('doctor');
  await until('the doctor\'s report', () => store.getState().doctor.report !== null && store.getState().doctor.running === null, wait);
  const { report, error } = store.getState().doctor;
  if (error || report!.errors.length > 0) throw new Error(`the doctor could not gather everything on the lab: ${error ?? report!.errors.join('; ')}`);
}

async function record(phase: Phase, host: RecordingHost): Promise<void> {
  const { store, cleanup } = doctorStoreOn(host, phase);
  try {
    await diagnosed(store);
    if (phase !== 'incident') return;
    const findings = doctorRows(store.getState());
    for (const [index, finding] of findings.entries()) {
      if (!finding.fix) continue;
      store.getState().actions.setCursor('doctor', index);
      await store.getState().actions.proposeFix();
      await until(`the preview of ${finding.id}'s fix`, () => {
        const o = store.getState().overlay;
        return o?.kind === 'confirm' && o.preview !== null;
      }, wait);
      store.getState().actions.closeOverlay();
    }
  } finally {
    cleanup();
  }
}

/**
 * The hand-started process inherited the environment of the shell that booted the lab, which is
 * this recorder's: those variables are the recording machine's, not the incident's, and are
 * left out (read NUL-separated, as opsdeck reads /proc/PID/environ; grep's are "FILE:KEY=VALUE").
 * What the lab gave the process itself (PORT, DATA_DIR…) stays.
 */
function withoutOurEnvironment(runs: RecordedRun[]): RecordedRun[] {
  const ours = new Set(Object.entries(process.env).map(([k, v]) => `${k}=${v}`));
  const inherited = (entry: string) => ours.has(entry.replace(/^\/proc\/\d+\/environ:/, ''));
  return runs.map((run) => {
    if (!run.stdout || !run.argv.some((a) => /^(if=)?\/proc\/(\d+|\*)\/environ$/.test(a))) return run;
    const entries = Buffer.from(run.stdout, 'base64').toString('utf8').split('\0');
    return { ...run, stdout: Buffer.from(entries.filter((e) => !inherited(e)).join('\0')).toString('base64') };
  });
}

const at = new Date().toISOString();
const recording: DoctorRecording = { recorded: `from the lab (${labConfig}) by test/support/record-doctor.ts, ${at}`, at, phases: {} };
try {
  for (const phase of ['incident', 'quiet'] as const) {
    const host = new RecordingHost(lab, `lab-${phase}`);
    await record(phase, host);
    recording.phases[phase] = { runs: withoutOurEnvironment(host.runs), streams: host.streams };
    process.stdout.write(`${phase}: ${host.runs.length} commands, ${host.streams.length} streams\n`);
  }
  const out = new URL('../fixtures/doctor-view.json', import.meta.url);
  writeFileSync(out, JSON.stringify(recording, null, 1) + '\n');
  process.stdout.write(`wrote ${out.pathname}\n`);
} finally {
  await registry.closeAll();
}
