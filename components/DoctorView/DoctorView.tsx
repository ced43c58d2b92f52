// The doctor view, for the operator at 3 a.m.: the verdict first (how many findings above info,
// per environment, and when the doctor ran), what could not be gathered, then the findings,
// most severe first (mark and severity, environment, whether opsdeck has a fix, the title), and
// under them the selected finding's evidence: each fact with the command or file it came from,
// the journal lines quoted, its note and its fix (f proposes it: preview, then confirm). Enter
// gives the evidence the whole pane; PgUp/PgDn scroll it. Every line is one row, cut to the
// width: the view never grows past its height. The text is made in doctor-lines.ts.
import { Box } from 'ink';
import type { Finding } from '../../src/core/doctor/finding.js';
import { doctorRows } from '../../src/store/selectors.js';
import { useApp } from '../StoreContext.js';
import { useTheme, type Theme } from '../theme.js';
import { cellWidth } from '../widgets/cells.js';
import { useScrollBack } from '../widgets/use-scroll-back.js';
import { colourOf, Lines, Row } from '../widgets/Lines.js';
import { Table, type Column } from '../widgets/Table.js';
import { scrolled, wrapped, type Line } from '../widgets/text-lines.js';
import { findingDetail, headLines, LOOKS_AT, SEVERITY_TONE, severityText, whereText } from './doctor-lines.js';

function findingColumns(theme: Theme, width: number, longestWhere: number): Column<Finding>[] {
  const where = Math.max('ENVIRONMENT'.length, Math.min(longestWhere, 20));
  const title = Math.max(10, width - 2 - 10 - 1 - where - 1 - 3 - 1);
  const tone = (f: Finding) => colourOf(theme, SEVERITY_TONE[f.severity]);
  return [
    { title: 'SEVERITY', width: 10, cell: severityText, color: tone },
    { title: 'ENVIRONMENT', width: where, cell: whereText },
    { title: 'FIX', width: 3, cell: (f) => (f.fix ? 'fix' : '-'), color: (f) => (f.fix ? theme.ok : theme.muted) },
    { title: 'FINDING', width: title, cell: (f) => f.title, color: (f) => (f.severity === 'info' ? theme.muted : undefined) },
  ];
}

/** The evidence under the list, scrolled; PgDn past the end comes back to the end, so PgUp moves at once. */
function Evidence({ lines, width, height, scroll }: { lines: Line[]; width: number; height: number; scroll: number }) {
  const scrollBy = useApp((s) => s.actions.scrollDoctorDetails);
  useScrollBack(scroll, Math.max(0, lines.length - height), scrollBy);
  if (height <= 0) return null;
  return <Lines lines={scrolled(lines, height, scroll)} width={width} height={height} />;
}

export function DoctorView({ width, height }: { width: number; height: number }) {
  const theme = useTheme();
  const report = useApp((s) => s.doctor.report);
  const running = useApp((s) => s.doctor.running);
  const ranAt = useApp((s) => s.doctor.ranAt);
  const error = useApp((s) => s.doctor.error);
  const expanded = useApp((s) => s.doctor.expanded);
  const scroll = useApp((s) => s.doctor.scroll);
  const readonly = useApp((s) => s.readonly);
  const rows = useApp(doctorRows);
  const cursor = Math.min(useApp((s) => s.cursor.doctor), Math.max(0, rows.length - 1));
  const selected = rows[cursor] ?? null;

  // The head takes at most a quarter of the pane: the list keeps at least its header and one row, the evidence the rest.
  const shownHead = headLines(report, running, ranAt, error, Math.max(1, Math.floor(height / 4))).slice(0, Math.max(1, height - 2));
  const rest = Math.max(2, height - shownHead.length);
  if (!report) {
    return (
      <Box flexDirection="column" width={width} height={height}>
        {shownHead.map((line, i) => (
          <Row key={i} line={line} />
        ))}
      </Box>
    );
  }
  const detail = selected ? findingDetail(selected, width, { readonly }) : wrapped(LOOKS_AT, width, '', 'muted');
  // The evidence gets what the list leaves, the list at most a third of the pane (at least the selected row); Enter gives the evidence all but the selected row.
  const tableHeight = rows.length === 0 ? 2 : expanded ? 2 : Math.max(2, Math.min(rows.length + 1, Math.floor(rest / 3)));
  const detailHeight = Math.max(0, rest - tableHeight - 1);
  const longest = Math.max(0, ...rows.map((f) => cellWidth(whereText(f))));
  return (
    <Box flexDirection="column" width={width} height={height}>
      {shownHead.map((line, i) => (
        <Row key={i} line={line} />
      ))}
      <Table columns={findingColumns(theme, width, longest)} rows={rows} cursor={cursor} height={tableHeight} width={width} rowKey={(f) => f.id} empty="no findings at all: every environment looks well" />
      <Box height={1} />
      <Evidence lines={detail} width={width} height={detailHeight} scroll={scroll} />
    </Box>
  );
}
