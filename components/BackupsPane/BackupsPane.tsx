// The backups pane, for the operator at 3 a.m.: the source-sanity verdict first (loud when the
// backups would not hold the live data), the archives at a glance (count, total, a size
// sparkline), the schedule, what runs now (a verify's progress, a backup operation's) or the
// last verify's outcome, unfinished partials, then the archives: verified mark, age, size,
// files, when verified, the alarm or "not made by opsdeck". Enter opens the details (every piece
// of evidence and where it came from; the selected archive's manifest and verify checks) in
// the lower part of the pane. Every line is one row, cut to the width: the pane never grows
// past its height. The text is made in backup-lines.ts.
import { Box, Text } from 'ink';
import { useShallow } from 'zustand/react/shallow';
import type { CatalogEntry } from '../../src/core/backups/catalog.js';
import type { SourceSanity } from '../../src/core/backups/sanity.js';
import { backupRows, backupSanity, environmentStatus } from '../../src/store/selectors.js';
import { useApp } from '../StoreContext.js';
import { useTheme, type Theme } from '../theme.js';
import { Table, type Column } from '../widgets/Table.js';
import { cellWidth } from '../widgets/cells.js';
import { formatAge, formatBytes, secondsSince } from '../../src/core/text/humanize.js';
import { archiveDetail, filesOf, jobLine, noteOf, partialLine, sanityDetail, sanityLine, scheduleLine, summaryText, verifiedAge, verifiedMark, type Line } from './backup-lines.js';
import { colourOf, Lines, Row } from '../widgets/Lines.js';
import { scrolled } from '../widgets/text-lines.js';
import { useScrollBack } from '../widgets/use-scroll-back.js';

const MAX_PARTIALS = 2;

/**
 * The details under the table: side by side on a wide terminal (the evidence left, the archive
 * right), else one above the other, what matters more first (the evidence when the verdict is
 * not ok). PgUp/PgDn scroll them; each column stops at its own end.
 */
function Details({ sanity, entry, width, height, scroll, now }: { sanity: SourceSanity | null; entry: CatalogEntry | null; width: number; height: number; scroll: number; now: number }) {
  const scrollBy = useApp((s) => s.actions.scrollBackupDetails);
  const wide = width >= 110;
  const left = wide ? Math.floor((width - 2) * 0.6) : width;
  const right = width - 3 - left;
  const columns = wide ? [sanityDetail(sanity, left, now), archiveDetail(entry, right, now)] : [sanity && sanity.verdict !== 'ok' ? [...sanityDetail(sanity, width, now), ...archiveDetail(entry, width, now)] : [...archiveDetail(entry, width, now), ...sanityDetail(sanity, width, now)]];
  useScrollBack(scroll, Math.max(0, ...columns.map((lines) => lines.length - height)), scrollBy);
  if (height <= 0) return null;
  if (!wide) return <Lines lines={scrolled(columns[0]!, height, scroll)} width={width} height={height} />;
  return (
    <Box height={height} width={width}>
      <Lines lines={scrolled(columns[0]!, height, scroll)} width={left} height={height} />
      <Box width={2} />
      <Lines lines={scrolled(columns[1]!, height, scroll)} width={right} height={height} />
    </Box>
  );
}

function archiveColumns(theme: Theme, width: number, now: number, longest: number): Column<CatalogEntry>[] {
  // Fixed columns, then the name (whole if it can be: it is what a restore names) and the note share what is left.
  const fixed = 2 + 2 + 8 + 7 + 8 + 10 + 1;
  const name = Math.max(16, Math.min(longest, 48, width - fixed - 10));
  const note = Math.max(8, width - fixed - name);
  return [
    { title: '', width: 1, cell: (e) => verifiedMark(e).mark, color: (e) => colourOf(theme, verifiedMark(e).tone) },
    { title: 'ARCHIVE', width: name, cell: (e) => e.name },
    { title: 'AGE', width: 7, cell: (e) => formatAge(Math.max(0, secondsSince(e.madeAt, now))) },
    { title: 'SIZE', width: 6, cell: (e) => formatBytes(e.sizeBytes) },
    { title: 'FILES', width: 7, cell: filesOf },
    { title: 'VERIFIED', width: 9, cell: (e) => verifiedAge(e, now) },
    { title: 'NOTE', width: note, cell: (e) => noteOf(e).text, color: (e) => colourOf(theme, noteOf(e).tone) },
  ];
}

export function BackupsPane({ width, height }: { width: number; height: number }) {
  const theme = useTheme();
  const name = useApp((s) => s.selectedEnv);
  const config = useApp((s) => (s.selectedEnv ? s.config.environments[s.selectedEnv] : undefined));
  const known = useApp((s) => (s.selectedEnv ? s.backups.byEnv[s.selectedEnv] : undefined));
  // Until the overview is read, the status's listing says how many there are.
  const listed = useApp((s) => environmentStatus(s, s.selectedEnv)?.backups?.archives.length ?? null);
  const sanity = useApp((s) => backupSanity(s, s.selectedEnv));
  const rows = useApp(useShallow(backupRows));
  const cursor = useApp((s) => s.cursor.backups);
  const details = useApp((s) => s.backups.details);
  const scroll = useApp((s) => s.backups.detailsScroll);
  const job = useApp((s) => s.backups.job);
  const lastVerify = useApp((s) => s.backups.lastVerify);
  const operation = useApp((s) => (s.operation && !s.operation.result && s.operation.op.kind.startsWith('backup.') ? s.operation : null));

  if (!config || !name) return <Text>Select an environment first (1).</Text>;
  if (!config.backups) {
    return (
      <Box flexDirection="column">
        <Text>{`${name} has no backups configured.`}</Text>
        <Text color={theme.muted}>Add backups: {'{'} dir: /path/to/archives {'}'} to it in the config (the source is its dataDir unless backups.source says otherwise).</Text>
      </Box>
    );
  }

  const now = Date.now();
  const overview = known?.overview ?? null;
  const catalog = overview?.catalog ?? null;
  const top: Line[] = [sanityLine(sanity, known?.reading ?? true)];
  const entries = catalog?.entries ?? [];
  top.push({ text: catalog ? summaryText(name, catalog.dir, entries, width) : `${name}: ${listed ?? '?'} archives in ${config.backups.dir} · reading them…`, tone: 'plain' });
  top.push(scheduleLine(overview?.schedule ?? null, overview?.policy ?? null, name, now));
  const running = jobLine(job, operation, lastVerify, name, width);
  if (running) top.push(running);
  if (known?.error) top.push({ text: `✗ ${overview ? `could not read again (showing what was read ${formatAge(Math.max(0, (now - (known.readAt ?? now)) / 1000))} ago): ` : 'cannot read the backups: '}${known.error}`, tone: 'error' });
  if (catalog?.error) top.push({ text: `! ${catalog.error}`, tone: 'warn' });
  const partials = catalog?.partials ?? [];
  top.push(...partials.slice(0, MAX_PARTIALS).map((p) => partialLine(p, now)));
  if (partials.length > MAX_PARTIALS) top.push({ text: `! and ${partials.length - MAX_PARTIALS} more unfinished archives`, tone: 'warn' });

  // Whatever the header takes, the table keeps at least its header and one row.
  const shownTop = top.slice(0, Math.max(1, height - 2));
  const rest = Math.max(2, height - shownTop.length);
  const selected = rows[Math.min(cursor, rows.length - 1)] ?? null;
  const tableHeight = details ? Math.max(2, Math.min(rows.length + 1, Math.floor(rest / 3))) : rest;
  const detailHeight = details ? Math.max(0, rest - tableHeight) : 0;
  const empty = !overview ? (known?.error ? 'no archives to show' : 'reading the archives…') : entries.length === 0 ? 'no archives yet: c makes one' : 'no archive matches the filter';
  return (
    <Box flexDirection="column" width={width} height={height}>
      {shownTop.map((line, i) => (
        <Row key={i} line={line} />
      ))}
      <Table columns={archiveColumns(theme, width, now, Math.max(0, ...rows.map((e) => cellWidth(e.name))))} rows={rows} cursor={Math.min(cursor, Math.max(0, rows.length - 1))} height={tableHeight} width={width} rowKey={(e) => e.path} empty={empty} />
      {details ? <Details sanity={sanity} entry={selected} width={width} height={detailHeight} scroll={scroll} now={now} /> : null}
    </Box>
  );
}
