// The console's screen: React, Ink and the components. Loaded by the console verb only after
// it has sent the first refresh's commands to the hosts, so this code's start-up (the bulk of
// the bundle's) runs while they work.
import { render } from 'ink';
import type { AppStore } from '../store/app-store.js';
import { App } from '../../components/App.js';
import { themeFromEnv } from '../../components/theme.js';
import { loadLayoutEngine } from './layout-engine.js';

export interface Screen {
  unmount(): void;
}

/** What must be loaded before the first mountScreen(). */
export async function prepareScreen(): Promise<void> {
  await loadLayoutEngine();
}

export function mountScreen(store: AppStore, onQuit: () => void): Screen {
  return render(<App store={store} theme={themeFromEnv()} onQuit={onQuit} />, {
    exitOnCtrlC: false,
    patchConsole: true,
    maxFps: 20,
  });
}
