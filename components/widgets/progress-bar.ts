// A progress bar as text: `width` cells, filled in proportion to done / total (the operation
// view's steps and the backups pane's create and verify draw the same one).
export function progressBar(done: number, total: number, width: number): string {
  const cells = Math.max(1, width);
  const filled = Math.round((Math.min(done, total) / Math.max(1, total)) * cells);
  return `${'█'.repeat(filled)}${'░'.repeat(cells - filled)}`;
}
