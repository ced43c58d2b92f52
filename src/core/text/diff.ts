// Unified diffs of two texts (a file before and after a step), as `diff -u` prints them, for
// previews. Line-based, longest common subsequence; files past a few thousand lines are shown
// as replaced whole rather than compared (previews are of config files, not data).
const CONTEXT = 3;
const MAX_CELLS = 4_000_000;

type Op = { kind: ' ' | '-' | '+'; line: string };

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

function editScript(a: string[], b: string[]): Op[] {
  // Common head and tail first: most edits touch a few lines of a file.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const head = a.slice(0, start).map((line): Op => ({ kind: ' ', line }));
  const tail = a.slice(endA).map((line): Op => ({ kind: ' ', line }));
  const x = a.slice(start, endA);
  const y = b.slice(start, endB);
  const middle: Op[] = [];
  if ((x.length + 1) * (y.length + 1) > MAX_CELLS) {
    middle.push(...x.map((line): Op => ({ kind: '-', line })), ...y.map((line): Op => ({ kind: '+', line })));
  } else {
    // lcs[i][j]: length of the longest common subsequence of x[i..] and y[j..].
    const lcs = Array.from({ length: x.length + 1 }, () => new Uint32Array(y.length + 1));
    for (let i = x.length - 1; i >= 0; i--) for (let j = y.length - 1; j >= 0; j--) lcs[i]![j] = x[i] === y[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    let i = 0;
    let j = 0;
    while (i < x.length || j < y.length) {
      if (i < x.length && j < y.length && x[i] === y[j]) {
        middle.push({ kind: ' ', line: x[i]! });
        i++;
        j++;
      } else if (i < x.length && (j >= y.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) middle.push({ kind: '-', line: x[i++]! });
      else middle.push({ kind: '+', line: y[j++]! });
    }
  }
  return [...head, ...middle, ...tail];
}

/**
 * `diff -u` of `before` and `after` (null: the file does not exist), labelled with `file`;
 * empty when they are the same.
 */
export function unifiedDiff(file: string, before: string | null, after: string | null): string {
  if (before === after) return '';
  const ops = editScript(splitLines(before ?? ''), splitLines(after ?? ''));
  const out = [`--- ${before === null ? '/dev/null' : `a${file}`}`, `+++ ${after === null ? '/dev/null' : `b${file}`}`];
  // Hunks: runs of changes with up to CONTEXT unchanged lines around them.
  const changed = ops.map((op, i) => (op.kind !== ' ' ? i : -1)).filter((i) => i >= 0);
  let k = 0;
  while (k < changed.length) {
    const from = Math.max(0, changed[k]! - CONTEXT);
    let to = Math.min(ops.length, changed[k]! + CONTEXT + 1);
    while (k + 1 < changed.length && changed[k + 1]! - CONTEXT <= to) {
      k++;
      to = Math.min(ops.length, changed[k]! + CONTEXT + 1);
    }
    k++;
    const before = ops.slice(0, from).filter((o) => o.kind !== '+').length;
    const after = ops.slice(0, from).filter((o) => o.kind !== '-').length;
    const hunk = ops.slice(from, to);
    const oldCount = hunk.filter((o) => o.kind !== '+').length;
    const newCount = hunk.filter((o) => o.kind !== '-').length;
    const range = (at: number, count: number) => (count === 1 ? `${at + 1}` : `${count === 0 ? at : at + 1},${count}`);
    out.push(`@@ -${range(before, oldCount)} +${range(after, newCount)} @@`);
    for (const op of hunk) out.push(`${op.kind}${op.line}`);
  }
  return out.join('\n') + '\n';
}
