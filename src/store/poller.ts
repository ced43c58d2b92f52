// Refreshes the store on an interval; a refresh never overlaps the previous one, so a slow
// host delays the next sample instead of piling up commands.
import type { AppStore } from './types.js';

export interface Poller {
  /** Settles when the first refresh (started at once) is done. */
  firstRefresh: Promise<void>;
  stop(): void;
}

export function startPoller(store: AppStore, intervalMs: number): Poller {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    if (stopped) return;
    await store.getState().actions.refresh();
    if (!stopped) timer = setTimeout(tick, intervalMs);
  };
  return {
    firstRefresh: tick(),
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
