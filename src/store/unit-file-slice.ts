// Unit files: `systemctl cat` of a unit on its host, shown in a scrollable text overlay.
import { catUnit } from '../core/systemd/units.js';
import { describeError } from '../core/text/errors.js';
import type { Slice, SliceContext, UnitFileActions } from './types.js';

export function createUnitFileSlice({ deps, set, notify }: SliceContext): Slice<never, UnitFileActions> {
  return {
    state: {},
    actions: {
      async showUnitFile(host, unit) {
        try {
          const text = await catUnit(deps.hosts.get(host), unit);
          set({ overlay: { kind: 'text', title: `systemctl cat ${unit} (host ${host})`, text, scroll: 0, unit: { host, name: unit } } });
        } catch (error) {
          notify(describeError(error), 'error');
        }
      },
    },
  };
}
