// Units (the environments', or every service on their hosts with `a`) with state, PID, memory,
// uptime and restarts; below them every listening port with its PID, command and owning unit.
// One cursor runs through both lists.
import { Box, Text } from 'ink';
import { useShallow } from 'zustand/react/shallow';
import { processRows, uptimeSec, type ProcessRow } from '../../src/store/selectors.js';
import { useApp } from '../StoreContext.js';
import { MARK, useTheme, type Theme } from '../theme.js';
import { Table, type Column } from '../widgets/Table.js';
import { formatAge, formatBytes } from '../../src/core/text/humanize.js';

type UnitRow = Extract<ProcessRow, { kind: 'unit' }>;
type PortRow = Extract<ProcessRow, { kind: 'port' }>;

function unitColumns(theme: Theme, width: number, sort: string, descending: boolean): Column<UnitRow>[] {
  const mark = (name: string, title: string) => (sort === name ? `${title}${descending ? '↓' : '↑'}` : title);
  return [
    { title: mark('name', 'UNIT'), width: Math.max(20, width - 2 - 8 - 24 - 7 - 7 - 7 - 8 - 16 - 8), cell: (r) => r.unit.name },
    { title: 'HOST', width: 8, cell: (r) => r.host },
    { title: mark('state', 'STATE'), width: 24, cell: (r) => `${r.unit.crashLooping ? `${MARK.critical} ` : ''}${r.unit.activeState}/${r.unit.subState}`, color: (r) => (r.unit.crashLooping || r.unit.activeState === 'failed' ? theme.error : r.unit.activeState === 'active' ? theme.ok : undefined) },
    { title: mark('pid', 'PID'), width: 7, cell: (r) => String(r.unit.mainPid ?? '-') },
    { title: mark('memory', 'MEM'), width: 7, cell: (r) => formatBytes(r.unit.memoryBytes) },
    { title: mark('uptime', 'UPTIME'), width: 7, cell: (r) => (uptimeSec(r.unit) < 0 ? '-' : formatAge(uptimeSec(r.unit))) },
    { title: mark('restarts', 'RESTARTS'), width: 8, cell: (r) => String(r.unit.nRestarts), color: (r) => (r.unit.nRestarts > 0 ? theme.error : undefined) },
    { title: 'ENV', width: 16, cell: (r) => (r.environment ? `${r.environment}${r.protected ? ' PROD' : ''}` : '-'), color: (r) => (r.protected ? theme.prod : undefined) },
  ];
}

function portColumns(theme: Theme, width: number): Column<PortRow>[] {
  return [
    { title: 'PORT', width: 22, cell: (r) => `${r.listener.address}:${r.listener.port}` },
    { title: 'HOST', width: 10, cell: (r) => r.host },
    { title: 'PID', width: 8, cell: (r) => String(r.listener.pid ?? '-') },
    { title: 'UNIT', width: 30, cell: (r) => r.listener.unit ?? (r.listener.pid ? `${MARK.unmanaged} no unit (started by hand?)` : '-'), color: (r) => (r.listener.unit === null && r.listener.pid ? theme.error : undefined) },
    { title: 'COMMAND', width: Math.max(10, width - 2 - 22 - 10 - 8 - 30 - 5), cell: (r) => r.listener.command || r.listener.process || '-' },
  ];
}

export function ProcessesPane({ width, height }: { width: number; height: number }) {
  const theme = useTheme();
  const input = useApp(useShallow((s) => ({ status: s.status, allUnits: s.allUnits, processes: s.processes, filter: s.filter })));
  const rows = processRows(input);
  const cursor = useApp((s) => s.cursor.processes);
  const { showAll, sort, descending } = useApp(useShallow((s) => s.processes));
  const units = rows.filter((r): r is UnitRow => r.kind === 'unit');
  const ports = rows.filter((r): r is PortRow => r.kind === 'port');
  const available = height - 2;
  const portsHeight = Math.min(Math.max(2, ports.length + 1), Math.max(3, Math.floor(available / 3)));
  const unitsHeight = Math.max(2, available - portsHeight);
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text color={theme.muted} wrap="truncate-end">
        {`${showAll ? 'every service on the hosts' : 'the environments\' units'} (a: ${showAll ? 'only the environments\'' : 'all services'}) · sort ${sort}${descending ? ' desc' : ''} (< > I)`}
      </Text>
      <Table columns={unitColumns(theme, width, sort, descending)} rows={units} cursor={cursor < units.length ? cursor : -1} height={unitsHeight} width={width} rowKey={(r) => r.key} empty={showAll ? 'loading every service…' : 'no units'} />
      <Text color={theme.muted}>listening ports</Text>
      <Table columns={portColumns(theme, width)} rows={ports} cursor={cursor >= units.length ? cursor - units.length : -1} height={portsHeight} width={width} rowKey={(r) => r.key} empty="no listening ports" />
    </Box>
  );
}
