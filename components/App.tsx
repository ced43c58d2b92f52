// The console's root: header, pane tabs, the pane (or an open dialog in its place), footer.
// The frame is always one line shorter than the terminal (a full-height frame makes Ink 6.8
// clear and redraw the whole screen on every render), and every list has a fixed height.
import { Box, Text } from 'ink';
import { useEffect, useMemo, useRef } from 'react';
import { PANES, type AppStore } from '../src/store/types.js';
import { BackupsPane } from './BackupsPane/BackupsPane.js';
import { DoctorView } from './DoctorView/DoctorView.js';
import { EnvironmentsPane } from './EnvironmentsPane/EnvironmentsPane.js';
import { Footer } from './Footer.js';
import { Header } from './Header.js';
import { buildKeymap, type Keymap } from './keys/commands.js';
import { KeypressProvider } from './keys/KeypressProvider.js';
import { MIN_COLUMNS, MIN_ROWS, pasteGuard, useConsoleKeys } from './keys/useConsoleKeys.js';
import { LogsPane } from './LogsPane/LogsPane.js';
import { ConfirmDialog } from './overlays/ConfirmDialog.js';
import { HelpOverlay, PaletteOverlay, PromptOverlay, TextOverlay } from './overlays/OtherOverlays.js';
import { OperationView } from './OperationView/OperationView.js';
import { ProcessesPane } from './ProcessesPane/ProcessesPane.js';
import { StoreProvider, useApp, useAppStore } from './StoreContext.js';
import { ThemeContext, useTheme, type Theme } from './theme.js';
import { useTerminalSize } from './useTerminalSize.js';

export { MIN_COLUMNS, MIN_ROWS };

export function App({ store, theme, onQuit }: { store: AppStore; theme: Theme; onQuit: () => void }) {
  return (
    <ThemeContext.Provider value={theme}>
      <StoreProvider store={store}>
        <KeypressProvider chunkGuard={pasteGuard(store)}>
          <Console onQuit={onQuit} />
        </KeypressProvider>
      </StoreProvider>
    </ThemeContext.Provider>
  );
}

function Console({ onQuit }: { onQuit: () => void }) {
  const store = useAppStore();
  const { columns, rows } = useTerminalSize();
  const overrides = useApp((s) => s.config.keys);
  const keymap = useMemo(() => buildKeymap(overrides), [overrides]);
  const bodyHeight = rows - 1 - 1 - 1 - 2 - 2; // frame is rows-1: header, tabs, body border, footer (2)
  const pane = useApp((s) => s.pane);
  // Rows a page moves: the pane's list, i.e. its height less its header lines (the logs view
  // has three; tables one, plus the processes pane's ports list below).
  const pageSize = useRef(bodyHeight);
  pageSize.current = Math.max(1, pane === 'logs' ? bodyHeight - 3 : bodyHeight - 4);
  useConsoleKeys(store, keymap, () => pageSize.current);
  const quit = useApp((s) => s.quitRequested);
  useEffect(() => {
    if (quit) onQuit();
  }, [quit, onQuit]);
  useEffect(() => {
    if (keymap.problems.length > 0) store.getState().actions.notify(keymap.problems.join('; '), 'warn');
  }, [keymap, store]);

  if (columns < MIN_COLUMNS || rows < MIN_ROWS) {
    return (
      <Box height={Math.max(1, rows - 1)} flexDirection="column">
        <Text bold>{`terminal too small: ${columns}x${rows}`}</Text>
        <Text>{`opsdeck needs at least ${MIN_COLUMNS}x${MIN_ROWS}; keys are ignored until it has room (q quits)`}</Text>
      </Box>
    );
  }
  return (
    <Box flexDirection="column" width={columns} height={rows - 1}>
      <Header width={columns} />
      <Tabs width={columns} />
      <Body width={columns} height={bodyHeight + 2} keymap={keymap} />
      <Footer width={columns} keymap={keymap} />
    </Box>
  );
}

function Tabs({ width }: { width: number }) {
  const theme = useTheme();
  const pane = useApp((s) => s.pane);
  const filter = useApp((s) => s.filter[s.pane]);
  return (
    <Box width={width}>
      {PANES.map((p, i) => (
        <Text key={p} bold={p === pane} inverse={p === pane && !theme.noColor} color={p === pane ? theme.accent : theme.muted}>
          {` ${p === pane ? '▸' : ' '}${i + 1} ${p} `}
        </Text>
      ))}
      {filter ? <Text color={theme.warn}>{`  filter: ${filter}`}</Text> : null}
    </Box>
  );
}

function Body({ width, height, keymap }: { width: number; height: number; keymap: Keymap }) {
  const theme = useTheme();
  const pane = useApp((s) => s.pane);
  const overlay = useApp((s) => s.overlay);
  const state = useApp((s) => (s.overlay?.kind === 'help' || s.overlay?.kind === 'palette' ? s : null));
  const isProtected = useApp((s) => Boolean(s.selectedEnv && s.config.environments[s.selectedEnv]?.protected));
  const innerWidth = width - 2;
  const innerHeight = height - 2;
  let content;
  if (overlay?.kind === 'confirm') content = <ConfirmDialog overlay={overlay} width={innerWidth} height={innerHeight} />;
  else if (overlay?.kind === 'help' && state) content = <HelpOverlay keymap={keymap} state={state} width={innerWidth} height={innerHeight} />;
  else if (overlay?.kind === 'palette' && state) content = <PaletteOverlay overlay={overlay} keymap={keymap} state={state} width={innerWidth} height={innerHeight} />;
  else if (overlay?.kind === 'operation') content = <OperationView width={innerWidth} height={innerHeight} />;
  else if (overlay?.kind === 'prompt') content = <PromptOverlay overlay={overlay} width={innerWidth} />;
  else if (overlay?.kind === 'text') content = <TextOverlay overlay={overlay} width={innerWidth} height={innerHeight} />;
  else if (pane === 'environments') content = <EnvironmentsPane width={innerWidth} height={innerHeight} />;
  else if (pane === 'processes') content = <ProcessesPane width={innerWidth} height={innerHeight} />;
  else if (pane === 'backups') content = <BackupsPane width={innerWidth} height={innerHeight} />;
  else if (pane === 'doctor') content = <DoctorView width={innerWidth} height={innerHeight} />;
  else content = <LogsPane width={innerWidth} height={innerHeight} />;
  return (
    <Box borderStyle={isProtected ? 'bold' : 'round'} borderColor={isProtected ? theme.prod : theme.border} width={width} height={height} flexDirection="column">
      {content}
    </Box>
  );
}
