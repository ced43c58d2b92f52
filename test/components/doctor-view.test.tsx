// The doctor view rendered with ink-testing-library, its host answering as the lab did
// (test/fixtures/doctor-view.json, recorded by test/support/record-doctor.ts): the findings
// most severe first, the selected one's evidence, a fix proposed into the confirm dialog with
// its preview, running it again and stopping it, what could not be gathered, nothing above
// info, read-only, and every terminal size. The environments pane's alarms at the end.
import { describe, expect, it, onTestFinished } from 'vitest';
import type { AppStore } from '../../src/store/app-store.js';
import { selectedFinding } from '../../src/store/selectors.js';
import { makeStore, paneLines, renderConsole, settle } from '../support/console.js';
import type { DoctorRecording, Phase } from '../support/doctor-fixture.js';
import { replayDoctor } from '../support/doctor-replay.js';
import { until } from '../support/until.js';

const PGDN = '\x1b[6~';
const LAB = '/var/lib/opsdeck-lab/srv';
const SYSTEMCTL_SHOW = /^systemctl show --no-pager --timestamp=unix /;

function open(phase: Phase, options: { readonly?: boolean; columns?: number; rows?: number; changed?: (r: DoctorRecording) => DoctorRecording } = {}) {
  const made = replayDoctor(phase, options);
  const view = renderConsole(made.store);
  onTestFinished(() => view.unmount());
  if (options.columns) Object.defineProperty(view.stdout, 'columns', { value: options.columns, configurable: true });
  if (options.rows) Object.defineProperty(view.stdout, 'rows', { value: options.rows, configurable: true });
  if (options.columns || options.rows) view.stdout.emit('resize');
  return { ...made, ...view, frame: () => view.lastFrame() ?? '' };
}

const idle = (store: AppStore) => store.getState().doctor.report !== null && store.getState().doctor.running === null;

/** 5: the doctor pane, and the doctor's report on screen. */
async function diagnosed(store: AppStore, stdin: { write: (s: string) => void }, frame: () => string): Promise<void> {
  stdin.write('5');
  await until('the doctor\'s report on screen', () => idle(store) && /above info/.test(frame()));
}

/** The rows of the findings list (the cursor's marked ▶). */
const findingRows = (frame: string) => paneLines(frame).filter((l) => /^(▶| ) [✗!i] (CRITICAL|WARNING|INFO) /.test(l));

describe('the doctor view', () => {
  it('says first how many findings are above info, per environment; then lists them most severe first, with whether opsdeck has a fix', async () => {
    const { store, stdin, frame } = open('incident', { columns: 120, rows: 40 });
    await diagnosed(store, stdin, frame);
    const lines = paneLines(frame());
    expect(lines[0]).toMatch(/^✗ 4 findings above info \(4 critical\): production 4 · development ✓ · ran at \d\d:\d\d:\d\d in \d+ ms$/);
    expect(lines).toContainEqual(expect.stringMatching(/^\s+SEVERITY\s+ENVIRONMENT\s+FIX\s+FINDING$/));
    const rows = findingRows(frame());
    expect(rows).toHaveLength(4);
    expect(rows[0]).toMatch(/^▶ ✗ CRITICAL production\s+-\s+mcp-coordination\.service is crash-looping: \d+ restarts/);
    expect(rows[1]).toMatch(/^  ✗ CRITICAL production\s+fix mcp-coordination\.service cannot write \/var\/lib\/opsdeck-lab\/srv\/production\/data/);
    expect(rows[2]).toMatch(/^  ✗ CRITICAL production\s+fix port 3444 is held by PID \d+ \(\/usr\/bin\/node /);
    expect(rows[3]).toMatch(/^  ✗ CRITICAL production\s+fix the live data has no backup: production: /);
    // The selected finding is production's: the production cue is on.
    expect(frame()).toMatch(/PRODUCTION: production/);
    expect(frame().split('\n').at(-1)).toMatch(/⏎ details · r run again/);
    // The crash loop has no fix of its own: f is not offered on it.
    expect(frame().split('\n').at(-1)).not.toMatch(/f fix/);
  });

  it('shows the selected finding\'s evidence: each fact with the command it came from, the journal lines quoted, its fix', async () => {
    const { store, stdin, frame } = open('incident', { columns: 120, rows: 40 });
    await diagnosed(store, stdin, frame);
    expect(paneLines(frame())).toContainEqual(expect.stringMatching(/^✗ CRITICAL mcp-coordination\.service is crash-looping: \d+ restarts/));
    expect(frame()).toMatch(/production\/crash-loop · production on host lab/);
    expect(frame()).toMatch(/ {4}← systemctl show mcp-coordination\.service -p ActiveState,SubState,NRestarts,Result,ExecMainStatus/);
    expect(frame()).toMatch(/ {4}│ mcp-coordination\.service: Main process exited, code=exited, status=3\/NOTIMPLEMENTED/);
    expect(frame()).toMatch(/no fix of its own/);

    stdin.write('j');
    await until('the sandbox finding selected', () => selectedFinding(store.getState())?.id === 'production/sandbox-path' && /production\/sandbox-path · production on host lab/.test(frame()));
    expect(findingRows(frame())[1]).toMatch(/^▶ /);
    expect(frame()).toMatch(/ProtectSystem=strict: the whole file system is read-only for the service, except ReadWritePaths=/);
    expect(frame()).toMatch(/← journalctl -u mcp-coordination\.service -p notice -n 50/);
    expect(frame()).toMatch(/ {4}│ FATAL: cannot write state to \/var\/lib\/opsdeck-lab\/srv\/production\/data\/state\.json: EROFS: read-only file system/);
    expect(frame()).toMatch(/ {2}fix: grant mcp-coordination\.service write access to \/var\/lib\/opsdeck-lab\/srv\/production\/data/);
    expect(frame()).toMatch(/f: preview it .*nothing runs before you confirm/);
    expect(frame().split('\n').at(-1)).toMatch(/f fix · r run again/);
  });

  it('f proposes the fix: the confirm dialog with its preview (the drop-in, its diff, production\'s name to type); Esc leaves the doctor as it was', async () => {
    const { store, stdin, frame } = open('incident', { columns: 120, rows: 40 });
    await diagnosed(store, stdin, frame);
    stdin.write('j');
    await until('the sandbox finding selected', () => selectedFinding(store.getState())?.id === 'production/sandbox-path');
    stdin.write('f');
    await until('the preview', () => /Type production to confirm/.test(frame()));
    expect(frame()).toMatch(/⚠ PRODUCTION Confirm: override mcp-coordination\.service: ReadWritePaths=/);
    expect(frame()).toMatch(/doctor: production\/sandbox-path: mcp-coordination\.service cannot write/);
    expect(frame()).toMatch(/1\. write the drop-in \/var\/lib\/opsdeck-lab\/units\/mcp-coordination\.service\.d\/opsdeck-override\.conf/);
    expect(frame()).toMatch(new RegExp(`\\+ReadWritePaths=${LAB}/production-data ${LAB}/production/data`));
    expect(frame()).toMatch(/2\. systemctl daemon-reload/);
    // The findings are seconds old: the fix is built from them, the doctor not run again.
    expect(store.getState().overlay).toMatchObject({ kind: 'confirm', mode: 'run', op: { kind: 'unit.override', environment: 'production', protected: true } });
    stdin.write('\x1b');
    await until('the doctor again', () => store.getState().overlay === null && /production\/sandbox-path · production on host lab/.test(frame()));
    expect(findingRows(frame())[1]).toMatch(/^▶ /);
    expect(store.getState().operation).toBeNull();
  });

  it('previews the adoption of the hand-started port holder and the backup of the live data, each naming the finding that asked for it', async () => {
    const { store, stdin, frame } = open('incident', { columns: 140, rows: 45 });
    await diagnosed(store, stdin, frame);
    stdin.write('j');
    await until('the sandbox finding selected', () => selectedFinding(store.getState())?.id === 'production/sandbox-path');
    for (const [id, title, kind] of [
      ['production/port-unmanaged:3444', /⚠ PRODUCTION Confirm: adopt PID \d+ into mcp-coordination\.service \(port 3444\)/, 'adopt'],
      ['production/backup-archives-stale', new RegExp(`⚠ PRODUCTION Confirm: back up production: ${LAB}/production/data`), 'backup.create'],
    ] as const) {
      stdin.write('j');
      await until(`${id} selected`, () => selectedFinding(store.getState())?.id === id);
      stdin.write('f');
      await until(`the preview of ${id}'s fix`, () => title.test(frame()) && /Type production to confirm/.test(frame()));
      expect(frame()).toMatch(new RegExp(`doctor: ${id}: `));
      expect(store.getState().overlay).toMatchObject({ kind: 'confirm', op: { kind } });
      stdin.write('\x1b');
      await until('the doctor again', () => store.getState().overlay === null);
    }
  });

  it('r runs it again, saying so while the old findings stay; Esc stops it; the next run ends well', async () => {
    const { store, stdin, frame, host } = open('incident', { columns: 120, rows: 40 });
    await diagnosed(store, stdin, frame);
    expect(host.count(SYSTEMCTL_SHOW)).toBe(1);
    host.hold(/journalctl/);
    stdin.write('r');
    await until('the run shown', () => /^… running the doctor on every environment since \d\d:\d\d:\d\d · Esc stops/.test(paneLines(frame())[0] ?? ''));
    expect(host.count(SYSTEMCTL_SHOW)).toBe(2);
    expect(findingRows(frame())).toHaveLength(4);
    expect(frame().split('\n').at(-1)).toMatch(/Esc stop/);
    stdin.write('\x1b');
    await until('stopped', () => store.getState().doctor.running === null && /the doctor stopped: the findings shown are from its last whole run/.test(frame()));
    expect(findingRows(frame())).toHaveLength(4);
    stdin.write('r');
    await until('the run again', () => host.count(SYSTEMCTL_SHOW) === 3 && idle(store));
    expect(store.getState().doctor.error).toBeNull();
    expect(paneLines(frame())[0]).toMatch(/^✗ 4 findings above info/);
  });

  it('runs when the pane is entered, is cancelled when it is left, and is not run again when it is entered within seconds of a run', async () => {
    const { store, stdin, frame, host } = open('incident');
    const held = host.hold(/journalctl/);
    stdin.write('5');
    await until('running', () => store.getState().doctor.running?.kind === 'run' && host.count(/journalctl/) === 1);
    stdin.write('1');
    await until('cancelled', () => store.getState().doctor.running === null);
    held.release();
    await settle(50);
    // The cancelled run's report is never shown.
    expect(store.getState().doctor.report).toBeNull();
    await diagnosed(store, stdin, frame);
    expect(host.count(SYSTEMCTL_SHOW)).toBe(2);
    stdin.write('1');
    await settle();
    await diagnosed(store, stdin, frame);
    expect(host.count(SYSTEMCTL_SHOW)).toBe(2);
  });

  it('says what it could not gather, and finds what it can without it', async () => {
    // The host cannot answer the read of the hand-started process's /proc: the recording without it.
    const withoutProc = (r: DoctorRecording): DoctorRecording => ({ ...r, phases: { ...r.phases, incident: { ...r.phases.incident!, runs: r.phases.incident!.runs.filter((run) => !(run.argv[0] === 'find' && run.argv.some((a) => /^\/proc\/\d+\/cwd$/.test(a)))) } } });
    const { store, stdin, frame } = open('incident', { columns: 120, rows: 40, changed: withoutProc });
    await diagnosed(store, stdin, frame);
    const errors = store.getState().doctor.report!.errors;
    expect(errors).toContainEqual(expect.stringMatching(/^production: the processes on its ports: /));
    // Shown under the verdict (the first ones, the rest counted).
    expect(paneLines(frame())[1]).toMatch(/^! could not gather: /);
    expect(paneLines(frame())[1]).toContain(errors[0]!.slice(0, 50));
    expect(findingRows(frame())[0]).toMatch(/mcp-coordination\.service is crash-looping/);
  });

  it('with nothing above info says so, and still lists the info findings with their evidence', async () => {
    const { store, stdin, frame } = open('quiet', { columns: 120, rows: 30 });
    await diagnosed(store, stdin, frame);
    const lines = paneLines(frame());
    expect(lines[0]).toMatch(/^✓ No findings above info on 1 environment · ran at \d\d:\d\d:\d\d in \d+ ms · r runs it again$/);
    const rows = findingRows(frame());
    expect(rows).toEqual([expect.stringMatching(/^▶ i INFO\s+scratch\s+-\s+scratch: cannot tell whether the backups hold the live data: the source /)]);
    expect(frame()).toMatch(/│i INFO scratch: cannot tell whether the backups hold the live data/);
    expect(frame()).toMatch(new RegExp(`· ${LAB}/scratch \\(the source\\): does not exist`));
    expect(frame()).toMatch(new RegExp(`← find ${LAB}/scratch`));
    expect(frame()).not.toMatch(/no fix of its own/);
    expect(frame().split('\n').at(-1)).not.toMatch(/f fix/);
  });

  it('in read-only mode shows the fixes but offers none', async () => {
    const { store, stdin, frame } = open('incident', { readonly: true, columns: 120, rows: 40 });
    await diagnosed(store, stdin, frame);
    stdin.write('j');
    await until('the sandbox finding selected', () => /read-only: fixes are not offered/.test(frame()));
    expect(frame()).toMatch(/fix: grant mcp-coordination\.service write access/);
    expect(frame().split('\n').at(-1)).not.toMatch(/f fix/);
    stdin.write('f');
    await until('the refusal', () => /read-only: fix/.test(frame()));
    expect(store.getState().overlay).toBeNull();
  });

  it('never grows past the terminal: the list keeps a third, the evidence scrolls with PgDn, Enter gives it the whole pane', async () => {
    for (const [columns, rows] of [[160, 45], [100, 24], [80, 24], [60, 15]] as const) {
      const { store, stdin, frame } = open('incident', { columns, rows });
      await diagnosed(store, stdin, frame);
      stdin.write('j');
      await until('the sandbox finding', () => selectedFinding(store.getState())?.id === 'production/sandbox-path' && /^▶ .* fix /.test(findingRows(frame()).find((r) => r.startsWith('▶')) ?? ''));
      const check = () => {
        expect(frame().split('\n').length).toBeLessThanOrEqual(rows - 1);
        for (const line of frame().split('\n')) expect(line.length).toBeLessThanOrEqual(columns);
      };
      check();
      if (rows === 45) expect(frame()).not.toMatch(/more lines? \(PgDn\)/);
      if (rows <= 24) {
        expect(frame()).toMatch(/… \d+ more lines \(PgDn\)/);
        const before = frame();
        stdin.write(PGDN);
        await until('the evidence scrolled', () => frame() !== before && /PgUp: back|ReadWritePaths=|fix:/.test(frame()));
        check();
      }
      stdin.write('\r');
      await until('the evidence over the pane', () => store.getState().doctor.expanded && findingRows(frame()).length === 1);
      expect(findingRows(frame())[0]).toMatch(/^▶ ✗ CRITICAL production/);
      check();
      stdin.write('\x1b');
      await until('the list again', () => !store.getState().doctor.expanded && findingRows(frame()).length === Math.min(4, findingRows(frame()).length));
    }
  });
});

describe('the environments pane\'s alarms', () => {
  it('counts each environment\'s alarms (the doctor\'s findings above info on the last refresh) and names the doctor pane in the details', async () => {
    const { store } = makeStore();
    const view = renderConsole(store);
    onTestFinished(() => view.unmount());
    Object.defineProperty(view.stdout, 'columns', { value: 120, configurable: true });
    view.stdout.emit('resize');
    await settle();
    const frame = view.lastFrame()!;
    const production = store.getState().status!.environments.find((e) => e.name === 'production')!.problems;
    expect(production.length).toBeGreaterThan(0);
    expect(frame).toMatch(/ENVIRONMENT\s+STATE\s+RESTARTS\s+HEALTH\s+ALARMS\s+VERSION\s+PORTS/);
    expect(frame).toMatch(new RegExp(`▶ production PROD .* ✗ ${production.length}\\s+\\S+\\s+3444 ✗ PID \\d+ no unit`));
    expect(frame).toMatch(/ {2}development .* ✓\s+\S+\s+3446 ✓/);
    expect(frame).toMatch(new RegExp(`${production.length} alarms, the doctor's findings above info · the doctor pane shows their causes, evidence and fixes`));
    expect(frame).toMatch(new RegExp(`✗ ${production[0]!.message.slice(0, 40).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });
});
