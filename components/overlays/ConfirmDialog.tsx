// The confirm dialog: the operation's preview as every place shows it (ops/preview.ts): what,
// where, whom it touches, and per step the exact commands, a diff for a file, and its undo;
// scrolled with ↑↓ when it is taller than the pane. A protected target wants its name typed;
// others want `y`.
import { Box, Text } from 'ink';
import type { PreviewLine } from '../../src/core/ops/preview.js';
import { requiredPhrase } from '../../src/core/ops/runner.js';
import type { OverlayOf } from '../../src/store/types.js';
import { useTheme, type Theme } from '../theme.js';

function colour(theme: Theme, style: PreviewLine['style']): { color?: string; bold?: boolean } {
  switch (style) {
    case 'head':
      return { bold: true };
    case 'command':
      return { color: theme.accent };
    case 'added':
      return { color: theme.ok };
    case 'removed':
      return { color: theme.error };
    case 'warn':
      return { color: theme.warn };
    case 'muted':
    case 'hunk':
      return { color: theme.muted };
    default:
      return {};
  }
}

/** Rows the dialog needs besides the preview: border, title, blank, prompt. */
const CONFIRM_CHROME = 5;

export function ConfirmDialog({ overlay, width, height }: { overlay: OverlayOf<'confirm'>; width: number; height: number }) {
  const theme = useTheme();
  const { op, preview } = overlay;
  const phrase = requiredPhrase(op);
  const danger = op.protected || op.risk === 'high';
  const rows = Math.max(1, height - CONFIRM_CHROME);
  const lines = preview ?? [];
  const top = Math.max(0, Math.min(overlay.scroll, lines.length - rows));
  return (
    <Box flexDirection="column" borderStyle={danger ? 'double' : 'round'} borderColor={danger ? theme.error : theme.accent} paddingX={1} width={width} height={Math.min(height, lines.length + CONFIRM_CHROME + 1)}>
      <Text bold wrap="truncate-end">{`${op.protected ? '⚠ PRODUCTION ' : ''}Confirm: ${overlay.mode === 'run' ? '' : `${overlay.mode} of `}${op.title}`}</Text>
      {preview === null ? (
        <Text color={theme.muted}>asking the host what is there now (files, units)…</Text>
      ) : (
        lines.slice(top, top + rows).map((line, i) => (
          <Text key={top + i} wrap="truncate-end" {...colour(theme, line.style)}>
            {line.text || ' '}
          </Text>
        ))
      )}
      {lines.length > rows ? <Text color={theme.muted}>{`  lines ${top + 1}-${Math.min(lines.length, top + rows)} of ${lines.length} (↑↓ PgUp PgDn)`}</Text> : null}
      {preview === null ? null : phrase ? (
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
