// Numbers typed on the command line: checked as text (so "1e3", "0x10" or a 30-digit PID are
// refused rather than read as JavaScript numbers), within a stated range, and echoed as typed.
import { UsageError } from '../core/text/errors.js';
import { quoteUntrusted } from '../core/text/sanitize.js';
import { describeRange } from '../config/schema.js';

export function parseNumberArg(text: string, what: string, range: { min: number; max: number; whole?: boolean; unit?: string }): number {
  const whole = range.whole ?? true;
  const valid = whole ? /^\d+$/ : /^\d+(\.\d+)?$/;
  const expected = `${describeRange(range.min, range.max, whole)}${range.unit ? ` (${range.unit})` : ''}`;
  const value = Number(text);
  if (!valid.test(text.trim()) || !Number.isFinite(value) || value < range.min || value > range.max) {
    throw new UsageError(`invalid ${what} ${quoteUntrusted(text)}`, `use ${expected}`);
  }
  return value;
}

/** The kernel never hands out a PID above this (PID_MAX_LIMIT, 2^22). */
export const MAX_PID = 4_194_304;
