// The operations runner's own cost, against the bare commands, on the lab host (nsenter) and
// over ssh (the lab's sshd, host lab-ssh):
//   per step:  an operation of N `true` command steps vs `host.run(['true'])` N times on the
//              same Host: the difference per step is what the runner adds (one fsynced journal
//              record on the host, the step's start with the previous step's end in it; the
//              audit log's intent and result here). Also an operation of N steps that run
//              nothing themselves (a health gate with nothing to ask): all their cost is the
//              runner's;
//   fixed:     an operation of no steps: lock, plan.json, the started/finished lines, the
//              `ended` mark, release;
//   detached:  a step in a transient unit (systemd-run, polled with systemctl show, its output
//              read from the journal, the unit removed) vs the bare command (information only).
// Each after a warm-up (ssh's ControlMaster up), several repetitions, medians. Over ssh, the
// operations must reuse that master: sshd's "Accepted publickey" lines in the lab's journal,
// and our ssh masters, are counted before and after.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import type { Host } from '../../src/core/host/host.js';
import { appendDurably } from '../../src/core/host/files.js';
import { HostRegistry } from '../../src/core/host/registry.js';
import { AuditLog } from '../../src/core/ops/audit.js';
import type { Operation, Step } from '../../src/core/ops/operation.js';
import { OperationRunner } from '../../src/core/ops/runner.js';
import { UNITS } from '../../src/lab/scenario.js';
import { testOperation } from '../support/operation.js';
import { cmdline } from '../support/proc.js';
import { median, type BenchRow } from './support.js';

const STEPS = 20;
const DETACHED_STEPS = 5;
const REPS = 7;
const TARGET_MS = 50;
/** Where the bare appends go: beside the operations' journals, on the same file system. */
const BARE_APPEND_FILE = '/var/lib/opsdeck/bench-append.jsonl';

/** Every command a Host runs, with how long it took (wrapped around host.run). */
interface Recorded {
  command: string;
  ms: number;
}

function record(host: Host): { take(): Recorded[] } {
  let log: Recorded[] = [];
  const run = host.run.bind(host);
  host.run = async (argv, options) => {
    const t = performance.now();
    try {
      return await run(argv, options);
    } finally {
      log.push({ command: argv[0]!, ms: performance.now() - t });
    }
  };
  // Streams (journalctl reading a detached step's output) are counted, not timed.
  const stream = host.stream.bind(host);
  host.stream = (argv, options) => {
    log.push({ command: argv.find((a) => a !== 'stdbuf' && !a.startsWith('-')) ?? argv[0]!, ms: 0 });
    return stream(argv, options);
  };
  return {
    take() {
      const taken = log;
      log = [];
      return taken;
    },
  };
}

function operation(host: string, steps: Step[]): Operation {
  return testOperation({ kind: 'bench.ops', title: `bench: ${steps.length} steps`, host, createdBy: { user: 'root', from: 'bench' }, steps });
}

const trueStep = (host: string, detach = false): Step => ({ kind: 'command', host, title: 'true', argv: ['true'], ...(detach ? { detach: true } : {}) });
/** A step that runs no command itself: a health gate with nothing to ask passes at once. */
const emptyStep = (host: string): Step => ({ kind: 'health-gate', host, title: 'nothing', settleMs: 0, timeoutMs: 10_000, intervalMs: 100 });

/** Time spent appending to the audit log (synchronous, on this machine), since the last reset. */
const auditTime = { ms: 0, count: 0 };

const round1 = (ms: number) => Math.round(ms * 10) / 10;

/** "dd 2 (33 ms), true 1 (15 ms)": commands per unit of work and their time, from the commands of `count` units. */
function perUnit(commands: Recorded[], minus: Recorded[], count: number): string {
  const counts = new Map<string, { n: number; ms: number }>();
  const add = (c: Recorded, sign: number) => {
    const entry = counts.get(c.command) ?? { n: 0, ms: 0 };
    counts.set(c.command, { n: entry.n + sign, ms: entry.ms + sign * c.ms });
  };
  for (const c of commands) add(c, 1);
  for (const c of minus) add(c, -1);
  return [...counts.entries()]
    .filter(([, e]) => e.n !== 0)
    .sort((a, b) => b[1].n - a[1].n || a[0].localeCompare(b[0]))
    .map(([command, e]) => `${command} ${round1(e.n / count)}${e.ms > 0 ? ` (${Math.round(e.ms / count)} ms)` : ''}`)
    .join(', ');
}

/** Milliseconds spent in commands named `command` (all of them when undefined). */
function timeIn(commands: Recorded[], command?: string): number {
  return commands.filter((c) => command === undefined || c.command === command).reduce((sum, c) => sum + c.ms, 0);
}

/** Our ssh master processes (ControlPersist: forked off, named "ssh: PATH [mux]", PATH ending in -OURPID). */
function sshMasters(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const line = cmdline(Number(entry));
    if (/^ssh: \S+-(\d+) \[mux\]/.exec(line)?.[1] === String(process.pid)) pids.push(Number(entry));
  }
  return pids;
}

/** sshd's accepted logins so far, from the lab's journal (read through the lab host, not ssh). */
async function acceptedLogins(lab: Host): Promise<number> {
  const { stdout } = await lab.run(['journalctl', '--no-pager', '-q', '-o', 'cat', '-u', UNITS.sshd, '--grep', 'Accepted publickey'], { okExitCodes: [0, 1] });
  return stdout.split('\n').filter((l) => l.includes('Accepted publickey')).length;
}

interface HostResult {
  bare: number;
  step: number;
  fixed: number;
  stepCommands: string;
  fixedCommands: string;
  fixedCount: number;
  /** Per step: time in the journal appends (dd) and in the step's own command. */
  appendMs: number;
  /** One journal-like append (dd conv=fsync) run on its own. */
  bareAppend: number;
  /** Per step: audit records written, and the time in them. */
  auditMs: number;
  auditCount: number;
  detached: number;
  detachedCommands: string;
  detachedCount: number;
  bareOne: number;
  /** Per step that runs nothing itself: the runner's own cost. */
  emptyStep: number;
  emptyStepCommands: string;
}

async function measure(runner: OperationRunner, host: Host, name: string, recorder: { take(): Recorded[] }): Promise<HostResult> {
  const run = async (op: Operation) => {
    const result = await runner.run(op, { kind: 'yes-flag' }, {});
    if (result.status !== 'finished') throw new Error(`bench operation on ${name} did not finish: ${result.summary}`);
  };
  // Warm-up: the ssh master, the lock and ops directories, the page cache of every tool used.
  for (let i = 0; i < 3; i++) await host.run(['true']);
  await run(operation(name, [trueStep(name), trueStep(name, true)]));
  await run(operation(name, []));
  recorder.take();

  const bare: number[] = [];
  const bareOne: number[] = [];
  const ops: number[] = [];
  const empty: number[] = [];
  const detached: number[] = [];
  const emptySteps: number[] = [];
  let emptyStepCommands: Recorded[] = [];
  let opCommands: Recorded[] = [];
  let emptyCommands: Recorded[] = [];
  let detachedCommands: Recorded[] = [];
  const appendPerStep: number[] = [];
  const bareAppend: number[] = [];
  const auditPerStep: number[] = [];
  let auditCount = 0;
  for (let rep = 0; rep < REPS; rep++) {
    let t = performance.now();
    for (let i = 0; i < STEPS; i++) await host.run(['true']);
    bare.push((performance.now() - t) / STEPS);
    const bareCommands = recorder.take();
    bareOne.push(median(bareCommands.map((c) => c.ms)));

    for (let i = 0; i < 5; i++) await appendDurably(host, BARE_APPEND_FILE, `{"event":"bench","at":"${new Date().toISOString()}"}\n`);
    bareAppend.push(median(recorder.take().map((c) => c.ms)));

    Object.assign(auditTime, { ms: 0, count: 0 });
    t = performance.now();
    await run(operation(name, Array.from({ length: STEPS }, () => trueStep(name))));
    ops.push(performance.now() - t);
    opCommands = recorder.take();
    auditPerStep.push(auditTime.ms / STEPS);
    auditCount = auditTime.count / STEPS;

    t = performance.now();
    await run(operation(name, []));
    empty.push(performance.now() - t);
    emptyCommands = recorder.take();
    appendPerStep.push((timeIn(opCommands, 'dd') - timeIn(emptyCommands, 'dd')) / STEPS);

    t = performance.now();
    await run(operation(name, Array.from({ length: STEPS }, () => emptyStep(name))));
    emptySteps.push(performance.now() - t);
    emptyStepCommands = recorder.take();

    t = performance.now();
    await run(operation(name, Array.from({ length: DETACHED_STEPS }, () => trueStep(name, true))));
    detached.push(performance.now() - t);
    detachedCommands = recorder.take();
  }
  const fixed = median(empty);
  return {
    bare: median(bare),
    bareOne: median(bareOne),
    step: (median(ops) - fixed) / STEPS,
    fixed,
    stepCommands: perUnit(opCommands, emptyCommands, STEPS),
    fixedCommands: perUnit(emptyCommands, [], 1),
    fixedCount: emptyCommands.length,
    appendMs: median(appendPerStep),
    bareAppend: median(bareAppend),
    auditMs: median(auditPerStep),
    auditCount,
    detached: (median(detached) - fixed) / DETACHED_STEPS,
    detachedCommands: perUnit(detachedCommands, emptyCommands, DETACHED_STEPS),
    detachedCount: round1((detachedCommands.length - emptyCommands.length) / DETACHED_STEPS),
    emptyStep: (median(emptySteps) - fixed) / STEPS,
    emptyStepCommands: perUnit(emptyStepCommands, emptyCommands, STEPS),
  };
}

function rowsFor(label: string, r: HostResult): BenchRow[] {
  const overhead = round1(r.step - r.bare);
  return [
    { bench: 'ops', metric: `${label}: bare \`true\` via host.run (median of ${REPS}x${STEPS})`, value: round1(r.bare), unit: 'ms' },
    { bench: 'ops', metric: `${label}: a \`true\` step in an operation of ${STEPS}`, value: round1(r.step), unit: 'ms' },
    { bench: 'ops', metric: `${label}: runner overhead per step (step - bare)`, value: overhead, unit: 'ms', target: `< ${TARGET_MS} ms`, met: overhead < TARGET_MS },
    { bench: 'ops', metric: `  of which the journal records (dd conv=fsync); commands per step (last run): ${r.stepCommands}`, value: round1(r.appendMs), unit: 'ms' },
    { bench: 'ops', metric: `  a step that runs nothing itself (a gate with nothing to ask), for comparison; commands per step: ${r.emptyStepCommands}`, value: round1(r.emptyStep), unit: 'ms' },
    { bench: 'ops', metric: `  of which the audit log (${r.auditCount} records per step, local)`, value: round1(r.auditMs), unit: 'ms' },
    { bench: 'ops', metric: `  one such append run on its own (dd conv=fsync, one line), for comparison`, value: round1(r.bareAppend), unit: 'ms' },
    { bench: 'ops', metric: `${label}: fixed per operation (lock, plan, started/finished, ended, release)`, value: Math.round(r.fixed), unit: 'ms' },
    { bench: 'ops', metric: `  commands (last run): ${r.fixedCommands}`, value: r.fixedCount, unit: 'procs' },
    { bench: 'ops', metric: `${label}: a detached \`true\` step (systemd-run), vs ${round1(r.bareOne)} ms bare`, value: Math.round(r.detached), unit: 'ms' },
    { bench: 'ops', metric: `  commands per detached step (last run): ${r.detachedCommands}`, value: r.detachedCount, unit: 'procs' },
  ];
}

export async function benchOps(config: string): Promise<BenchRow[]> {
  const { config: parsed } = loadConfig(config);
  const hosts = new HostRegistry(parsed);
  const auditDir = mkdtempSync(path.join(os.tmpdir(), 'opsdeck-bench-audit-'));
  const audit = new AuditLog(path.join(auditDir, 'audit.jsonl'));
  const append = audit.append.bind(audit);
  audit.append = (r) => {
    const t = performance.now();
    append(r);
    auditTime.ms += performance.now() - t;
    auditTime.count++;
  };
  const runner = new OperationRunner({ hostFor: (n) => hosts.get(n), audit, readonly: () => false, protection: () => ({ protected: false, phrase: null, unknown: [] }), storedScope: (plan) => plan.environments });
  const rows: BenchRow[] = [];
  try {
    const lab = hosts.get('lab');
    rows.push(...rowsFor('lab (nsenter)', await measure(runner, lab, 'lab', record(lab))));
    if (!parsed.hosts['lab-ssh']) {
      rows.push({ bench: 'ops', metric: 'ssh: skipped, the bench lab has no sshd (install openssh-server)', value: 0, unit: '' });
      return rows;
    }
    // The lab's own reads of its journal go through `lab`, so they open no ssh connection.
    const ssh = hosts.get('lab-ssh');
    const recorder = record(ssh);
    await ssh.run(['true']);
    const loginsBefore = await acceptedLogins(lab);
    const mastersBefore = sshMasters();
    const result = await measure(runner, ssh, 'lab-ssh', recorder);
    const loginsAfter = await acceptedLogins(lab);
    const mastersAfter = sshMasters();
    rows.push(...rowsFor('ssh (lab-ssh)', result));
    const newLogins = loginsAfter - loginsBefore;
    const runs = REPS * 4 + 2;
    // The warm-up's own login must be seen, or the count proves nothing.
    rows.push({ bench: 'ops', metric: `ssh: new connections (sshd logins) over ${runs} operations (logins before: ${loginsBefore})`, value: newLogins, unit: 'logins', target: '0', met: loginsBefore > 0 && newLogins === 0 });
    const same = mastersBefore.length === 1 && mastersAfter.length === 1 && mastersBefore[0] === mastersAfter[0];
    rows.push({ bench: 'ops', metric: `ssh: our ControlMaster processes after (PID ${mastersAfter.join(', ') || 'none'}; before: ${mastersBefore.join(', ') || 'none'})`, value: mastersAfter.length, unit: 'masters', target: '1, the same', met: same });
  } finally {
    await hosts.closeAll();
    rmSync(auditDir, { recursive: true, force: true });
  }
  return rows;
}
