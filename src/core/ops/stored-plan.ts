// A plan read back from a host (plan.json) is checked before anything acts on it: it lives on
// a machine opsdeck does not control, a crash or a hand may have left it half-written or
// edited, and `ops resume` would run what it says. Every field a step needs is there with its
// type, or the plan is refused with where it is wrong; the texts the operator reads (titles,
// details, the target) are made safe to print. What a step executes (argv, file content) is
// kept byte for byte: it is shown escaped in the preview, never changed.
import type { Operation, Step, StopRestart } from './operation.js';
import { isOperationId } from './operation.js';
import { sanitizeLine } from '../text/sanitize.js';

type Fields = Record<string, unknown>;

class PlanError extends Error {}

const isObject = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);

function field<T>(o: Fields, key: string, check: (v: unknown) => v is T, what: string, where: string): T {
  const value = o[key];
  if (!check(value)) throw new PlanError(`${where}.${key} is not ${what}`);
  return value;
}

const isString = (v: unknown): v is string => typeof v === 'string';
/** A host or environment name, as the config allows them (so it is safe to print as it is). */
const isName = (v: unknown): v is string => typeof v === 'string' && /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,100}$/.test(v);
/** A time as opsdeck writes them (toISOString). */
export const isTime = (v: unknown): v is string => typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/.test(v);
const isText = (v: unknown): v is string => typeof v === 'string' && !v.includes('\0');
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isArgv = (v: unknown): v is string[] => Array.isArray(v) && v.length > 0 && v.every(isText);
const isTextList = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const oneOf = <T extends string>(...values: T[]) => (v: unknown): v is T => typeof v === 'string' && (values as string[]).includes(v);
/** A unit name as systemd allows it (escaped names included), never an option. */
const isUnit = (v: unknown): v is string => typeof v === 'string' && /^[A-Za-z0-9:_.@\\][A-Za-z0-9:_.@\\-]{0,255}$/.test(v);
const isAbsolutePath = (v: unknown): v is string => isText(v) && v.startsWith('/') && !v.split('/').includes('..');
/** One path component: no "/", not "." or "..". */
const isFileName = (v: unknown): v is string => isText(v) && v.length > 0 && v.length <= 255 && !v.includes('/') && v !== '.' && v !== '..';
const isExitCodes = (v: unknown): v is number[] => Array.isArray(v) && v.every((c) => isCount(c) && c < 256);

const VERBS = ['start', 'stop', 'restart', 'reload', 'enable', 'disable', 'reset-failed', 'kill'] as const;

/** A stop's restart on undo: a transient unit of opsdeck's own naming (it is started by that name), a port, a bounded wait. */
function checkRestart(raw: unknown, where: string): StopRestart {
  if (!isObject(raw)) throw new PlanError(`${where} is not an object`);
  return {
    unit: field(raw, 'unit', (v): v is string => isUnit(v) && v.startsWith('opsdeck-readopt-') && v.endsWith('.service'), 'a unit named opsdeck-readopt-….service', where),
    port: field(raw, 'port', (v): v is number => isCount(v) && v >= 1 && v <= 65535, 'a port', where),
    waitMs: field(raw, 'waitMs', (v): v is number => isCount(v) && v <= 600_000, 'a number of ms (at most 10 minutes)', where),
  };
}

function checkStep(raw: unknown, where: string): Step {
  if (!isObject(raw)) throw new PlanError(`${where} is not an object`);
  const host = field(raw, 'host', isName, 'a host name', where);
  const title = sanitizeLine(field(raw, 'title', isString, 'a title', where));
  const kind = field(raw, 'kind', oneOf('command', 'write-file', 'remove-file', 'systemctl', 'daemon-reload', 'stop-pid', 'health-gate', 'backup-create', 'extract', 'swap-dir', 'remove-files'), 'a known step kind', where);
  const common = { host, title };
  switch (kind) {
    case 'command':
      return {
        kind,
        argv: field(raw, 'argv', isArgv, 'a command (argv)', where),
        ...(raw.okExitCodes !== undefined ? { okExitCodes: field(raw, 'okExitCodes', isExitCodes, 'a list of exit codes', where) } : {}),
        ...(raw.timeoutMs !== undefined ? { timeoutMs: field(raw, 'timeoutMs', isCount, 'a number of ms', where) } : {}),
        ...(raw.detach !== undefined ? { detach: field(raw, 'detach', isBool, 'true or false', where) } : {}),
        ...(raw.undoArgv !== undefined ? { undoArgv: field(raw, 'undoArgv', isArgv, 'a command (argv)', where) } : {}),
        ...common,
      };
    case 'write-file':
      return { kind, path: field(raw, 'path', isAbsolutePath, 'an absolute path', where), content: field(raw, 'content', isString, 'text', where), mode: field(raw, 'mode', (v): v is number => isCount(v) && v <= 0o7777, 'a file mode', where), ...common };
    case 'remove-file':
      return { kind, path: field(raw, 'path', isAbsolutePath, 'an absolute path', where), ...common };
    case 'systemctl':
      return {
        kind,
        verb: field(raw, 'verb', oneOf(...VERBS), 'a systemctl verb', where),
        unit: field(raw, 'unit', isUnit, 'a unit name', where),
        ...(raw.signal !== undefined ? { signal: field(raw, 'signal', (v): v is string => isString(v) && /^(SIG)?[A-Z0-9+-]{1,12}$/.test(v), 'a signal name', where) } : {}),
        ...common,
      };
    case 'daemon-reload':
      return { kind, ...common };
    case 'stop-pid':
      return {
        kind,
        pid: field(raw, 'pid', (v): v is number => isCount(v) && v > 1, 'a PID', where),
        startTime: field(raw, 'startTime', (v): v is string => isString(v) && /^\d+$/.test(v), 'a process start time', where),
        command: sanitizeLine(field(raw, 'command', isString, 'a command line', where)),
        graceMs: field(raw, 'graceMs', isCount, 'a number of ms', where),
        ...(raw.restart !== undefined ? { restart: checkRestart(raw.restart, `${where}.restart`) } : {}),
        ...common,
      };
    case 'health-gate': {
      const probe = raw.probe;
      if (probe !== undefined && !(isObject(probe) && isText(probe.url))) throw new PlanError(`${where}.probe is not a health probe`);
      return {
        kind,
        ...(probe !== undefined ? { probe: probe as unknown as NonNullable<Extract<Step, { kind: 'health-gate' }>['probe']> } : {}),
        ...(raw.unit !== undefined ? { unit: field(raw, 'unit', isUnit, 'a unit name', where) } : {}),
        settleMs: field(raw, 'settleMs', isCount, 'a number of ms', where),
        timeoutMs: field(raw, 'timeoutMs', isCount, 'a number of ms', where),
        intervalMs: field(raw, 'intervalMs', (v): v is number => isCount(v) && v >= 100, 'a number of ms (100 or more)', where),
        ...common,
      };
    }
    case 'backup-create':
      return {
        kind,
        environment: field(raw, 'environment', isName, 'an environment name', where),
        source: field(raw, 'source', isAbsolutePath, 'an absolute path', where),
        dir: field(raw, 'dir', isAbsolutePath, 'an absolute path', where),
        name: field(raw, 'name', isFileName, 'a file name', where),
        compression: field(raw, 'compression', oneOf('gzip', 'zstd'), 'gzip or zstd', where),
        ...(raw.unit !== undefined ? { unit: field(raw, 'unit', isUnit, 'a unit name', where) } : {}),
        ...common,
      };
    case 'extract':
      return {
        kind,
        archive: field(raw, 'archive', isAbsolutePath, 'an absolute path', where),
        into: field(raw, 'into', isAbsolutePath, 'an absolute path', where),
        sha256: raw.sha256 === null ? null : field(raw, 'sha256', (v): v is string => isString(v) && /^[0-9a-f]{64}$/.test(v), 'a SHA-256 or null', where),
        ...common,
      };
    case 'swap-dir':
      return {
        kind,
        target: field(raw, 'target', isAbsolutePath, 'an absolute path', where),
        replacement: field(raw, 'replacement', isAbsolutePath, 'an absolute path', where),
        keepAs: field(raw, 'keepAs', isAbsolutePath, 'an absolute path', where),
        ...common,
      };
    case 'remove-files':
      return { kind, paths: field(raw, 'paths', (v): v is string[] => Array.isArray(v) && v.every(isAbsolutePath), 'a list of absolute paths', where), ...common };
  }
}

/** A stored plan, checked; or why it cannot be used. */
export function checkStoredPlan(raw: unknown): { plan: Operation } | { error: string } {
  try {
    if (!isObject(raw)) throw new PlanError('the plan is not an object');
    const w = 'plan';
    const id = field(raw, 'id', (v): v is string => isString(v) && isOperationId(v), 'an operation id', w);
    const steps = field(raw, 'steps', Array.isArray, 'a list of steps', w).map((s, i) => checkStep(s, `steps[${i}]`));
    const preflight = field(raw, 'preflight', Array.isArray, 'a list of checks', w).map((c, i) => {
      const where = `preflight[${i}]`;
      if (!isObject(c)) throw new PlanError(`${where} is not an object`);
      const kind = field(c, 'kind', oneOf('unit-exists', 'pid-is'), 'a known check', where);
      const host = field(c, 'host', isName, 'a host name', where);
      if (kind === 'unit-exists') return { kind, host, unit: field(c, 'unit', isUnit, 'a unit name', where) };
      return { kind, host, pid: field(c, 'pid', isCount, 'a PID', where), startTime: field(c, 'startTime', isString, 'a start time', where), command: sanitizeLine(field(c, 'command', isString, 'a command line', where)) };
    });
    const createdBy = field(raw, 'createdBy', isObject, 'an object', w);
    const environments = field(raw, 'environments', (v): v is string[] => Array.isArray(v) && v.every(isName), 'a list of environment names', w);
    const environment = raw.environment === null ? null : field(raw, 'environment', isName, 'an environment name or null', w);
    const plan: Operation = {
      id,
      kind: sanitizeLine(field(raw, 'kind', isString, 'a kind', w)),
      title: sanitizeLine(field(raw, 'title', isString, 'a title', w)),
      host: field(raw, 'host', isName, 'a host name', w),
      environment,
      environments,
      target: sanitizeLine(field(raw, 'target', isString, 'a target', w)),
      details: field(raw, 'details', isTextList, 'a list of lines', w).map(sanitizeLine),
      risk: field(raw, 'risk', oneOf('low', 'medium', 'high'), 'low, medium or high', w),
      protected: field(raw, 'protected', isBool, 'true or false', w),
      phrase: raw.phrase === null || raw.phrase === undefined ? null : sanitizeLine(field(raw, 'phrase', isString, 'a phrase', w)),
      createdAt: field(raw, 'createdAt', isTime, 'a time', w),
      createdBy: { user: sanitizeLine(field(createdBy, 'user', isString, 'a user', 'plan.createdBy')), from: sanitizeLine(field(createdBy, 'from', isString, 'a machine', 'plan.createdBy')) },
      preflight,
      steps,
      onFailure: field(raw, 'onFailure', oneOf('rollback', 'stop'), 'rollback or stop', w),
    };
    return { plan };
  } catch (error) {
    if (error instanceof PlanError) return { error: error.message };
    throw error;
  }
}

/** Every host an operation acts on: its own (lock, journal) and each step's and check's. */
export function operationHosts(op: Pick<Operation, 'host' | 'steps' | 'preflight'>): string[] {
  return [...new Set([op.host, ...op.steps.map((s) => s.host), ...op.preflight.map((c) => c.host)])];
}
