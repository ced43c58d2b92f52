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

export function PromptOverlay({ overlay, width }: { overlay: Of<'prompt'>; width: number }) {
  const theme = useTheme();
  return (
    <Box flexDirection="column" borderStyle="round" borderColor={theme.accent} paddingX={1} width={Math.min(width, 110)}>
      <Text bold wrap="truncate-end">{overlay.label}</Text>
      <Text wrap="truncate-end">
        <Text bold inverse={!theme.noColor}>{overlay.text || ' '}</Text>
        {'▏'}
      </Text>
      <Text color={theme.muted} wrap="truncate-end">{'Enter: plan it (a preview comes first) · Esc: cancel'}</Text>
    </Box>
  );
}

export function TextOverlay({ overlay, width, height }: { overlay: Of<'text'>; width: number; height: number }) {
  const theme = useTheme();
  const lines = overlay.text.split('\n');
  const visible = Math.max(1, height - 3);
  return (
    <Box flexDirection="column" borderStyle="round" borderColor={theme.accent} paddingX={1} width={width} height={Math.min(height, lines.length + 3)}>
      <Text bold wrap="truncate-end">{`${overlay.title}  (${overlay.scroll + 1}-${Math.min(lines.length, overlay.scroll + visible)} of ${lines.length})${overlay.unit ? '  E: override a setting' : ''}`}</Text>
      {lines.slice(overlay.scroll, overlay.scroll + visible).map((line, i) => (
        <Text key={i} wrap="truncate-end">{line || ' '}</Text>
      ))}
    </Box>
  );
}
