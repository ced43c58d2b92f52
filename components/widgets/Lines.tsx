// Lines made by text-lines.ts, drawn: one row each, cut to the width, its tone in the theme's colour
// and its tail (where a piece of evidence came from) muted after it.
import { Box, Text } from 'ink';
import { useTheme, type Theme } from '../theme.js';
import type { Line, Tone } from './text-lines.js';

export function colourOf(theme: Theme, tone: Tone): string | undefined {
  return tone === 'plain' ? undefined : theme[tone];
}

export function Row({ line }: { line: Line }) {
  const theme = useTheme();
  return (
    <Text wrap="truncate-end" color={colourOf(theme, line.tone)} bold={line.bold ?? false}>
      {line.text || ' '}
      {line.tail ? <Text color={theme.muted}>{line.tail}</Text> : null}
    </Text>
  );
}

/** A fixed-height column of lines. */
export function Lines({ lines, width, height }: { lines: readonly Line[]; width: number; height: number }) {
  return (
    <Box flexDirection="column" width={width} height={height}>
      {lines.map((line, i) => (
        <Row key={i} line={line} />
      ))}
    </Box>
  );
}
