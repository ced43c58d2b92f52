// The confirm dialog: host, target, the exact command(s) and how they run on this machine,
// risk and undo. A protected environment wants its name typed; others want `y`.
import { Box, Text } from 'ink';
import { requiredPhrase } from '../../src/core/ops/actions.js';
import type { Overlay } from '../../src/store/types.js';
import { useTheme } from '../theme.js';

export function ConfirmDialog({ overlay, width }: { overlay: Extract<NonNullable<Overlay>, { kind: 'confirm' }>; width: number }) {
  const theme = useTheme();
  const { action } = overlay;
  const phrase = requiredPhrase(action);
  const danger = action.protected || action.risk === 'high';
  return (
    <Box flexDirection="column" borderStyle={danger ? 'double' : 'round'} borderColor={danger ? theme.error : theme.accent} paddingX={1} width={Math.min(width, 110)}>
      <Text bold wrap="truncate-end">{`${action.protected ? '⚠ PRODUCTION ' : ''}Confirm: ${action.title}`}</Text>
      <Text wrap="truncate-end">{`host ${action.host}${action.environment ? ` · environment ${action.environment}${action.protected ? ' (protected)' : ''}` : ''} · risk ${action.risk}`}</Text>
      <Text wrap="truncate-end">{`target ${action.target}`}</Text>
      {(action.details ?? []).map((detail, i) => (
        <Text key={`d${i}`} color={theme.muted} wrap="truncate-end">{`  ${detail}`}</Text>
      ))}
      {action.environments.length > 1 ? <Text wrap="truncate-end">{`touches environments ${action.environments.join(', ')}`}</Text> : null}
      <Text> </Text>
      <Text>will run:</Text>
      {overlay.commands.map((command, i) => (
        <Box key={i} flexDirection="column">
          <Text bold color={theme.accent} wrap="truncate-end">{`  $ ${command}`}</Text>
          {overlay.wrapped[i] && overlay.wrapped[i] !== command ? <Text color={theme.muted} wrap="truncate-end">{`    as: ${overlay.wrapped[i]}`}</Text> : null}
        </Box>
      ))}
      {action.steps.some((s) => s.ifStillRunning) ? <Text color={theme.muted}>  (KILL only if the process is still running after the grace period)</Text> : null}
      <Text wrap="truncate-end" color={theme.muted}>{`undo: ${action.undo.description}`}</Text>
      <Text> </Text>
      {phrase ? (
        <Text>
          {`Type `}
          <Text bold color={theme.error}>{phrase}</Text>
          {` to confirm: `}
          <Text bold inverse={!theme.noColor}>{overlay.typed || ' '}</Text>
          {overlay.typed === phrase ? <Text color={theme.ok}>{'  ✓ Enter to run'}</Text> : null}
        </Text>
      ) : (
        <Text bold>{'Proceed? y: yes · n/Esc: no'}</Text>
      )}
    </Box>
  );
}
