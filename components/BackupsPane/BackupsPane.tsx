// The archives in the selected environment's backups dir, newest first.
import { Box, Text } from 'ink';
import { useShallow } from 'zustand/react/shallow';
import type { Archive } from '../../src/core/backups/listing.js';
import { backupRows, environmentStatus } from '../../src/store/selectors.js';
import { useApp } from '../StoreContext.js';
import { MARK, useTheme } from '../theme.js';
import { Table, type Column } from '../widgets/Table.js';
import { formatAge, formatBytes } from '../../src/core/text/humanize.js';

export function BackupsPane({ width, height }: { width: number; height: number }) {
  const theme = useTheme();
  const name = useApp((s) => s.selectedEnv);
  const config = useApp((s) => (s.selectedEnv ? s.config.environments[s.selectedEnv] : undefined));
  const listing = useApp((s) => environmentStatus(s, s.selectedEnv)?.backups ?? null);
  const rows = useApp(useShallow(backupRows));
  const cursor = useApp((s) => s.cursor.backups);
  const columns: Column<Archive>[] = [
    { title: 'ARCHIVE', width: Math.max(20, width - 2 - 10 - 10 - 26 - 3), cell: (a) => a.name },
    { title: 'AGE', width: 10, cell: (a) => formatAge((Date.now() - Date.parse(a.modifiedAt)) / 1000) },
    { title: 'SIZE', width: 10, cell: (a) => formatBytes(a.sizeBytes) },
    { title: 'WRITTEN', width: 26, cell: (a) => a.modifiedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC') },
  ];
  if (!config) return <Text>Select an environment first (1).</Text>;
  if (!config.backups) {
    return (
      <Box flexDirection="column">
        <Text>{`${name} has no backups configured.`}</Text>
        <Text color={theme.muted}>Add backups: {'{'} dir: /path/to/archives, source: /path/to/data {'}'} to it in the config.</Text>
      </Box>
    );
  }
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate-end">{`${name}: ${rows.length} archives in ${config.backups.dir}${config.backups.source ? ` · should contain ${config.backups.source}` : ''}`}</Text>
      {listing?.error ? <Text color={theme.warn}>{`${MARK.warning} ${listing.error}`}</Text> : null}
      <Table columns={columns} rows={rows} cursor={cursor} height={height - 2 - (listing?.error ? 1 : 0)} width={width} rowKey={(a) => a.path} empty="no archives yet" />
    </Box>
  );
}
