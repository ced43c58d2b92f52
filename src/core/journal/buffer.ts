// A bounded ring buffer of log entries. Hot data stays here, out of React state: a consumer
// pushes whole batches, the store keeps only `revision`, and views read slices by index.
// Entries also have absolute sequence numbers (never reused), so a view can keep its place
// while the oldest lines are evicted.
import type { LogEntry } from './read.js';

export const DEFAULT_LOG_CAPACITY = 50_000;

export class LogBuffer<T = LogEntry> {
  private readonly items: Array<T | undefined>;
  private head = 0;
  private count = 0;
  private pushed = 0;
  private rev = 0;

  constructor(readonly capacity: number = DEFAULT_LOG_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`LogBuffer capacity must be a whole number >= 1 (got ${capacity})`);
    this.items = new Array<T | undefined>(capacity);
  }

  /** Entries held now (at most capacity). */
  get size(): number {
    return this.count;
  }

  /** Changes with every push or clear: cheap to compare, the only thing a store needs. */
  get revision(): number {
    return this.rev;
  }

  /** Entries ever pushed (sequence number of the next one). */
  get totalPushed(): number {
    return this.pushed;
  }

  /** Entries pushed out by newer ones. */
  get evicted(): number {
    return this.pushed - this.count;
  }

  /** Sequence number of the oldest entry held. */
  get firstSeq(): number {
    return this.pushed - this.count;
  }

  /** Append a batch (one revision step for the whole batch). */
  push(entries: readonly T[]): void {
    const n = entries.length;
    if (n === 0) return;
    const cap = this.capacity;
    // Only the newest `cap` of a huge batch can survive: skip the rest.
    const from = n > cap ? n - cap : 0;
    let tail = (this.head + this.count) % cap;
    for (let i = from; i < n; i++) {
      this.items[tail] = entries[i];
      tail = tail + 1 === cap ? 0 : tail + 1;
      if (this.count < cap) this.count++;
      else this.head = this.head + 1 === cap ? 0 : this.head + 1;
    }
    this.pushed += n;
    this.rev++;
  }

  /** The i-th entry held, 0 = oldest. */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.count) return undefined;
    return this.items[(this.head + index) % this.capacity];
  }

  /** The entry with this sequence number, if still held. */
  bySeq(seq: number): T | undefined {
    return this.at(seq - this.firstSeq);
  }

  /** Entries [start, end) by index, 0 = oldest (like Array.slice, negative counts from the end). */
  slice(start = 0, end = this.count): T[] {
    const s = clamp(start < 0 ? this.count + start : start, this.count);
    const e = clamp(end < 0 ? this.count + end : end, this.count);
    const out: T[] = [];
    for (let i = s; i < e; i++) out.push(this.items[(this.head + i) % this.capacity] as T);
    return out;
  }

  /** The newest n entries, oldest first. */
  tail(n: number): T[] {
    return this.slice(Math.max(0, this.count - n));
  }

  clear(): void {
    this.items.fill(undefined);
    this.head = 0;
    this.count = 0;
    this.rev++;
  }
}

function clamp(value: number, max: number): number {
  return Math.max(0, Math.min(max, Math.trunc(value)));
}
