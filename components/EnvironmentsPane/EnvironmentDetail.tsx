// The selected environment in detail: what systemd says, what the health check says, who
// holds its ports, its backups, sparklines of latency and restarts, and what is wrong: the
// alarms, the doctor's findings above info on the last refresh (status's problems).
import { Box, Text } from 'ink';
import { environmentStatus, restartRate } from '../../src/store/selectors.js';
import { useApp } from '../StoreContext.js';
import { MARK, useTheme } from '../theme.js';
import { plural } from '../../src/core/doctor/finding.js';
import { Sparkline } from '../widgets/Sparkline.js';
import { formatAge, formatBytes, secondsSince } from '../../src/core/text/humanize.js';

export function EnvironmentDetail({ name, width, height }: { name: string | null; width: number; height: number }) {
  const theme = useTheme();
  const env = useApp((s) => environmentStatus(s, name));
  const config = useApp((s) => (name ? s.config.environments[name] : undefined));
  const samples = useApp((s) => (name ? s.history[name] : undefined));
  if (!name || !config || height < 3) return null;
  const unit = env?.unit;
  const lines: Array<{ text: string; color?: string | undefined; bold?: boolean }> = [];
  const rate = restartRate(samples);
  lines.push({ text: `${name}${config.protected ? '  PROTECTED (production)' : ''}  ·  host ${env?.host ?? config.host}${config.description ? `  ·  ${config.description}` : ''}`, bold: true, color: config.protected ? theme.prod : undefined });
  if (unit) {
    const since = unit.activeSince ? ` since ${formatAge(secondsSince(unit.activeSince))}` : '';
    lines.push({
      text: `unit ${unit.name}: ${unit.activeState}/${unit.subState}${since} · result ${unit.result || '-'}${unit.execMainStatus ? ` (exit ${unit.execMainStatus})` : ''} · restarts ${unit.nRestarts}${rate ? ` (${rate.toFixed(1)}/min)` : ''} · PID ${unit.mainPid ?? '-'} · mem ${formatBytes(unit.memoryBytes)}`,
      color: unit.crashLooping ? theme.error : undefined,
    });
    if (unit.protectSystem || unit.readWritePaths.length > 0) {
      lines.push({ text: `  ProtectSystem=${unit.protectSystem || 'no'} · ReadWritePaths=${unit.readWritePaths.join(' ') || '-'} · WorkingDirectory=${unit.workingDirectory || '-'}`, color: theme.muted });
    }
  }
  const h = env?.health;
  if (h) lines.push({ text: `health ${h.ok ? MARK.ok : MARK.critical} ${h.url} → HTTP ${h.httpStatus ?? '-'} in ${h.latencyMs ?? '-'} ms · version ${h.version ?? '-'}${h.toolsCount !== null ? ` · ${h.toolsCount} tools` : ''}`, color: h.ok ? undefined : theme.error });
  for (const l of env?.listeners ?? []) {
    lines.push({ text: `port ${l.address}:${l.port} ← PID ${l.pid ?? '?'} ${l.command || l.process} · ${l.unit ? `unit ${l.unit}` : `${MARK.unmanaged} no unit manages it`}`, color: l.unit ? undefined : theme.error });
  }
  if (env?.backups) {
    const b = env.backups;
    lines.push({ text: b.error ? `backups ${MARK.warning} ${b.error}` : `backups ${b.archives.length} in ${b.dir} · newest ${b.newest ? `${b.newest.name} (${formatAge(b.newestAgeSec)} ago)` : 'none'}${config.backups?.source ? ` · should contain ${config.backups.source}` : ''}` });
  }
  const latency = (samples ?? []).map((s) => s.latencyMs);
  const restarts = (samples ?? []).map((s, i, all) => (i === 0 ? 0 : Math.max(0, s.restarts - all[i - 1]!.restarts)));
  const sparkWidth = Math.max(10, Math.min(60, Math.floor((width - 40) / 2)));
  const problems = env?.problems ?? [];
  const room = height - 2 - lines.length;
  return (
    <Box flexDirection="column" height={height} width={width} marginTop={1}>
      {lines.slice(0, height - 2).map((l, i) => (
        <Text key={i} color={l.color} bold={l.bold ?? false} wrap="truncate-end">
          {l.text}
        </Text>
      ))}
      {room > 0 && (
        <Box>
          <Text color={theme.muted}>latency </Text>
          <Sparkline values={latency} width={sparkWidth} color={theme.accent} />
          <Text color={theme.muted}>  restarts </Text>
          <Sparkline values={restarts} width={sparkWidth} color={theme.error} />
        </Box>
      )}
      {env && room > 1 ? (
        <Text color={problems.length === 0 ? theme.ok : problems[0]!.severity === 'critical' ? theme.error : theme.warn} bold={problems.length > 0} wrap="truncate-end">
          {problems.length === 0 ? `${MARK.ok} no alarms: the doctor's rules find nothing above info` : `${plural(problems.length, 'alarm')}, the doctor's findings above info · the doctor pane shows their causes, evidence and fixes`}
        </Text>
      ) : null}
      {problems.slice(0, Math.max(0, room - 2)).map((p, i) => (
        <Text key={`p${i}`} color={p.severity === 'critical' ? theme.error : theme.warn} wrap="truncate-end">
          {`${p.severity === 'critical' ? MARK.critical : MARK.warning} ${p.message}`}
        </Text>
      ))}
    </Box>
  );
}
