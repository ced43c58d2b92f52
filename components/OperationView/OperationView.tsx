// The operation view: the plan's steps (pending / running / done / failed / undone), the running
// step's output with a progress bar or the health gate's last sample, the unit's journal beside
// it, why a step failed, and the result. Ctrl+C while it runs asks: stop here (resume later),
// roll back, or keep waiting.
import { Box, Text } from 'ink';
import { useApp } from '../StoreContext.js';
import { MARK, useTheme, type Theme } from '../theme.js';
import type { OperationView as View, StepState } from '../../src/store/types.js';
import { fit } from '../widgets/fit.js';
import { describeProgress } from '../../src/core/ops/progress.js';
import { progressBar } from '../widgets/progress-bar.js';

const MARKS: Record<StepState, string> = { pending: '·', running: '▸', done: '✓', failed: '✗', undoing: '↶', undone: '↶', 'undo-failed': '✗' };

function stateColour(theme: Theme, state: StepState): string | undefined {
  if (state === 'done') return theme.ok;
  if (state === 'failed' || state === 'undo-failed') return theme.error;
  if (state === 'running' || state === 'undoing') return theme.accent;
  return theme.muted;
}

function liveLine(view: View, width: number): string {
  if (view.progress) {
    const { done, total } = view.progress;
    const text = describeProgress(view.progress);
    return total ? `${progressBar(done, total, Math.max(10, width - text.length - 2))} ${text}` : text;
  }
  if (view.gate) {
    const s = view.gate.sample;
    return `health gate: ${s.ok ? `well (HTTP ${s.httpStatus ?? '-'}, ${s.activeState ?? '-'})` : s.failures.join('; ')} · sample ${view.gate.samples}`;
  }
  return '';
}

export function OperationView({ width, height }: { width: number; height: number }) {
  const theme = useTheme();
  const view = useApp((s) => s.operation);
  if (!view) return null;
  const { op, result } = view;
  const elapsed = Math.round(((result ? view.startedAt + result.durationMs : Date.now()) - view.startedAt) / 1000);
  const title = `${view.mode === 'run' ? '' : `${view.mode} of `}${op.title}`;
  const status = result ? (result.ok ? `${MARK.ok} ${result.status}` : `${MARK.critical} ${result.status}`) : `running ${elapsed} s`;
  const wide = width >= 110;
  const stepsHeight = Math.min(op.steps.length, Math.max(3, Math.floor(height / 3)));
  const paneHeight = Math.max(2, height - 5 - stepsHeight - (view.failure ? Math.min(6, 2 + view.failure.journal.length) : 0));
  const half = wide ? Math.floor((width - 1) / 2) : width;
  const live = liveLine(view, width);
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold wrap="truncate-end" color={op.protected ? theme.prod : undefined}>{`${op.protected ? '⚠ PRODUCTION · ' : ''}${title}`}</Text>
      <Text wrap="truncate-end" color={result ? (result.ok ? theme.ok : theme.error) : theme.accent}>{`${status} · operation ${op.id} · host ${op.host}${op.environment ? ` · ${op.environment}` : ''}`}</Text>
      <Box flexDirection="column" height={stepsHeight}>
        {op.steps.slice(0, stepsHeight).map((step, i) => {
          const s = view.steps[i]!;
          return (
            <Text key={i} wrap="truncate-end" color={stateColour(theme, s.state)} bold={i === view.current}>
              {`${MARKS[s.state]} ${i + 1}. ${fit(step.title, Math.max(10, width - 24))} ${s.durationMs !== null ? `${s.durationMs} ms` : s.state === 'running' ? '…' : ''}`}
            </Text>
          );
        })}
      </Box>
      <Text wrap="truncate-end" color={theme.accent}>{live || ' '}</Text>
      {view.failure ? (
        <Box flexDirection="column">
          <Text wrap="truncate-end" color={theme.error}>{`✗ step ${view.failure.step + 1}: ${view.failure.error}`}</Text>
          {view.failure.stderr ? <Text wrap="truncate-end" color={theme.error}>{`  ${view.failure.stderr.split('\n')[0]}`}</Text> : null}
          {view.failure.journal.slice(-4).map((line, i) => (
            <Text key={i} wrap="truncate-end" color={theme.muted}>{`  ${line}`}</Text>
          ))}
        </Box>
      ) : null}
      <Box flexDirection={wide ? 'row' : 'column'} height={paneHeight}>
        <Box flexDirection="column" width={half} height={wide ? paneHeight : Math.ceil(paneHeight / 2)}>
          <Text color={theme.muted} wrap="truncate-end">{'── output of the running step'}</Text>
          {view.output.slice(-Math.max(1, (wide ? paneHeight : Math.ceil(paneHeight / 2)) - 1)).map((line, i) => (
            <Text key={i} wrap="truncate-end">{line || ' '}</Text>
          ))}
        </Box>
        {wide ? <Box width={1} /> : null}
        <Box flexDirection="column" width={half} height={wide ? paneHeight : Math.floor(paneHeight / 2)}>
          <Text color={theme.muted} wrap="truncate-end">{`── the unit's journal`}</Text>
          {view.unitJournal.slice(-Math.max(1, (wide ? paneHeight : Math.floor(paneHeight / 2)) - 1)).map((line, i) => (
            <Text key={i} wrap="truncate-end" color={theme.muted}>{line || ' '}</Text>
          ))}
        </Box>
      </Box>
      {view.asking ? (
        <Text bold color={theme.warn} wrap="truncate-end">{'Ctrl+C: s: stop here (resume later) · r: roll back · k/Esc: keep waiting'}</Text>
      ) : result ? (
        <Text wrap="truncate-end" color={result.ok ? theme.ok : theme.error}>{`${result.ok ? MARK.ok : MARK.critical} ${result.summary}`}</Text>
      ) : (
        <Text color={theme.muted}>{'Ctrl+C: stop here, roll back, or keep waiting'}</Text>
      )}
    </Box>
  );
}
