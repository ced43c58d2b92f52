// The remaining overlays: help (generated from the command registry), the command palette,
// a running job, an action's result, and a scrollable text view (unit files).
import { Box, Text } from 'ink';
import type { Overlay, AppState } from '../../src/store/types.js';
import { COMMANDS, worksNow, type Keymap } from '../keys/commands.js';
import { matchPalette } from '../keys/palette.js';
import { MARK, useTheme } from '../theme.js';
import { fit } from '../widgets/fit.js';

type Of<K extends string> = Extract<NonNullable<Overlay>, { kind: K }>;

export function HelpOverlay({ keymap, state, width, height }: { keymap: Keymap; state: AppState; width: number; height: number }) {
  const theme = useTheme();
  const groups = ['navigation', 'view', 'actions', 'app'] as const;
  const lines: Array<{ text: string; dim?: boolean; head?: boolean }> = [];
  for (const group of groups) {
    lines.push({ text: group.toUpperCase(), head: true });
    for (const c of COMMANDS.filter((x) => x.group === group)) {
      if (c.mutating && state.readonly) continue;
      const keys = keymap.keysOf(c.id).join(' ') || '(unbound)';
      const where = c.panes ? ` [${c.panes.join(', ')}]` : '';
      lines.push({ text: `  ${fit(keys, 12)} ${c.title}${where}`, dim: !worksNow(c, state) });
    }
  }
  lines.push({ text: `  ${fit('ctrl+c', 12)} cancel the running job; twice quickly to quit` });
  // As many columns as the lines need to fit the height (a box must never overflow in Ink).
  const rows = Math.max(1, height - 3);
  const columns = Math.min(3, Math.ceil(lines.length / rows));
  const perColumn = Math.ceil(lines.length / columns);
  const columnWidth = Math.floor((width - 4) / columns);
  return (
    <Box flexDirection="column" borderStyle="round" borderColor={theme.accent} paddingX={1} width={width} height={Math.min(height, perColumn + 3)}>
      <Text bold wrap="truncate-end">{`Keys (dimmed: not available here; override with keys: in the config) · any key closes`}</Text>
      <Box>
        {Array.from({ length: columns }, (_, col) => (
          <Box key={col} flexDirection="column" width={columnWidth}>
            {lines.slice(col * perColumn, (col + 1) * perColumn).map((l, i) => (
              <Text key={i} bold={l.head ?? false} color={l.dim ? theme.muted : undefined} dimColor={l.dim ?? false} wrap="truncate-end">
                {l.text}
              </Text>
            ))}
          </Box>
        ))}
      </Box>
    </Box>
  );
}

export function PaletteOverlay({ overlay, keymap, state, width, height }: { overlay: Of<'palette'>; keymap: Keymap; state: AppState; width: number; height: number }) {
  const theme = useTheme();
  const entries = matchPalette(state, keymap, overlay.query).slice(0, Math.max(1, height - 4));
  return (
    <Box flexDirection="column" borderStyle="round" borderColor={theme.accent} paddingX={1} width={Math.min(width, 90)}>
      <Text>
        <Text bold>: </Text>
        {overlay.query}
        <Text inverse={!theme.noColor}> </Text>
      </Text>
      {entries.length === 0 ? <Text color={theme.muted}>no match</Text> : null}
      {entries.map((e, i) => (
        <Text key={`${e.label}${i}`} inverse={i === overlay.index && !theme.noColor} bold={i === overlay.index} wrap="truncate-end">
          {`${i === overlay.index ? MARK.selected : ' '} ${fit(e.label, 40)} ${e.hint}`}
        </Text>
      ))}
    </Box>
  );
}

export function RunningOverlay({ overlay }: { overlay: Of<'running'> }) {
  const theme = useTheme();
  return (
    <Box borderStyle="round" borderColor={theme.accent} paddingX={1} flexDirection="column">
      <Text bold>{`running: ${overlay.action.title} on ${overlay.action.host}…`}</Text>
      <Text color={theme.muted}>Ctrl+C cancels</Text>
    </Box>
  );
}

export function ResultOverlay({ overlay, width }: { overlay: Of<'result'>; width: number }) {
  const theme = useTheme();
  const { result, action } = overlay;
  return (
    <Box flexDirection="column" borderStyle="round" borderColor={result.ok ? theme.ok : theme.error} paddingX={1} width={Math.min(width, 110)}>
      <Text bold color={result.ok ? theme.ok : theme.error} wrap="truncate-end">{`${result.ok ? MARK.ok : MARK.critical} ${result.summary}`}</Text>
      {result.steps.map((step, i) => (
        <Box key={i} flexDirection="column">
          <Text wrap="truncate-end">{`$ ${step.argv.join(' ')}  → ${step.skipped ? `skipped: ${step.skipped}` : `exit ${step.exitCode ?? '?'} in ${step.durationMs} ms`}`}</Text>
          {step.stderr
            ? step.stderr.split('\n').slice(0, 6).map((line, j) => (
                <Text key={j} color={theme.error} wrap="truncate-end">{`  ${line}`}</Text>
              ))
            : null}
        </Box>
      ))}
      {result.ok && !('impossible' in action.undo) ? <Text color={theme.muted}>{`undo: ${action.undo.description}`}</Text> : null}
      <Text color={theme.muted}>logged to the audit log · Enter/Esc closes</Text>
    </Box>
  );
}

export function TextOverlay({ overlay, width, height }: { overlay: Of<'text'>; width: number; height: number }) {
  const theme = useTheme();
  const lines = overlay.text.split('\n');
  const visible = Math.max(1, height - 3);
  return (
    <Box flexDirection="column" borderStyle="round" borderColor={theme.accent} paddingX={1} width={width} height={Math.min(height, lines.length + 3)}>
      <Text bold wrap="truncate-end">{`${overlay.title}  (${overlay.scroll + 1}-${Math.min(lines.length, overlay.scroll + visible)} of ${lines.length})`}</Text>
      {lines.slice(overlay.scroll, overlay.scroll + visible).map((line, i) => (
        <Text key={i} wrap="truncate-end">{line || ' '}</Text>
      ))}
    </Box>
  );
}
