// Semantic colour tokens, and a no-colour theme for NO_COLOR: meaning then rides on marks
// (✗ ! ✓ ▶ PROD) that every component prints whatever the theme.
import { createContext, useContext } from 'react';

export interface Theme {
  noColor: boolean;
  ok: string | undefined;
  warn: string | undefined;
  error: string | undefined;
  accent: string | undefined;
  muted: string | undefined;
  /** The production cue: frame border and badge. */
  prod: string | undefined;
  border: string | undefined;
}

export const colorTheme: Theme = { noColor: false, ok: 'green', warn: 'yellow', error: 'red', accent: 'cyan', muted: 'gray', prod: 'red', border: 'gray' };
export const noColorTheme: Theme = { noColor: true, ok: undefined, warn: undefined, error: undefined, accent: undefined, muted: undefined, prod: undefined, border: undefined };

export function themeFromEnv(env: NodeJS.ProcessEnv = process.env): Theme {
  return (env.NO_COLOR !== undefined && env.NO_COLOR !== '') || env.FORCE_COLOR === '0' ? noColorTheme : colorTheme;
}

export const ThemeContext = createContext<Theme>(colorTheme);
export const useTheme = () => useContext(ThemeContext);

export const MARK = { critical: '✗', warning: '!', ok: '✓', selected: '▶', unmanaged: '✗' } as const;
