// A long step's progress as the operator reads it: done of total, the rate over the last few
// seconds (not since the start: a transfer that stalls shows it at once) and the time left at
// that rate. The runner meters every step's progress reports, and passes on at most a few a
// second (rsync and tar can report hundreds), always the last one.
import { formatAge, formatBytes } from '../text/humanize.js';

export type ProgressUnit = 'bytes' | 'files' | 'steps';

export interface Progress {
  done: number;
  total: number | null;
  unit: ProgressUnit;
  /** Units per second over the last WINDOW_MS, or null until two reports span some time. */
  rate: number | null;
  /** Seconds left at that rate, or null without a total or a rate. */
  etaSeconds: number | null;
  /** Files done of a pre-counted total, beside bytes (an archive being written or tested). */
  files?: { done: number; total: number | null };
}

const WINDOW_MS = 5000;
/** At most this often to the view and the CLI; a report that completes the total always goes. */
const EVERY_MS = 250;

export class ProgressMeter {
  private samples: Array<{ at: number; done: number }> = [];
  private lastSent = -Infinity;

  /** The report to pass on, or null when one went out too recently. */
  report(done: number, total: number | null, unit: ProgressUnit, now = Date.now(), files?: Progress['files']): Progress | null {
    this.samples.push({ at: now, done });
    while (this.samples.length > 2 && now - this.samples[0]!.at > WINDOW_MS) this.samples.shift();
    const complete = total !== null && done >= total;
    if (!complete && now - this.lastSent < EVERY_MS) return null;
    this.lastSent = now;
    const first = this.samples[0]!;
    const seconds = (now - first.at) / 1000;
    const rate = seconds > 0 ? Math.max(0, done - first.done) / seconds : null;
    const etaSeconds = total !== null && rate ? Math.max(0, total - done) / rate : complete ? 0 : null;
    return { done, total, unit, rate, etaSeconds, ...(files ? { files } : {}) };
  }
}

/** "1.2 GB / 3.4 GB · 45 MB/s · 52s left", or as much of it as is known. */
export function describeProgress(p: Progress): string {
  const amount = (n: number) => (p.unit === 'bytes' ? formatBytes(n) : `${n} ${p.unit}`);
  const parts = [p.total !== null ? `${amount(p.done)} / ${amount(p.total)}` : amount(p.done)];
  if (p.rate !== null) parts.push(`${p.unit === 'bytes' ? formatBytes(p.rate) : `${Math.round(p.rate * 10) / 10} ${p.unit}`}/s`);
  if (p.files) parts.push(p.files.total !== null ? `${p.files.done.toLocaleString('en-US')} / ${p.files.total.toLocaleString('en-US')} files` : `${p.files.done.toLocaleString('en-US')} files`);
  if (p.etaSeconds !== null && p.total !== null && p.done < p.total) parts.push(`${formatAge(p.etaSeconds)} left`);
  return parts.join(' · ');
}
