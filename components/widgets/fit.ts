// Fixed-width cells: truncate with an ellipsis and pad, by display width (wide glyphs count 2).
import cliTruncate from 'cli-truncate';
import stringWidth from 'string-width';

export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  const cut = stringWidth(text) > width ? cliTruncate(text, width) : text;
  return cut + ' '.repeat(Math.max(0, width - stringWidth(cut)));
}

