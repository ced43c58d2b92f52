// A fixed-height table with a cursor: header, a window of rows that keeps the cursor in view,
// and a scroll hint. Cells are pre-fitted text, so a row is one <Text> line (cheap to render).
import { Box, Text } from 'ink';
import { useTheme, MARK } from '../theme.js';
import { fit } from './fit.js';

export interface Column<Row> {
  title: string;
  width: number;
  cell: (row: Row) => string;
  color?: (row: Row) => string | undefined;
}

interface TableProps<Row> {
  columns: Column<Row>[];
  rows: readonly Row[];
  cursor: number;
  /** Total lines including the header. */
  height: number;
  width: number;
  empty?: string;
  rowKey: (row: Row) => string;
}

export function visibleWindow(length: number, cursor: number, size: number): [number, number] {
  if (length <= size) return [0, length];
  const start = Math.max(0, Math.min(cursor - Math.floor(size / 2), length - size));
  return [start, start + size];
}

export function Table<Row>({ columns, rows, cursor, height, width, empty, rowKey }: TableProps<Row>) {
  const theme = useTheme();
  const bodyHeight = Math.max(1, height - 1);
  const [start, end] = visibleWindow(rows.length, cursor, bodyHeight);
  const header = '  ' + columns.map((c) => fit(c.title, c.width)).join(' ');
  return (
    <Box flexDirection="column" height={height} width={width}>
      <Box height={1} flexShrink={0}>
        <Text bold wrap="truncate-end">
          {fit(header, width)}
        </Text>
      </Box>
      {rows.length === 0 ? (
        <Text color={theme.muted} wrap="truncate-end">
          {empty ?? 'nothing to show'}
        </Text>
      ) : (
        rows.slice(start, end).map((row, i) => {
          const index = start + i;
          const selected = index === cursor;
          return (
            // One line box per row with the cells nested in one <Text>: nested text is not a
            // layout node, so a table costs a node per row, not one per cell. The fixed height
            // keeps a row from ever measuring taller and squeezing the header out.
            <Box key={rowKey(row)} height={1} flexShrink={0}>
              <Text inverse={selected && !theme.noColor} bold={selected} wrap="truncate-end">
                {columns.map((c, ci) => (
                  <Text key={ci} color={c.color?.(row)}>
                    {(ci === 0 ? (selected ? `${MARK.selected} ` : '  ') : '') + fit(c.cell(row), c.width) + (ci < columns.length - 1 ? ' ' : '')}
                  </Text>
                ))}
              </Text>
            </Box>
          );
        })
      )}
    </Box>
  );
}
