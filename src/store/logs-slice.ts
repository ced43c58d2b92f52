// The logs pane's state and actions: what is followed, the view (following or paused with a
// count of new lines, filters, search, time display, wrap), what happened to the connection,
// and the errors/warnings counts since today. The entries themselves live in LogSession, which
// this slice makes and feeds into the store (a revision counter, never the entries).
import type { Config } from '../config/schema.js';
import { environmentUnits } from '../core/systemd/units.js';
import { describeError } from '../core/text/errors.js';
import { DEFAULT_LOG_CAPACITY } from '../core/journal/buffer.js';
import type { FollowEvent } from '../core/journal/follow.js';
import { countPriorities } from '../core/journal/counts.js';
import { parseTime, type PriorityRange } from '../core/journal/filter.js';
import { compilePattern, type Pattern } from '../core/text/pattern.js';
import { LogSession, type LogTarget } from './log-session.js';
import { environmentHost } from './selectors.js';
import type { Canceller, LogActions, LogsState, Slice, SliceContext } from './types.js';

export const initialLogsState: LogsState = {
  target: null,
  revision: 0,
  length: 0,
  follow: true,
  top: 0,
  newWhilePaused: 0,
  connection: 'idle',
  waitingSince: null,
  lastEvent: null,
  suppressed: 0,
  priority: null,
  include: '',
  exclude: '',
  search: '',
  match: -1,
  matchCount: 0,
  work: null,
  since: null,
  timeMode: 'absolute',
  wrap: false,
  counts: null,
  countsError: null,
  prompt: null,
  pager: null,
};

const PRIORITY_STEPS: Array<PriorityRange | null> = [null, { min: 0, max: 4 }, { min: 0, max: 3 }];
const COUNT_EVERY_MS = 60_000;

/** The units to follow for an environment: its unit and related units (e.g. the backup job). */
export function environmentTarget(config: Config, name: string, host: string): LogTarget | null {
  const env = config.environments[name];
  if (!env) return null;
  const units = environmentUnits(env);
  return units.length > 0 ? { host, units, label: name, environment: name } : null;
}

export interface LogsSlice extends Slice<'logs' | 'logSession', LogActions> {
  /** Ctrl+C in the logs pane: following the journal is a running job too, and stops. */
  stopFollowing: Canceller;
}

export function createLogsSlice({ deps, set, get, notify }: SliceContext): LogsSlice {
  const { hosts } = deps;
  const patch = (p: Partial<LogsState>) => set({ logs: { ...get().logs, ...p } });
  let countTimer: NodeJS.Timeout | undefined;

  const session = new LogSession(hosts, deps.logCapacity ?? DEFAULT_LOG_CAPACITY, {
    onEntries: (passed, dropped) => {
      const logs = get().logs;
      // A paused view keeps its lines in place while the ring buffer drops the oldest.
      const top = logs.follow ? logs.top : Math.max(0, logs.top - dropped);
      const match = logs.match < 0 ? -1 : logs.match - dropped >= 0 ? logs.match - dropped : -1;
      set({ logs: { ...logs, revision: logs.revision + 1, length: session.length, top, match, newWhilePaused: logs.follow ? 0 : logs.newWhilePaused + passed } });
    },
    onEvent: (event) => {
      const logs = get().logs;
      const connection: LogsState['connection'] =
        event.type === 'connected' || event.type === 'resumed' ? 'live' : event.type === 'reconnecting' ? 'reconnecting' : event.type === 'ended' ? (event.reason === 'failed' ? 'failed' : 'stopped') : logs.connection;
      set({
        logs: {
          ...logs,
          connection,
          waitingSince: event.type === 'waiting' ? event.at : event.type === 'suppressed' || event.type === 'oversized' ? logs.waitingSince : null,
          lastEvent: describeFollowEvent(event) ?? logs.lastEvent,
          suppressed: logs.suppressed + (event.type === 'suppressed' ? event.dropped : 0),
        },
      });
    },
    onWork: (work) => set({ logs: { ...get().logs, work } }),
  });

  const recount = () => {
    const target = get().logs.target;
    if (!target) return;
    countPriorities(hosts.get(target.host), target.units, { since: 'today', buckets: 24 })
      .then((counts) => patch({ counts, countsError: null }))
      .catch((error: unknown) => patch({ countsError: describeError(error) }));
  };

  /** Change filters: the session re-filters, and the view goes back to following, in one update. */
  const applyFilter = (changes: Partial<LogsState>) => {
    const logs = { ...get().logs, ...changes };
    session.setFilter({
      priority: logs.priority ?? undefined,
      include: logs.include ? [compilePattern(logs.include, 'include filter')] : [],
      exclude: logs.exclude ? [compilePattern(logs.exclude, 'exclude filter')] : [],
    });
    // The count was of the old view: counted again (null meanwhile).
    patch({ ...changes, length: session.length, top: 0, follow: true, newWhilePaused: 0, match: -1, revision: logs.revision + 1, ...(logs.search ? { matchCount: null } : {}) });
    if (logs.search) recountMatches(logs.search);
  };

  /** The search pattern, compiled once per text (every n/N and frame uses it). */
  let compiled: Pattern | null = null;
  const searchPattern = (text: string): Pattern => {
    if (compiled?.source !== text) compiled = compilePattern(text, 'search');
    return compiled;
  };

  /** Count the lines in view that match, in the background (superseded by a newer count); the
   *  caller sets matchCount to null in its own update. */
  const recountMatches = (text: string) => {
    void session.count(searchPattern(text)).then((matches) => {
      if (matches !== null && get().logs.search === text) patch({ matchCount: matches });
    });
  };

  const actions: LogActions = {
    openLogs(target, since = get().logs.since) {
      const state = get();
      const chosen = target ?? (state.selectedEnv ? environmentTarget(state.config, state.selectedEnv, environmentHost(state, state.selectedEnv)) : null);
      if (!chosen) {
        notify('nothing to follow: the selected environment has no units (pick a unit in the processes pane and press l)', 'warn');
        return;
      }
      try {
        // Both throw before anything is stopped: a bad window leaves the running follow as it is.
        const window = since ? parseTime(since, new Date(), 'time window').journal : undefined;
        // The state is reset before the new follower starts, so what it says at once stays.
        session.open(chosen, window, () =>
          patch({ target: chosen, since, length: 0, follow: true, top: 0, newWhilePaused: 0, connection: 'connecting', waitingSince: null, lastEvent: null, suppressed: 0, match: -1, counts: null }),
        );
      } catch (error) {
        notify(describeError(error), 'error');
        return;
      }
      clearInterval(countTimer);
      recount();
      countTimer = setInterval(recount, COUNT_EVERY_MS);
      countTimer.unref?.();
    },
    async closeLogs() {
      clearInterval(countTimer);
      await session.close();
      if (get().logs.connection !== 'idle') patch({ connection: 'stopped', waitingSince: null });
    },
    scrollLogs(delta, viewHeight) {
      const { logs } = get();
      const bottom = Math.max(0, logs.length - viewHeight);
      const from = logs.follow ? bottom : logs.top;
      const top = Math.max(0, Math.min(bottom, from + delta));
      if (top >= bottom && delta > 0) patch({ follow: true, top: bottom, newWhilePaused: 0 });
      else patch({ follow: false, top });
    },
    followLogs() {
      // After Ctrl+C stopped the tail, or it failed for good, G starts it again.
      const { connection, target } = get().logs;
      if ((connection === 'stopped' || connection === 'failed') && target) actions.openLogs(target);
      patch({ follow: true, newWhilePaused: 0 });
    },
    cycleLogPriority() {
      const { logs } = get();
      const index = PRIORITY_STEPS.findIndex((p) => p?.max === logs.priority?.max);
      const priority = PRIORITY_STEPS[(index + 1) % PRIORITY_STEPS.length] ?? null;
      applyFilter({ priority });
    },
    startLogPrompt(kind) {
      const { logs } = get();
      const text = kind === 'search' ? logs.search : kind === 'include' ? logs.include : kind === 'exclude' ? logs.exclude : (logs.since ?? '');
      patch({ prompt: { kind, text } });
    },
    editLogPrompt(text) {
      const prompt = get().logs.prompt;
      if (prompt) patch({ prompt: { ...prompt, text } });
    },
    submitLogPrompt() {
      const { logs } = get();
      const prompt = logs.prompt;
      if (!prompt) return;
      const text = prompt.text.trim();
      try {
        if (prompt.kind === 'search') {
          if (text) searchPattern(text); // a bad pattern is refused before anything changes
          session.cancelSearch();
          patch({ prompt: null, search: text, match: -1, matchCount: text ? null : 0 });
          if (text) {
            recountMatches(text);
            actions.nextMatch(-1, 0);
          }
        } else if (prompt.kind === 'include' || prompt.kind === 'exclude') {
          applyFilter({ prompt: null, [prompt.kind]: text });
        } else {
          // Checked whole before the follow is touched: a refused window changes nothing.
          if (text) parseTime(text, new Date(), 'time window');
          patch({ prompt: null });
          actions.openLogs(logs.target ?? undefined, text || null);
        }
      } catch (error) {
        notify(describeError(error), 'error');
      }
    },
    cancelLogPrompt() {
      patch({ prompt: null });
    },
    clearLogFilters() {
      const { since, target } = get().logs;
      applyFilter({ priority: null, include: '', exclude: '', search: '' });
      // The time window too: following again from the usual history.
      if (since !== null && target) actions.openLogs(target, null);
      else if (since !== null) patch({ since: null });
    },
    nextMatch(step, viewHeight) {
      const { logs } = get();
      if (!logs.search) return;
      const text = logs.search;
      const from = logs.match >= 0 ? logs.match : step < 0 ? logs.length : -1;
      // In the background: a newer n/N, search or filter supersedes it (null).
      void session.find(searchPattern(text), from, step).then((found) => {
        if (found === null || get().logs.search !== text) return;
        if (found < 0) {
          notify(`no line matches /${text}/`, 'warn');
          patch({ match: -1 });
          return;
        }
        const top = Math.max(0, found - Math.floor(viewHeight / 2));
        patch({ match: found, follow: false, top });
      });
    },
    toggleLogTime() {
      patch({ timeMode: get().logs.timeMode === 'absolute' ? 'relative' : 'absolute' });
    },
    toggleLogWrap() {
      patch({ wrap: !get().logs.wrap });
    },
    openLogPager() {
      const lines: string[] = [];
      for (let i = 0; i < session.length; i++) {
        const e = session.at(i)!;
        lines.push(`${new Date(e.timeUs / 1000).toISOString()} ${e.unit} ${e.priority ?? '-'} ${e.message}`);
      }
      patch({ pager: lines.join('\n') + '\n' });
    },
    pagerDone() {
      patch({ pager: null });
    },
  };
  return {
    state: { logs: initialLogsState, logSession: session },
    actions,
    stopFollowing() {
      if (get().pane !== 'logs' || !session.following) return false;
      void actions.closeLogs();
      notify('stopped following the journal (Tab away and back, or G, to follow again)', 'info');
      return true;
    },
  };
}

/** What the follower says, as a line the operator can read. */
function describeFollowEvent(event: FollowEvent): LogsState['lastEvent'] {
  switch (event.type) {
    case 'reconnecting':
      return { text: `journal connection lost (${event.reason}); reconnecting in ${(event.delayMs / 1000).toFixed(1)} s`, level: 'warn', at: event.at };
    case 'resumed':
      return { text: `reconnected after ${(event.afterMs / 1000).toFixed(1)} s; resumed after the last line received (nothing lost, nothing repeated)`, level: 'info', at: event.at };
    case 'suppressed':
      return { text: `journald dropped ${event.dropped} messages of ${event.unit} (rate limit): they are not in the journal`, level: 'warn', at: event.at };
    case 'oversized':
      return { text: `${event.count} entries too large to show were skipped`, level: 'warn', at: event.at };
    case 'ended':
      return event.reason === 'failed' ? { text: `following stopped: ${event.error ? describeError(event.error) : 'journalctl failed'}`, level: 'error', at: event.at } : null;
    default:
      return null;
  }
}
