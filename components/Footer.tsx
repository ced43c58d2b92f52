// Footer: only the keys that work here, now; or the keys of the open dialog; and the latest notice.
import { Box, Text } from 'ink';
import { useEffect, useState } from 'react';
import { requiredPhrase } from '../src/core/ops/runner.js';
import type { AppState } from '../src/store/types.js';
import { useApp } from './StoreContext.js';
import { COMMANDS, worksNow, type Keymap } from './keys/commands.js';
import { useTheme } from './theme.js';

const NOTICE_MS = 6000;

function overlayKeys(state: AppState): string {
  const overlay = state.overlay!;
  switch (overlay.kind) {
    case 'confirm':
      if (!overlay.preview) return 'reading the host… · Esc: cancel';
      return requiredPhrase(overlay.op) !== null ? 'type the name, Enter: confirm · ↑↓: scroll · Esc: cancel' : 'y: confirm · n/Esc: cancel · ↑↓: scroll';
    case 'palette':
      return 'type to search · ↑↓: choose · Enter: run · Esc: close';
    case 'text':
      return `↑↓ PgUp PgDn: scroll${overlay.unit ? ' · E: override a setting' : ''} · Esc/q: close`;
    case 'prompt':
      return 'Enter: plan it · Esc: cancel';
    case 'operation':
      // Not any key: a key typed ahead while it ran must not dismiss its result unread.
      return state.operation?.result ? 'Enter/Esc/q/Space: close' : state.operation?.asking ? 's: stop here · r: roll back · k/Esc: keep waiting' : 'Ctrl+C: stop here, roll back, or keep waiting';
    default:
      return 'any key: close';
  }
}

export function footerKeys(state: AppState, keymap: Keymap): string {
  if (state.overlay) return overlayKeys(state);
  if (state.filterEditing) return `filter: ${state.filter[state.pane]}▏ Enter: keep · Esc: clear`;
  if (state.pane === 'logs' && state.logs.prompt) return 'type a pattern · Enter: apply · Esc: cancel';
  // A key shared by two commands (r: restore in the backups pane, restart elsewhere) shows only the one it runs here.
  const runs = (c: (typeof COMMANDS)[number]) => keymap.keysOf(c.id).some((key) => keymap.byKey.get(key)?.find((x) => worksNow(x, state)) === c);
  return COMMANDS.filter((c) => c.footer && worksNow(c, state) && runs(c))
    .map((c) => `${(keymap.keysOf(c.id)[0] ?? '').replace('return', '⏎').replace('tab', 'Tab').replace('escape', 'Esc')} ${c.title.split(':')[0]!.replace(/ the unit$/, '')}`)
    .join(' · ');
}

export function Footer({ width, keymap }: { width: number; keymap: Keymap }) {
  const theme = useTheme();
  // One string per state: the footer re-renders only when what it says changes.
  const keys = useApp((s) => footerKeys(s, keymap));
  const notice = useApp((s) => s.notice);
  const statusError = useApp((s) => s.statusError);
  const [, tick] = useState(0);
  useEffect(() => {
    if (!notice) return;
    const timer = setTimeout(() => tick((n) => n + 1), NOTICE_MS);
    return () => clearTimeout(timer);
  }, [notice]);
  const showNotice = notice && Date.now() - notice.at < NOTICE_MS;
  const noticeColor = notice?.level === 'error' ? theme.error : notice?.level === 'warn' ? theme.warn : theme.accent;
  return (
    <Box flexDirection="column" width={width}>
      <Text color={showNotice ? noticeColor : theme.error} wrap="truncate-end">
        {showNotice ? notice.text : statusError ? `refresh failed: ${statusError}` : ' '}
      </Text>
      <Text color={theme.muted} wrap="truncate-end">
        {keys}
      </Text>
    </Box>
  );
}
