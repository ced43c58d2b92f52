// Finding, parsing and validating opsdeck.yaml. Every error names file:line:column and what
// was expected. With no config file at all, opsdeck still works on the local host with no
// environments.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { LineCounter, parseDocument, isMap, isScalar, visit, type Document, type Node } from 'yaml';
import type * as z from 'zod/mini';
import { ConfigError, type OpsdeckError } from '../core/text/errors.js';
import { sharedPattern } from '../core/text/pattern.js';
import { codePointName, firstUnsafeCharacter, quoteUntrusted } from '../core/text/sanitize.js';
import { normalizeUnitName, isValidUnitName } from '../core/systemd/units.js';
import { configSchema, type Config } from './schema.js';

export interface LoadedConfig {
  config: Config;
  /** The file it came from; null when none was found (built-in defaults). */
  file: string | null;
}

export function configCandidates(explicit?: string): Array<{ file: string; source: string }> {
  if (explicit) return [{ file: path.resolve(explicit), source: '--config' }];
  if (process.env.OPSDECK_CONFIG) return [{ file: path.resolve(process.env.OPSDECK_CONFIG), source: '$OPSDECK_CONFIG' }];
  const xdg = process.env.XDG_CONFIG_HOME ?? path.join(homedir(), '.config');
  return [
    { file: path.resolve('opsdeck.yaml'), source: './opsdeck.yaml' },
    { file: path.join(xdg, 'opsdeck', 'opsdeck.yaml'), source: 'user config' },
    { file: '/etc/opsdeck/opsdeck.yaml', source: 'system config' },
  ];
}

export function loadConfig(explicit?: string): LoadedConfig {
  const candidates = configCandidates(explicit);
  for (const { file, source } of candidates) {
    if (!existsSync(file)) {
      if (source === '--config' || source === '$OPSDECK_CONFIG') {
        throw new ConfigError(`config file ${file} (from ${source}) does not exist`, 'check the path, or start a lab with `opsdeck lab up` to get an example config');
      }
      continue;
    }
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
    }
    return { config: parseConfig(text, file), file };
  }
  return { config: configSchema.parse({}), file: null };
}

/** Parse and validate config text; `file` is used in error messages only. */
export function parseConfig(text: string, file: string): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const where = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  const syntax = doc.errors[0];
  if (syntax) {
    const message = syntax.message.split('\n')[0]!.replace(/ at line \d+, column \d+.*$/, '');
    throw new ConfigError(`${where(syntax.pos[0])}: invalid YAML: ${message}`, 'fix the YAML syntax (indentation uses spaces; quote values containing ": ")');
  }
  refuseUnsafeText(doc, where);
  let data: unknown;
  try {
    // A few aliases are fine; thousands (a "billion laughs" document) would eat all memory.
    data = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (error) {
    throw new ConfigError(`${where(firstAliasOffset(doc))}: ${(error as Error).message.replace(/\.$/, '')} (too many YAML aliases)`, 'use fewer anchors and aliases (&name / *name): write the values out');
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(`${file}:1:1: the config must be a mapping (keys such as hosts: and environments:)`);
  }
  const parsed = configSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const issuePath = issue.path as Array<string | number>;
    // An unknown key is best pointed at where it is written.
    const unknownKey = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
    const { offset, path: shownPath } = unknownKey ? locate(doc.contents, [...issuePath, unknownKey], true) : locate(doc.contents, issuePath);
    throw new ConfigError(`${where(offset)}: ${describePath(shownPath, issuePath)}${describeIssue(issue, sourceAt(doc, text, issuePath))}`, hintFor(issue));
  }
  const config = parsed.data;
  crossCheck(config, (keyPath) => where(locate(doc.contents, keyPath).offset));
  return config;
}

/** Checks that span fields: hosts exist, unit names are valid. */
function crossCheck(config: Config, where: (keyPath: Array<string | number>) => string): void {
  const hostNames = new Set(['local', ...Object.keys(config.hosts)]);
  for (const [envName, env] of Object.entries(config.environments)) {
    if (!hostNames.has(env.host)) {
      throw new ConfigError(
        `${where(['environments', envName, 'host'])}: environment ${envName} names host ${JSON.stringify(env.host)}, which is not defined`,
        `define it under hosts: (known: ${[...hostNames].join(', ')})`,
      );
    }
    const units: Array<[string | number, string]> = [];
    if (env.unit) units.push(['unit', env.unit]);
    env.relatedUnits.forEach((u, i) => units.push([i, u]));
    for (const [key, unit] of units) {
      if (!isValidUnitName(unit)) {
        const keyPath = key === 'unit' ? ['environments', envName, 'unit'] : ['environments', envName, 'relatedUnits', key];
        throw new ConfigError(`${where(keyPath)}: ${JSON.stringify(unit)} is not a valid systemd unit name`, "unit names contain only letters, digits and ':', '-', '_', '.', '\\', '@'");
      }
    }
    const version = env.health?.expect?.version;
    if (version !== undefined) {
      try {
        // Kept compiled: the health probe matches with this same pattern.
        sharedPattern(version, null, { smartCase: false });
      } catch (error) {
        throw new ConfigError(`${where(['environments', envName, 'health', 'expect', 'version'])}: ${(error as OpsdeckError).message}`, (error as OpsdeckError).hint);
      }
    }
    if (env.unit) env.unit = normalizeUnitName(env.unit);
    env.relatedUnits = env.relatedUnits.map(normalizeUnitName);
  }
}

/** The deepest existing YAML node along `keyPath`, and its offset. */
function locate(root: unknown, keyPath: Array<string | number>, atKey = false): { offset: number; path: Array<string | number> } {
  let node = root as Node | null | undefined;
  let offset = (node as Node | undefined)?.range?.[0] ?? 0;
  const found: Array<string | number> = [];
  for (const key of keyPath) {
    if (!node || typeof node !== 'object' || !('items' in node)) break;
    const items = (node as unknown as { items: unknown[] }).items;
    let next: Node | undefined;
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
      if (!pair) break;
      offset = (pair.key as Node).range?.[0] ?? offset;
      if (atKey && found.length === keyPath.length - 1) {
        found.push(key);
        break;
      }
      next = pair.value as Node | undefined;
    } else if (typeof key === 'number') {
      next = items[key] as Node | undefined;
    }
    if (!next) break;
    found.push(key);
    node = next;
    offset = next.range?.[0] ?? offset;
  }
  return { offset, path: found };
}

function describePath(found: Array<string | number>, full: Array<string | number>): string {
  const show = full.length > 0 ? full : found;
  return show.length > 0 ? `${show.join('.')}: ` : '';
}

/** The value as written in the file (so "1e400" shows as typed, not as JavaScript's Infinity). */
function sourceAt(doc: Document, text: string, keyPath: Array<string | number>): string | undefined {
  const node = doc.getIn(keyPath, true) as Node | undefined;
  const range = node?.range;
  return isScalar(node) && range ? text.slice(range[0], range[1]).trim() : undefined;
}

function firstAliasOffset(doc: Document): number {
  let offset = 0;
  visit(doc, {
    Alias(_, node) {
      offset = node.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  return offset;
}

/** Every key and value opsdeck may print is checked: a control or escape character is refused where it is written. */
function refuseUnsafeText(doc: Document, where: (offset: number) => string): void {
  visit(doc, {
    Scalar(_, node) {
      if (typeof node.value !== 'string') return;
      const bad = firstUnsafeCharacter(node.value);
      if (bad === null) return;
      throw new ConfigError(
        `${where(node.range?.[0] ?? 0)}: ${quoteUntrusted(node.value.length > 40 ? `${node.value.slice(0, 40)}…` : node.value)} holds the control character ${codePointName(bad)}, which could drive the terminal it is shown on`,
        'remove it (escape sequences, control and invisible formatting characters are not allowed in the config)',
      );
    },
  });
}

function describeIssue(issue: z.core.$ZodIssue, source: string | undefined): string {
  const got = source !== undefined ? `, got ${source}` : '';
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    case 'invalid_type':
      if ('input' in issue && issue.input === undefined) return `expected ${issue.expected}, but it is missing`;
      return `expected ${issue.expected === 'int' ? 'a whole number' : issue.expected === 'number' ? 'a number' : issue.expected}${got}`;
    case 'too_big':
    case 'too_small':
      return `expected ${issue.message}${got}`;
    case 'custom':
      return `${issue.message}${got}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      return `expected ${issue.message}`;
    default:
      return issue.message;
  }
}

function hintFor(issue: z.core.$ZodIssue): string | undefined {
  if (issue.code === 'unrecognized_keys') return 'see the configuration section of the README for the keys opsdeck knows';
  return undefined;
}
