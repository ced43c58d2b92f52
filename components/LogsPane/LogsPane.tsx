// The selected environment's journal, following. (Placeholder until the log view lands.)
import { Box, Text } from 'ink';
import { useApp } from '../StoreContext.js';
import { useTheme } from '../theme.js';

export function LogsPane({ width, height }: { width: number; height: number }) {
  const theme = useTheme();
  const name = useApp((s) => s.selectedEnv);
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text>{`logs of ${name ?? '(no environment)'}`}</Text>
      <Text color={theme.muted}>following the journal…</Text>
    </Box>
  );
}
