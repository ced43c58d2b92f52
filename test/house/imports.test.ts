// The house's rules, checked on the source: rooms import only downwards (core knows nothing of
// React, Ink, the store, the CLI or the config's loading code), and no module imports itself
// back through others, not even for a type.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(path.join(root, dir)).flatMap((name) => {
    const rel = path.join(dir, name);
    if (statSync(path.join(root, rel)).isDirectory()) return sources(rel);
    return /\.tsx?$/.test(name) ? [rel] : [];
  });
}

/** Relative imports; with `typesToo: false`, only those that exist at run time (not `import type`, not all-`type` braces). */
function imports(file: string, typesToo: boolean): string[] {
  const text = readFileSync(path.join(root, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s+['"]([^'"]+)['"]/gm)) {
    const braces = /^\{([^}]*)\}$/.exec(m[3]!.trim());
    const typeOnly = Boolean(m[2]) || Boolean(braces && braces[1]!.split(',').map((s) => s.trim()).filter(Boolean).every((s) => s.startsWith('type ')));
    if (typeOnly && !typesToo) continue;
    out.push(m[4]!);
  }
  for (const m of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) if (typesToo || !text.slice(Math.max(0, m.index! - 8), m.index).includes('typeof')) out.push(m[1]!);
  return out;
}

function resolve(from: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const base = path.normalize(path.join(path.dirname(from), spec)).replace(/\.js$/, '');
  for (const ext of ['.ts', '.tsx']) if (files.includes(base + ext)) return base + ext;
  return null;
}

const files = [...sources('src'), ...sources('components')];
const edges = (typesToo: boolean) => new Map(files.map((f) => [f, imports(f, typesToo).map((s) => resolve(f, s)).filter((t): t is string => t !== null)]));
const graph = edges(true);
const runtime = edges(false);

describe('the house', () => {
  it('has no import cycles', () => {
    const cycles: string[][] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string) => {
      state.set(f, 'open');
      stack.push(f);
      for (const t of graph.get(f) ?? []) {
        if (state.get(t) === 'open') cycles.push([...stack.slice(stack.indexOf(t)), t]);
        else if (!state.has(t)) visit(t);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of files) if (!state.has(f)) visit(f);
    expect(cycles.map((c) => c.join(' -> '))).toEqual([]);
  });

  it('keeps src/core free of React, Ink, the store, the CLI, components and the config loader', () => {
    const wrong: string[] = [];
    for (const f of files.filter((f) => f.startsWith('src/core/'))) {
      const text = readFileSync(path.join(root, f), 'utf8');
      if (/from ['"](react|ink|ink-[a-z-]+|zustand[^'"]*)['"]/.test(text)) wrong.push(`${f} imports React/Ink/zustand`);
      // Types of the config's schema are the one thing core takes from outside it.
      for (const t of graph.get(f) ?? []) if (!t.startsWith('src/core/') && !(t === 'src/config/schema.ts' && !(runtime.get(f) ?? []).includes(t))) wrong.push(`${f} -> ${t}`);
    }
    expect(wrong).toEqual([]);
  });

  it('keeps the config\'s schema free of core, so core can use its types without a circle', () => {
    expect((graph.get('src/config/schema.ts') ?? []).filter((t) => t.startsWith('src/core/'))).toEqual([]);
  });

  it('keeps components from spawning processes', () => {
    const wrong = files.filter((f) => f.startsWith('components/') && /from ['"](execa|node:child_process|child_process)['"]/.test(readFileSync(path.join(root, f), 'utf8')));
    expect(wrong).toEqual([]);
  });
});
