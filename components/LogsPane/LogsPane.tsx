// The selected environment's journal (or a unit picked in the processes pane), following:
// several units merged in time order, each line marked with its unit; priority by colour and
// by a mark; scroll up to pause (new lines are counted), G to follow again; search, filters,
// time window, wrap; errors and warnings since today with a rate sparkline; how far long
// work (re-filtering, searching, counting matches) got.
import { Box, Text } from 'ink';
import { useEffect, useMemo, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { isError, isWarning, priorityMark, priorityName } from '../../src/core/journal/filter.js';
import { compilePattern } from '../../src/core/text/pattern.js';
import { useApp } from '../StoreContext.js';
import { useTheme, type Theme } from '../theme.js';
import { cellWidth } from '../widgets/cells.js';
import { fit } from '../widgets/fit.js';
import { sparkline } from '../widgets/Sparkline.js';
import { formatTime, highlight, visibleEntries } from './viewport.js';

const HEADER_ROWS = 3;

function priorityColor(theme: Theme, priority: number | null): string | undefined {
  if (priority === null) return undefined;
  if (isError(priority)) return theme.error;
  if (isWarning(priority)) return theme.warn;
  if (priority === 5) return theme.accent;
  return priority === 7 ? theme.muted : undefined;
}

/** The time, re-read every second while `ticking` (for "waiting … (N s)"). */
function useNow(ticking: boolean): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    if (!ticking) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [ticking]);
  return now;
}

function shortUnit(unit: string): string {
  return unit.replace(/\.service$/, '');
}

export function LogsPane({ width, height }: { width: number; height: number }) {
  const theme = useTheme();
  const logs = useApp(useShallow((s) => s.logs));
  const session = useApp((s) => s.logSession);
  const search = useMemo(() => {
    try {
      return logs.search ? compilePattern(logs.search, 'search') : null;
    } catch {
      return null;
    }
  }, [logs.search]);
  const target = logs.target;
  const now = useNow(logs.waitingSince !== null);
  const multi = (target?.units.length ?? 0) > 1;
  const unitWidth = multi ? Math.min(22, Math.max(...(target?.units ?? ['']).map((u) => cellWidth(shortUnit(u))))) : 0;
  const timeWidth = 12;
  const messageWidth = Math.max(10, width - timeWidth - 3 - (multi ? unitWidth + 1 : 0) - 1);
  const bodyHeight = Math.max(1, height - HEADER_ROWS);
  // Re-read the session whenever a batch arrived (revision) or the view changed.
  const visible = useMemo(() => visibleEntries(session, logs, bodyHeight, messageWidth), [session, logs, bodyHeight, messageWidth]);

  if (!target) {
    return (
      <Box flexDirection="column" height={height}>
        <Text>Nothing followed yet.</Text>
        <Text color={theme.muted}>Select an environment with units (1), or a unit in the processes pane and press l.</Text>
      </Box>
    );
  }
  // Following is claimed only once journalctl answered; until then, how long the host has been silent.
  const waiting = logs.waitingSince !== null ? `waiting for host ${target.host} to answer (${Math.max(0, Math.floor((now - logs.waitingSince) / 1000))} s)` : '';
  const connection =
    logs.connection === 'live' ? (logs.follow ? '● following' : `⏸ PAUSED · ${logs.newWhilePaused} new line${logs.newWhilePaused === 1 ? '' : 's'} (G: follow)`)
      : logs.connection === 'connecting' ? `… ${waiting || 'connecting'}`
        : logs.connection === 'reconnecting' ? `⟳ RECONNECTING${waiting ? ` · ${waiting}` : ''}`
          : logs.connection === 'failed' ? '✗ FAILED (G: try again)'
            : logs.connection === 'stopped' ? '■ stopped (G: follow again)' : '';
  const counts = logs.counts;
  const spark = counts ? sparkline(counts.buckets.map((b) => b.errors + b.warnings), { width: 24, blankZero: true }) : '';
  const filters = [
    logs.priority ? `${priorityName(logs.priority.max)} and worse` : '',
    logs.include ? `+/${logs.include}/` : '',
    logs.exclude ? `-/${logs.exclude}/` : '',
    logs.since ? `since ${logs.since}` : '',
  ].filter(Boolean);
  const work = logs.work ? `${logs.work.task === 'filter' ? 'filtering' : logs.work.task === 'search' ? 'searching' : 'counting matches'}… ${logs.work.percent}%` : '';
  const matches = logs.matchCount === null ? 'counting…' : `${logs.matchCount} line${logs.matchCount === 1 ? '' : 's'}`;
  const line2 = [
    work,
    counts ? `today: ${counts.errors} error${counts.errors === 1 ? '' : 's'}, ${counts.warnings} warning${counts.warnings === 1 ? '' : 's'} ${spark}` : logs.countsError ? `counts: ${logs.countsError}` : 'today: counting…',
    filters.length ? `filter ${filters.join(' ')}` : '',
    logs.search ? `search /${logs.search}/: ${matches}${logs.match >= 0 ? `, at line ${logs.match + 1}` : ''} (n N)` : '',
    logs.suppressed ? `✗ journald dropped ${logs.suppressed}` : '',
    `${logs.length} lines`,
  ].filter(Boolean).join(' · ');
  const prompt = logs.prompt;
  const third = prompt
    ? { text: `${prompt.kind === 'search' ? 'search' : prompt.kind === 'include' ? 'keep lines matching' : prompt.kind === 'exclude' ? 'hide lines matching' : 'since (e.g. "1 hour ago", "today", 2026-11-24 08:00)'}: ${prompt.text}▏ Enter: apply · Esc: cancel`, color: theme.accent }
    : logs.lastEvent && Date.now() - logs.lastEvent.at < 30_000
      ? { text: logs.lastEvent.text, color: logs.lastEvent.level === 'error' ? theme.error : logs.lastEvent.level === 'warn' ? theme.warn : theme.ok }
      : { text: ' ', color: undefined };

  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate-end">
        <Text bold>{`${target.label}: `}</Text>
        {/* The state first: a long list of units must not push it out of sight. */}
        <Text bold color={logs.connection === 'live' && logs.follow ? theme.ok : theme.warn}>{connection}</Text>
        <Text color={theme.muted}>{` · ${target.units.join(' ')} on ${target.host}`}</Text>
      </Text>
      <Text wrap="truncate-end" color={logs.work ? theme.warn : counts && counts.errors > 0 ? theme.error : theme.muted}>{line2}</Text>
      <Text wrap="truncate-end" color={third.color}>{third.text}</Text>
      {visible.length === 0 ? (
        <Text color={theme.muted}>{logs.connection === 'connecting' ? (logs.waitingSince !== null ? `waiting for host ${target.host} to answer…` : 'reading the journal…') : logs.work?.task === 'filter' ? 'filtering…' : `no entries${filters.length ? ' pass the filter' : ' for these units yet'}`}</Text>
      ) : (
        visible.flatMap(({ index, entry, rows }) =>
          rows.map((row, r) => (
            <Box key={`${index}:${r}`} width={width}>
              <Text color={theme.muted}>{r === 0 ? `${index === logs.match ? '▶' : ' '}${formatTime(entry.timeUs, logs.timeMode)} ` : ' '.repeat(timeWidth + 2)}</Text>
              <Text color={priorityColor(theme, entry.priority)} bold={isError(entry.priority)}>{r === 0 ? `${priorityMark(entry.priority)} ` : '  '}</Text>
              {multi ? <Text color={theme.accent}>{r === 0 ? `${fit(shortUnit(entry.unit), unitWidth)} ` : ' '.repeat(unitWidth + 1)}</Text> : null}
              <Text wrap="truncate-end" color={priorityColor(theme, entry.priority)}>
                {highlight(row, search).map((part, i) =>
                  part.match ? (
                    <Text key={i} inverse={!theme.noColor} bold>{theme.noColor ? `»${part.text}«` : part.text}</Text>
                  ) : (
                    part.text
                  ),
                )}
              </Text>
            </Box>
          )),
        )
      )}
    </Box>
  );
}
