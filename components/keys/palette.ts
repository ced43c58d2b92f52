// What the `:` palette offers: the open operations (resume / roll back), every environment, and
// every command that works now.
import { RESUMABLE } from '../../src/core/ops/state.js';
import { stuckOperations } from '../../src/store/selectors.js';
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
  // Operations left open on the hosts: resume one, or roll it back (each previewed and confirmed).
  const open: PaletteEntry[] = state.readonly
    ? []
    : stuckOperations(state).flatMap((o) => [
        // A rollback that was cut off is finished by rolling back, never by running forward.
        ...(RESUMABLE.includes(o.status) ? [{ label: `resume ${o.id}`, hint: `${o.status} · ${o.title}`, run: ({ state: s }: CommandContext) => void s.actions.proposeStored(o.id, 'resume') }] : []),
        { label: `roll back ${o.id}`, hint: `${o.status} · ${o.title}`, run: ({ state: s }: CommandContext) => void s.actions.proposeStored(o.id, 'rollback') },
      ]);
  return [...open, ...environments, ...commands];
}

export function matchPalette(state: AppState, keymap: Keymap, query: string): PaletteEntry[] {
  return fuzzyFilter(paletteEntries(state, keymap), query, (e) => `${e.label} ${e.hint}`);
}
