// Header: hosts and their reachability, config path (or, instead, operations left open on a
// host), refresh time, clock, READ-ONLY, and the production cue (a word as well as a colour, so
// it shows without colour too).
import { Box, Text } from 'ink';
import { useEffect, useState } from 'react';
import stringWidth from 'string-width';
import { useShallow } from 'zustand/react/shallow';
import { stuckOperations } from '../src/store/selectors.js';
import { useApp, useAppStore } from './StoreContext.js';
import { MARK, useTheme } from './theme.js';
import { fit } from './widgets/fit.js';

/** HH:MM, re-rendered once a minute: a seconds clock would redraw the frame every second. */
function useClock(): string {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    let timer: NodeJS.Timeout;
    const schedule = () => {
      timer = setTimeout(() => {
        setNow(new Date());
        schedule();
      }, 60_000 - (Date.now() % 60_000) + 5);
    };
    schedule();
    return () => clearTimeout(timer);
  }, []);
  return now.toTimeString().slice(0, 5);
}

/** Seconds since the last successful refresh, once it is overdue (0 while fresh: no re-render). */
function useStaleSeconds(): number {
  const store = useAppStore();
  const [stale, setStale] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => {
      const { lastRefreshAt, config } = store.getState();
      const age = lastRefreshAt === null ? 0 : (Date.now() - lastRefreshAt) / 1000;
      setStale(age > config.refreshSeconds * 3 ? Math.round(age) : 0);
    }, 1000);
    return () => clearInterval(timer);
  }, [store]);
  return stale;
}

export function Header({ width }: { width: number }) {
  const theme = useTheme();
  const clock = useClock();
  const staleSec = useStaleSeconds();
  const hosts = useApp(useShallow((s) => (s.status?.hosts ?? []).map((h) => `${h.name}${h.reachable ? '' : ` ${MARK.critical}down`}`).join(' ')));
  const configFile = useApp((s) => s.configFile);
  const readonly = useApp((s) => s.readonly);
  const lastRefreshMs = useApp((s) => s.lastRefreshMs);
  const selected = useApp((s) => s.selectedEnv);
  const isProtected = useApp((s) => Boolean(s.selectedEnv && s.config.environments[s.selectedEnv]?.protected));
  const interval = useApp((s) => s.config.refreshSeconds);
  // Operations left open on a host are shown until they are resumed or rolled back.
  const open = useApp((s) => {
    const stuck = stuckOperations(s);
    if (stuck.length === 0) return '';
    const first = stuck[0]!;
    return `  ${MARK.warning} ${stuck.length} ${first.status.toUpperCase()} operation${stuck.length === 1 ? '' : 's'}: ${first.environment ?? first.host} ${first.title} (: ${first.status === 'rollback-interrupted' ? 'roll back' : 'resume / roll back'})`;
  });
  const slow = lastRefreshMs !== null && lastRefreshMs > interval * 1000;
  const right = `${staleSec > 0 ? `STALE: no refresh for ${staleSec}s` : lastRefreshMs === null ? 'loading…' : `refresh ${lastRefreshMs} ms`}${slow ? ' SLOW' : ''}  ${clock}`;
  // Only the hosts and config path give way on a narrow terminal: the production cue, READ-ONLY,
  // the refresh time and the clock keep their place on the one line.
  const badge = isProtected ? ` PRODUCTION: ${selected} ` : selected ? ` ${selected} ` : '';
  const fixedLeft = stringWidth(`opsdeck ${badge}${readonly ? ' READ-ONLY' : ''}`);
  const rightShown = fit(right, Math.min(stringWidth(right), Math.max(0, width - fixedLeft - 1)));
  const middleWidth = Math.max(0, width - fixedLeft - stringWidth(rightShown) - 1);
  return (
    <Box width={width}>
      <Text bold color={theme.accent}>opsdeck </Text>
      {isProtected ? (
        <Text bold inverse={!theme.noColor} color={theme.prod}>{badge}</Text>
      ) : (
        <Text bold>{badge}</Text>
      )}
      {readonly ? <Text bold color={theme.warn}> READ-ONLY</Text> : null}
      {open ? (
        <Text bold color={theme.error}>{fit(open, middleWidth)} </Text>
      ) : (
        <Text color={theme.muted}>{fit(`  hosts ${hosts || '…'} · ${configFile ?? 'no config'}`, middleWidth)} </Text>
      )}
      <Text bold={staleSec > 0} color={staleSec > 0 ? theme.error : slow ? theme.warn : theme.muted}>{rightShown}</Text>
    </Box>
  );
}
