// The doctor's port rules: nothing listening, a holder hidden from this user, a holder outside
// any unit (with its adoption or its stop as the fix), a holder in another unit.
import { formatAge } from '../text/humanize.js';
import { show, type FindingEvidence } from './finding.js';
import type { Rule } from './facts.js';


/** The transient units a rolled-back adoption starts the process again in (ops/relaunch.ts). */
const READOPT_PREFIX = 'opsdeck-readopt-';

/** The port a health probe's URL asks (its scheme's when none is written); null when it cannot be read. */
function probePort(url: string): number | null {
  try {
    const u = new URL(url);
    return u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : u.protocol === 'http:' ? 80 : null;
  } catch {
    return null;
  }
}

export const portRule: Rule = ({ environment, env, status, hostError, processes = [] }, emit) => {
  for (const port of env.ports) {
    const all = status.listeners.filter((l) => l.port === port);
    const holders = all.filter((l, i) => l.pid === null || all.findIndex((o) => o.pid === l.pid) === i);
    const tcp = { text: '', from: '/proc/net/tcp, /proc/net/tcp6' };
    if (holders.length === 0 && !hostError && status.errors.length === 0) {
      emit('port-not-listening', 'critical', { key: String(port), title: `nothing listens on port ${port}`, evidence: [{ ...tcp, text: `no listening socket on port ${port}` }] });
    }
    for (const holder of holders) {
      const key = holders.length > 1 ? `${port}-${holder.pid ?? 'hidden'}` : String(port);
      if (holder.pid === null) {
        // Other users' sockets show their owners only to root: without one, "no unit" would be a false alarm.
        emit('port-owner-unknown', 'warning', { key, title: `port ${port} is listening, but its process is not visible (run opsdeck as root on host ${status.host} to see it)`, evidence: [{ ...tcp, text: `a socket listens on ${holder.address}:${port}; /proc/*/fd shows no holder to this user` }] });
      } else if (holder.unit === null || holder.unit.startsWith(READOPT_PREFIX)) {
        // A process opsdeck started again in a transient unit (a rolled-back adoption) is still the hand-started one: adopt it again.
        const facts = processes.find((p) => p.pid === holder.pid);
        const addresses = all.filter((l) => l.pid === holder.pid).map((l) => `${l.address}:${port}`);
        const evidence: FindingEvidence[] = [
          { text: `PID ${holder.pid} listens on ${addresses.join(', ')}`, from: `/proc/net/tcp, /proc/${holder.pid}/fd` },
          { text: `command line: ${holder.command || `[${holder.process}]`}`, from: `/proc/${holder.pid}/cmdline` },
          holder.unit === null
            ? { text: `cgroup ${holder.cgroup ?? '(unknown)'}: in no systemd unit (started by hand, or by something outside systemd)`, from: `/proc/${holder.pid}/cgroup` }
            : { text: `in ${holder.unit}: the hand-started process, started again by opsdeck when an adoption was rolled back`, from: `/proc/${holder.pid}/cgroup` },
        ];
        if (facts?.cwd) evidence.push({ text: `working directory: ${facts.cwd}`, from: `/proc/${holder.pid}/cwd` });
        for (const v of facts?.dataEnv ?? []) evidence.push({ text: `environment: ${v.name}=${v.dir}`, from: `/proc/${holder.pid}/environ` });
        if (facts?.writing && facts.writing.length > 0) evidence.push({ text: `writes ${facts.writing.slice(0, 5).join(', ')}${facts.writing.length > 5 ? ` and ${facts.writing.length - 5} more` : ''}`, from: `/proc/${holder.pid}/fd, /proc/${holder.pid}/fdinfo` });
        if (facts?.runningSec !== null && facts?.runningSec !== undefined) evidence.push({ text: `running for ${formatAge(facts.runningSec)}`, from: `ps -o etimes= -p ${holder.pid}` });
        if (status.unit && status.unit.activeState !== 'active') evidence.push({ text: `meanwhile ${status.unit.name} is ${status.unit.activeState}/${status.unit.subState}: PID ${holder.pid} is what serves port ${port}${status.health?.ok ? ', and it answers the health check' : ''}`, from: show(status.unit.name, 'ActiveState,SubState') });
        // It is the service that really serves when it alone holds the port the environment's health probe asks, and that probe answers.
        const serves = env.unit && env.health && status.health?.ok && holders.length === 1 && probePort(env.health.url) === port;
        emit('port-unmanaged', 'critical', {
          key,
          title: `port ${port} is held by PID ${holder.pid} (${holder.command || holder.process || 'unknown'}), which ${holder.unit === null ? 'no systemd unit manages' : `runs in ${holder.unit}, not ${env.unit ?? 'a unit of the environment'}`}`,
          evidence,
          fix: serves
            ? { title: `adopt it: hand port ${port} to ${env.unit} (stop ${env.unit}, TERM PID ${holder.pid}, start ${env.unit}, health gate); rolled back by starting PID ${holder.pid}'s command again from its recorded command line, cwd and environment`, plan: { kind: 'adopt', environment, unit: env.unit!, pid: holder.pid, port } }
            : { title: `stop it: TERM PID ${holder.pid}, then KILL`, plan: { kind: 'stop-pid', environment, pid: holder.pid } },
          note: serves ? null : `it is not what answers ${environment}'s health probe${env.unit ? '' : ' (and the environment has no unit to hand the port to)'}: stopping it frees port ${port}`,
        });
      } else if (env.unit && holder.unit !== env.unit) {
        emit('port-other-unit', 'warning', { key, title: `port ${port} is held by ${holder.unit}, not ${env.unit}`, evidence: [{ text: `PID ${holder.pid} (${holder.command || holder.process}) is in ${holder.unit}`, from: `/proc/${holder.pid}/cgroup` }] });
      }
    }
  }
};

/** A bind that failed because something else listens there: errno 98 in any language's words. */
const ADDRESS_IN_USE = /EADDRINUSE|address already in use|Errno 98|bind\(\) to \S+ failed \(98/i;
const PORT_IN_MESSAGE = /[:\s](\d{1,5})\b(?![.\d])/g;

/** The unit fails because the port it binds is taken: who holds it (a process outside any unit, or another unit). */
export const portConflictRule: Rule = ({ env, status, journal }, emit) => {
  const unit = status.unit;
  if (!unit || !journal || journal.unit !== unit.name) return;
  const line = journal.entries.findLast((e) => e.origin === 'unit' && ADDRESS_IN_USE.test(e.message));
  if (!line) return;
  // The port the line names, if it is one of the environment's (whether anyone listens there now or not).
  const named = [...line.message.matchAll(PORT_IN_MESSAGE)].map((m) => Number(m[1])).filter((p) => env.ports.includes(p));
  const ports = named.length > 0 ? [...new Set(named)] : env.ports;
  const holders = status.listeners.filter((l, i, all) => ports.includes(l.port) && l.unit !== unit.name && all.findIndex((o) => o.port === l.port && o.pid === l.pid) === i);
  const who = (l: (typeof holders)[number]) => (l.pid === null ? 'a process this user cannot see' : l.unit === null ? `PID ${l.pid} (${l.command || l.process}), in no unit` : `${l.unit} (PID ${l.pid}, ${l.command || l.process})`);
  emit('port-conflict', 'critical', {
    key: String(ports[0] ?? ''),
    title: `${unit.name} cannot listen: port ${ports.join(', ')} is already in use${holders.length > 0 ? ` by ${holders.map(who).join(', ')}` : ''}`,
    evidence: [
      { text: `the service fails binding its port: address already in use (EADDRINUSE)`, from: journal.from, quote: [line.message] },
      ...holders.map((l) => ({ text: `port ${l.port} (${l.address}) is held by ${who(l)}`, from: l.pid === null ? '/proc/net/tcp' : `/proc/net/tcp, /proc/${l.pid}/fd, /proc/${l.pid}/cgroup` })),
      ...(holders.length === 0 ? [{ text: `nothing listens on port ${ports.join(', ')} now: the holder has gone since (or binds only now and then)`, from: '/proc/net/tcp, /proc/net/tcp6' }] : []),
    ],
    note: holders.some((l) => l.pid !== null && l.unit === null)
      ? `the process outside any unit has its own finding (port-unmanaged) with its fix: adopt it or stop it`
      : holders.length > 0
        ? `stop ${holders.map((l) => l.unit ?? `PID ${l.pid}`).join(', ')}, or give one of the two another port (the config and the unit)`
        : null,
  });
};
