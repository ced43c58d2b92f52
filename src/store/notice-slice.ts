// The notice in the footer: the latest thing the console has to say (a refusal, an error, a
// hint), with its level and time.
import { sanitizeLine } from '../core/text/sanitize.js';
import type { NoticeActions, Slice, SliceContext } from './types.js';

export function createNoticeSlice({ set, now }: SliceContext): Slice<'notice', NoticeActions> {
  return {
    state: { notice: null },
    actions: {
      notify(text, level = 'info') {
        // Notices quote errors, names and values from anywhere: one sanitizer on the way in.
        set({ notice: { text: sanitizeLine(text), level, at: now() } });
      },
    },
  };
}
