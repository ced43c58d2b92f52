// Environments at a glance: unit state, restarts and their rate (a crash loop must be
// impossible to miss), health, the alarms (the doctor's findings above info, as the last
// refresh found them), ports and who holds them, last backup; details below.
import { Box, Text } from 'ink';
import type { EnvironmentStatus } from '../../src/core/status/collect.js';
import { environmentAlarms, environmentNames, restartRate, type Alarms } from '../../src/store/selectors.js';
import { useApp } from '../StoreContext.js';
import { MARK, useTheme, type Theme } from '../theme.js';
import { Table, type Column } from '../widgets/Table.js';
import { formatAge } from '../../src/core/text/humanize.js';
import { EnvironmentDetail } from './EnvironmentDetail.js';
import { useShallow } from 'zustand/react/shallow';

interface Row {
  name: string;
  protected: boolean;
  env: EnvironmentStatus | undefined;
  rate: number | null;
  alarms: Alarms | null;
}

export function unitStateText(env: EnvironmentStatus | undefined): string {
  if (!env) return 'loading…';
  if (env.problems.some((p) => p.code === 'host-unreachable')) return `${MARK.critical} host unreachable`;
  const unit = env.unit;
  if (!unit) return '-';
  return unit.crashLooping ? `${MARK.critical} CRASH-LOOP ${unit.subState}` : `${unit.activeState}/${unit.subState}`;
}

export function restartsText(env: EnvironmentStatus | undefined, rate: number | null): string {
  const n = env?.unit?.nRestarts;
  if (n === undefined) return '-';
  return rate !== null && rate > 0 ? `${n} ↑${rate >= 10 ? Math.round(rate) : rate.toFixed(1)}/min` : String(n);
}

export function healthText(env: EnvironmentStatus | undefined): string {
  const h = env?.health;
  if (!h) return '-';
  if (h.httpStatus === null) return `${MARK.critical} ${h.failures[0] ?? 'down'}`;
  return `${h.ok ? MARK.ok : MARK.critical} ${h.httpStatus} ${h.latencyMs ?? '?'}ms`;
}

export function portsText(env: EnvironmentStatus | undefined): string {
  if (!env || env.listeners.length === 0) return '-';
  return env.listeners.map((l) => (l.unit ? `${l.port} ${MARK.ok}` : l.pid === null ? `${l.port} owner hidden` : `${l.port} ${MARK.unmanaged} PID ${l.pid} no unit`)).join(', ');
}

export function backupText(env: EnvironmentStatus | undefined): string {
  const b = env?.backups;
  if (!b) return '-';
  if (b.error) return `${MARK.warning} error`;
  if (!b.newest) return `${MARK.warning} none`;
  const stale = env.problems.some((p) => p.code === 'backup-stale');
  return `${stale ? `${MARK.warning} ` : ''}${formatAge(b.newestAgeSec)}`;
}

/** The doctor's findings above info on the last refresh: "✗ 3" (some critical), "! 1" (warnings only), "✓" (none). */
function alarmsText(alarms: Alarms | null): string {
  if (!alarms) return '-';
  const total = alarms.critical + alarms.warning;
  return total === 0 ? MARK.ok : `${alarms.critical > 0 ? MARK.critical : MARK.warning} ${total}`;
}

function alarmsColour(theme: Theme, alarms: Alarms | null): string | undefined {
  if (!alarms) return undefined;
  return alarms.critical > 0 ? theme.error : alarms.warning > 0 ? theme.warn : theme.ok;
}

function columns(theme: Theme, width: number): Column<Row>[] {
  const all: Array<Column<Row> & { optional?: number }> = [
    { title: 'ENVIRONMENT', width: 16, cell: (r) => (r.protected ? `${r.name} PROD` : r.name), color: (r) => (r.protected ? theme.prod : undefined) },
    { title: 'STATE', width: 26, cell: (r) => unitStateText(r.env), color: (r) => (r.env?.unit?.crashLooping || r.env?.problems.some((p) => p.code === 'host-unreachable') ? theme.error : r.env?.unit?.activeState === 'active' ? theme.ok : theme.warn) },
    { title: 'RESTARTS', width: 12, cell: (r) => restartsText(r.env, r.rate), color: (r) => ((r.env?.unit?.nRestarts ?? 0) > 0 ? theme.error : undefined) },
    { title: 'HEALTH', width: 13, cell: (r) => healthText(r.env), color: (r) => (r.env?.health ? (r.env.health.ok ? theme.ok : theme.error) : undefined) },
    { title: 'ALARMS', width: 6, optional: 3, cell: (r) => alarmsText(r.alarms), color: (r) => alarmsColour(theme, r.alarms) },
    { title: 'VERSION', width: 8, optional: 2, cell: (r) => r.env?.health?.version ?? '-' },
    { title: 'PORTS', width: 0, cell: (r) => portsText(r.env), color: (r) => (r.env?.listeners.some((l) => l.unit === null && l.pid !== null) ? theme.error : undefined) },
    { title: 'BACKUP', width: 9, optional: 1, cell: (r) => backupText(r.env), color: (r) => (r.env?.problems.some((p) => p.code.startsWith('backup')) ? theme.warn : undefined) },
  ];
  // PORTS takes the rest; on a narrow terminal the optional columns go first (BACKUP, then
  // VERSION, then ALARMS: the details below the table list the alarms of the selected one).
  const PORTS_MIN = 22;
  let shown = all;
  const room = (cols: typeof all) => width - 2 - cols.reduce((sum, c) => sum + c.width + 1, 0);
  for (const rank of [1, 2, 3]) if (room(shown) < PORTS_MIN) shown = shown.filter((c) => c.optional !== rank);
  return shown.map((c) => (c.title === 'PORTS' ? { ...c, width: Math.max(10, room(shown)) } : c));
}

export function EnvironmentsPane({ width, height }: { width: number; height: number }) {
  const theme = useTheme();
  const names = useApp(useShallow(environmentNames));
  const cursor = useApp((s) => s.cursor.environments);
  const status = useApp((s) => s.status);
  const history = useApp((s) => s.history);
  const config = useApp((s) => s.config);
  const selected = useApp((s) => s.selectedEnv);
  const rows: Row[] = names.map((name) => ({ name, protected: config.environments[name]!.protected, env: status?.environments.find((e) => e.name === name), rate: restartRate(history[name]), alarms: environmentAlarms({ status }, name) }));
  const tableHeight = Math.min(height - 6, Math.max(2, rows.length + 1));
  if (names.length === 0) {
    return (
      <Box flexDirection="column" height={height}>
        <Text>No environments configured.</Text>
        <Text color={theme.muted}>Define them in opsdeck.yaml (see the README), or try the lab: opsdeck lab up --open</Text>
        <Text color={theme.muted}>The processes pane (2) shows every unit and listening port on this host.</Text>
      </Box>
    );
  }
  return (
    <Box flexDirection="column" height={height} width={width}>
      <Table columns={columns(theme, width)} rows={rows} cursor={cursor} height={tableHeight} width={width} rowKey={(r) => r.name} />
      <EnvironmentDetail name={selected} width={width} height={height - tableHeight} />
    </Box>
  );
}
