// The backups pane rendered with ink-testing-library, its host answering as the lab did
// (test/fixtures/backups-pane.json): what an operator sees first, the details within the
// pane's height at any terminal size, a verify's progress bar and its stop, and the keys.
import { describe, expect, it, onTestFinished } from 'vitest';
import type { AppStore } from '../../src/store/app-store.js';
import { replayStore, type Phase } from '../support/backups-fixture.js';
import { paneLines, renderConsole, settle } from '../support/console.js';
import { until } from '../support/until.js';

const PGDN = '\x1b[6~';

function open(phase: Phase, env: string, options: { readonly?: boolean; columns?: number; rows?: number } = {}) {
  const made = replayStore(phase, { readonly: options.readonly ?? false });
  onTestFinished(made.cleanup);
  made.store.getState().actions.selectEnv(env);
  const view = renderConsole(made.store);
  onTestFinished(() => view.unmount());
  if (options.columns || options.rows) {
    if (options.columns) Object.defineProperty(view.stdout, 'columns', { value: options.columns, configurable: true });
    if (options.rows) Object.defineProperty(view.stdout, 'rows', { value: options.rows, configurable: true });
    view.stdout.emit('resize');
  }
  return { ...made, ...view, frame: () => view.lastFrame() ?? '' };
}

async function shown(store: AppStore, stdin: { write: (s: string) => void }, frame: () => string, what: RegExp): Promise<void> {
  stdin.write('3');
  await until(`the backups pane to show ${what}`, () => what.test(frame()) && !Object.values(store.getState().backups.byEnv).some((b) => b.reading));
}

describe('the backups pane', () => {
  it('says first, loudly, that the backups would archive a stale source; then the archives, the schedule, the sizes', async () => {
    const { store, stdin, frame } = open('lab', 'production');
    await shown(store, stdin, frame, /STALE SOURCE/);
    const lines = paneLines(frame());
    expect(lines[0]).toMatch(/^✗ STALE SOURCE: production: the backup source \/var\/lib\/opsdeck-lab\/srv\/production-data is not/);
    expect(lines[1]).toMatch(/^production: \d+ archives in \/var\/lib\/opsdeck-lab\/srv\/production-data-backups · [\d.]+K · sizes [▁▂▃▄▅▆▇█]+$/);
    expect(lines[2]).toMatch(/^not scheduled \(opsdeck backup schedule production installs \*-\*-\* 00\/6:00:00\)/);
    expect(lines[3]).toMatch(/^\s+ARCHIVE\s+AGE\s+SIZE\s+FILES\s+VERIFIED\s+NOTE/);
    // Newest first, the cursor on it; verified ✓, never verified ·; the old job's say so.
    expect(lines[4]).toMatch(/^▶ ✓ data-\d{8}_\d{6}\.tar\.gz\s+\S+\s+[\d.]+[BK]\s+3\s+\S+ ago\s*$/);
    expect(lines.filter((l) => /^\s+· data-\d{8}_\d{6}\.tar\.gz .* - +not made by opsdeck$/.test(l)).length).toBeGreaterThanOrEqual(3);
    expect(frame().split('\n').length).toBeLessThan(24);
  });

  it('shows an archive much smaller than the one before it, the old job\'s archives, and a partial left behind', async () => {
    const { store, stdin, frame } = open('alarm', 'fixture', { columns: 160, rows: 30 });
    await shown(store, stdin, frame, /ARCHIVE/);
    const lines = paneLines(frame());
    expect(lines).toContainEqual(expect.stringMatching(/^! data-20261125_060000\.tar\.gz\.partial \(4\.0K, written \d+d\d+h ago\): unfinished: a create was cut off; prune removes it$/));
    const rows = lines.filter((l) => /data-\d{8}_\d{6}\.tar\.gz /.test(l) && !l.startsWith('!'));
    expect(rows).toHaveLength(4);
    expect(rows[0]).toMatch(/^▶ · data-\d{8}_\d{6}\.tar\.gz .* \?\s+-\s+✗ \d+% smaller than data-\d{8}_\d{6}\.tar\.gz$/);
    expect(rows[1]).toMatch(/^\s+· data-\d{8}_\d{6}\.tar\.gz .* 25\s+-\s*$/);
    expect(rows[3]).toMatch(/^\s+· data-20261120_060000\.tar\.gz .* -\s+not made by opsdeck$/);
  });

  it('opens the evidence on Enter, with where each piece came from, and never grows past the terminal', async () => {
    for (const [columns, rows] of [[160, 45], [100, 24], [60, 15]] as const) {
      const { store, stdin, frame } = open('lab', 'production', { columns, rows });
      await shown(store, stdin, frame, /STALE SOURCE/);
      stdin.write('\r');
      await until('the details', () => /SOURCE SANITY: stale-source/.test(frame()));
      expect(frame().split('\n').length).toBeLessThanOrEqual(rows - 1);
      for (const line of frame().split('\n')) expect(line.length).toBeLessThanOrEqual(columns);
      if (rows === 45) {
        expect(frame()).toMatch(/· the service writes to \/var\/lib\/opsdeck-lab\/srv\/production\/data /);
        expect(frame()).toMatch(/\[\/proc\/\d+\/environ\]/);
        expect(frame()).toMatch(/ARCHIVE data-\d{8}_\d{6}\.tar\.gz/);
      }
      if (rows === 15) {
        expect(frame()).toMatch(/… \d+ more lines \(PgDn\)/);
        const before = frame();
        stdin.write(PGDN);
        await until('the details scrolled', () => frame() !== before);
        expect(frame()).toMatch(/PgUp: back|more line/);
      }
      stdin.write('\x1b');
      await until('the details closed', () => !/SOURCE SANITY:/.test(frame()));
    }
  });

  it('draws a progress bar while a verify runs, stops it on Esc, and marks the row ✓ once one runs to its end', async () => {
    const { store, stdin, frame, host } = open('clean', 'fixture', { columns: 140, rows: 30 });
    await shown(store, stdin, frame, /ARCHIVE/);
    host.hold(/tar --extract/);
    stdin.write('v');
    await until('the progress bar', () => /verify data-\d{8}_\d{6}\.tar\.gz: test extraction █+░+ [\d.]+[BKM] \/ [\d.]+[BKM] .*\d+ \/ 25 files.* · Esc stops/.test(frame()));
    expect(frame()).toMatch(/Esc stop/);
    stdin.write('\x1b');
    await until('the verify stopped', () => /verify of data-\d{8}_\d{6}\.tar\.gz did not finish \(at \d\d:\d\d:\d\d\): stopped before it finished/.test(frame()));
    expect(paneLines(frame()).find((l) => l.startsWith('▶'))).toMatch(/^▶ · /);
    stdin.write('v');
    await until('the verify done', () => /✓ data-\d{8}_\d{6}\.tar\.gz verified at \d\d:\d\d:\d\d: checksum, extraction, manifest all well/.test(frame()));
    expect(paneLines(frame()).find((l) => l.startsWith('▶'))).toMatch(/^▶ ✓ data-\d{8}_\d{6}\.tar\.gz .* 25\s+\d+s ago/);
  });

  it('offers the pane\'s keys in the footer (r restores here, it does not restart), and refuses c on a stale source with the evidence open', async () => {
    const { store, stdin, frame } = open('lab', 'production', { columns: 160, rows: 30 });
    await shown(store, stdin, frame, /STALE SOURCE/);
    const footer = frame().split('\n').at(-1)!;
    expect(footer).toMatch(/⏎ details · c create · v verify · r restore · p prune/);
    expect(footer).not.toMatch(/restart/);
    stdin.write('c');
    await until('the refusal', () => /refusing to back up \/var\/lib\/opsdeck-lab\/srv\/production-data/.test(frame()));
    expect(frame()).toMatch(/SOURCE SANITY: stale-source/);
    expect(store.getState().overlay).toBeNull();
    await settle();
    expect(frame()).not.toMatch(/Confirm:/);
  });

  it('in read-only mode offers verify but nothing that changes the backups', async () => {
    const { store, stdin, frame } = open('lab', 'production', { readonly: true });
    await shown(store, stdin, frame, /STALE SOURCE/);
    const footer = frame().split('\n').at(-1)!;
    expect(footer).toMatch(/v verify/);
    expect(footer).not.toMatch(/c create|r restore|p prune/);
    stdin.write('p');
    await until('the refusal', () => /read-only: prune/.test(frame()));
  });
});
