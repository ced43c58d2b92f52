// The journal lines that say why a unit fails: its newest notice-or-worse lines (systemd's
// "Main process exited, code=…, status=…" is a notice; the service's own errors are worse), read
// only while it fails or crash-loops. Status keeps them with its slow parts, so its problems and
// the doctor's findings (the sandbox-path cause quoting the EROFS line) are the same.
import type { Host } from '../host/host.js';
import { readJournal } from '../journal/read.js';
import type { UnitStatus } from '../systemd/units.js';
import type { UnitJournal } from './report.js';

/** Lines read: enough for a few restarts and the error before each. */
export const JOURNAL_LINES = 50;
/** Priority notice and worse. */
const JOURNAL_PRIORITY = { min: 0, max: 5 } as const;

/** The argv-like text a journal read is shown as, for the evidence's `from`. */
function journalFrom(units: readonly string[], lines = JOURNAL_LINES): string {
  return `journalctl ${units.map((u) => `-u ${u}`).join(' ')} -p notice -n ${lines}`;
}

/** Is the unit failing, so that its journal says why? */
export const isFailing = (unit: UnitStatus | null): unit is UnitStatus => unit !== null && (unit.crashLooping || unit.activeState === 'failed');

/** The newest lines of several units in one read, by unit (each with the one command they came from). */
export async function readUnitJournals(host: Host, units: readonly string[], options: { lines?: number; signal?: AbortSignal | undefined } = {}): Promise<Map<string, UnitJournal>> {
  const lines = options.lines ?? JOURNAL_LINES;
  const from = journalFrom(units, lines);
  const journals = new Map(units.map((unit): [string, UnitJournal] => [unit, { unit, from, entries: [] }]));
  if (units.length === 0) return journals;
  await readJournal(host, { units: [...units], lines, priority: JOURNAL_PRIORITY, ...(options.signal ? { signal: options.signal } : {}) }, (batch) => {
    for (const e of batch) journals.get(e.unit)?.entries.push({ timeUs: e.timeUs, priority: e.priority, message: e.message, origin: e.origin });
  });
  return journals;
}
