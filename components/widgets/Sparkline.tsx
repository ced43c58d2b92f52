// A one-line sparkline of recent values (health latency, restarts per refresh).
import { Text } from 'ink';

const BARS = '▁▂▃▄▅▆▇█';

export function sparkline(values: ReadonlyArray<number | null>, width: number): string {
  const recent = values.slice(-width);
  const numbers = recent.filter((v): v is number => v !== null);
  if (numbers.length === 0) return '·'.repeat(Math.min(width, recent.length));
  const max = Math.max(...numbers);
  const min = Math.min(...numbers, 0);
  return recent
    .map((v) => {
      if (v === null) return '×';
      const level = max === min ? (v > 0 ? BARS.length - 1 : 0) : Math.round(((v - min) / (max - min)) * (BARS.length - 1));
      return BARS[level];
    })
    .join('');
}

export function Sparkline({ values, width, color }: { values: ReadonlyArray<number | null>; width: number; color?: string | undefined }) {
  return (
    <Text color={color} wrap="truncate-end">
      {sparkline(values, width)}
    </Text>
  );
}
