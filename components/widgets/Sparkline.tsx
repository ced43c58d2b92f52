// A one-line sparkline of recent values (health latency, restarts per refresh).
import { Text } from 'ink';
import { sparkline } from '../../src/core/text/humanize.js';

export { sparkline };

export function Sparkline({ values, width, color }: { values: ReadonlyArray<number | null>; width: number; color?: string | undefined }) {
  return (
    <Text color={color} wrap="truncate-end">
      {sparkline(values, { width })}
    </Text>
  );
}
