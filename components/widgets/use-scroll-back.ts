// Scrolled text that got shorter (another selection, PgDn held down) comes back to its end, so
// the first PgUp moves at once instead of scrolling back through nothing.
import { useEffect } from 'react';

/** `scroll` past `most` (the last offset that still fills the view): scrolled back by the difference. */
export function useScrollBack(scroll: number, most: number, scrollBy: (delta: number) => void): void {
  useEffect(() => {
    if (scroll > most) scrollBy(most - scroll);
  }, [scroll, most, scrollBy]);
}
