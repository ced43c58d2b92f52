// The remaining overlays: help (generated from the command registry), the command palette,
// a running job, an action's result, and a scrollable text view (unit files).
import { Box, Text } from 'ink';
import type { Overlay, AppState } from '../../src/store/types.js';
import { COMMANDS, worksNow, type Keymap } from '../keys/commands.js';
import { matchPalette } from '../keys/palette.js';
import { MARK, useTheme } from '../theme.js';
import { fit } from '../widgets/fit.js';

type Of<K extends string> = Extract<NonNullable<Overlay>, { kind: K }>;

/** A help column narrower than this cuts the commands' titles: fewer columns, fewer commands. */
const HELP_COLUMN = 36;

type HelpLine = { text: string; dim?: boolean; head?: boolean };

/** The help's lines: every command by group, or only those that work here (group heads kept where they have one). */
function helpLines(keymap: Keymap, state: AppState, onlyHere: boolean): HelpLine[] {
  const lines: HelpLine[] = [];
  // Here, what can be done comes first: moving about is what the tab bar and footer show already.
  const groups = onlyHere ? (['actions', 'view', 'navigation', 'app'] as const) : (['navigation', 'view', 'actions', 'app'] as const);
  for (const group of groups) {
    const commands = COMMANDS.filter((c) => c.group === group && !(c.mutating && state.readonly) && (!onlyHere || worksNow(c, state)));
    if (commands.length === 0) continue;
    lines.push({ text: group.toUpperCase(), head: true });
    for (const c of commands) {
      const keys = keymap.keysOf(c.id).join(' ') || '(unbound)';
      const where = c.panes && !onlyHere ? ` [${c.panes.join(', ')}]` : '';
      lines.push({ text: `  ${fit(keys, 12)} ${c.title}${where}`, dim: !worksNow(c, state) });
    }
  }
  lines.push({ text: `  ${fit('ctrl+c', 12)} cancel the running job; twice quickly to quit` });
  return lines;
}

export function HelpOverlay({ keymap, state, width, height }: { keymap: Keymap; state: AppState; width: number; height: number }) {
  const theme = useTheme();
  // Columns as wide as a command's title needs, as many as the width holds; rows as the height
  // holds (a box must never overflow in Ink). Every command when they fit; else those that work
  // here (k9s's "keys that work here"); else as many of those as fit, the rest counted.
  const rows = Math.max(1, height - 3);
  const columns = Math.max(1, Math.min(3, Math.floor((width - 4) / HELP_COLUMN)));
  const all = helpLines(keymap, state, false);
  const onlyHere = all.length > rows * columns;
  let lines = onlyHere ? helpLines(keymap, state, true) : all;
  if (lines.length > rows * columns) {
    const left = lines.length - (rows * columns - 1);
    lines = [...lines.slice(0, rows * columns - 1), { text: `  … ${left} more: : (the palette) finds any command`, dim: true }];
  }
  const used = Math.max(1, Math.min(columns, Math.ceil(lines.length / rows)));
  const perColumn = Math.ceil(lines.length / used);
  const columnWidth = Math.floor((width - 4) / used);
  const title = onlyHere ? 'Keys that work here (a larger terminal lists them all) · any key closes' : 'Keys (dimmed: not available here; override with keys: in the config) · any key closes';
  return (
    <Box flexDirection="column" borderStyle="round" borderColor={theme.accent} paddingX={1} width={width} height={Math.min(height, perColumn + 3)}>
      <Text bold wrap="truncate-end">{title}</Text>
      <Box>
        {Array.from({ length: used }, (_, col) => (
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
