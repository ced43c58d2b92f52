// Durations and sizes as people read them, for the CLI and the console alike.

/** Seconds from an ISO time to now (negative if it is in the future). */
export function secondsSince(iso: string, now = Date.now()): number {
  return (now - Date.parse(iso)) / 1000;
}

export function formatAge(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '-';
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(seconds / 86400)}d${Math.floor((seconds % 86400) / 3600)}h`;
}

export function formatBytes(bytes: number | null): string {
  if (bytes === null) return '-';
  const units = ['B', 'K', 'M', 'G', 'T'];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${value >= 10 || i === 0 ? Math.round(value) : value.toFixed(1)}${units[i]}`;
}

const BARS = '▁▂▃▄▅▆▇█';

/** A one-line chart of recent values; `null` (no sample) shows as ×, zero optionally as blank. */
export function sparkline(values: ReadonlyArray<number | null>, options: { width?: number; blankZero?: boolean } = {}): string {
  const recent = options.width === undefined ? values : values.slice(-options.width);
  const numbers = recent.filter((v): v is number => v !== null);
  if (numbers.length === 0) return '·'.repeat(recent.length);
  const max = Math.max(...numbers);
  const min = Math.min(...numbers, 0);
  return recent
    .map((v) => {
      if (v === null) return '×';
      if (v === 0 && options.blankZero) return ' ';
      const level = max === min ? (v > 0 ? BARS.length - 1 : 0) : Math.round(((v - min) / (max - min)) * (BARS.length - 1));
      return BARS[level];
    })
    .join('');
}
