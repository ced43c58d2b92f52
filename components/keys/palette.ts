// What the `:` palette offers: every command that works now, and every environment.
import type { AppState } from '../../src/store/types.js';
import { COMMANDS, worksNow, type CommandContext, type Keymap } from './commands.js';
import { fuzzyFilter } from './fuzzy.js';

export interface PaletteEntry {
  label: string;
  hint: string;
  run: (ctx: CommandContext) => void;
}

export function paletteEntries(state: AppState, keymap: Keymap): PaletteEntry[] {
  const environments: PaletteEntry[] = Object.entries(state.config.environments).map(([name, env]) => ({
    label: `env ${name}`,
    hint: `${env.protected ? 'PROTECTED · ' : ''}host ${env.host}${env.unit ? ` · ${env.unit}` : ''}`,
    run: ({ state: s }) => {
      s.actions.setPane('environments');
      s.actions.selectEnv(name);
    },
  }));
  const commands: PaletteEntry[] = COMMANDS.filter((c) => c.id !== 'palette' && worksNow(c, state)).map((c) => ({
    label: c.title,
    hint: keymap.keysOf(c.id).join(' ') || c.id,
    run: c.run,
  }));
  return [...environments, ...commands];
}

export function matchPalette(state: AppState, keymap: Keymap, query: string): PaletteEntry[] {
  return fuzzyFilter(paletteEntries(state, keymap), query, (e) => `${e.label} ${e.hint}`);
}
