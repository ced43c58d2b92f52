// Fuzzy matching for the command palette: every query character in order, with a score that
// prefers matches at word starts and close together.
export function fuzzyScore(query: string, text: string): number | null {
  const q = query.toLowerCase();
  const t = text.toLowerCase();
  if (q === '') return 0;
  let score = 0;
  let last = -1;
  for (const ch of q) {
    const at = t.indexOf(ch, last + 1);
    if (at < 0) return null;
    const wordStart = at === 0 || /[\s:_./-]/.test(t[at - 1]!);
    score += (wordStart ? 10 : 1) - Math.min(5, at - last - 1);
    last = at;
  }
  if (t.startsWith(q)) score += 20;
  return score;
}

export function fuzzyFilter<T>(items: readonly T[], query: string, text: (item: T) => string): T[] {
  return items
    .map((item) => ({ item, score: fuzzyScore(query, text(item)) }))
    .filter((x): x is { item: T; score: number } => x.score !== null)
    .sort((a, b) => b.score - a.score)
    .map((x) => x.item);
}
