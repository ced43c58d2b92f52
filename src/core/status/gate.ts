// A health gate: is the service well, and has it stayed well for long enough? One sample is
// the health probe (HTTP status, JSON fields, version pattern, JSON-RPC tools count) and the
// unit's state (active, its restart counter not rising since the gate opened). The gate passes
// when every sample over the settle time was good; it fails when that has not happened by the
// timeout, with the reasons of the last sample.
import type { Host } from '../host/host.js';
import { showUnits } from '../systemd/units.js';
import { probeHealth, type HealthProbe } from './health.js';

export interface GateSample {
  at: number;
  ok: boolean;
  /** Why it is not ok (empty when ok). */
  failures: string[];
  httpStatus: number | null;
  version: string | null;
  nRestarts: number | null;
  activeState: string | null;
  /** The unit's restart counter rose since the gate opened. */
  restarted: boolean;
}

export interface GateSpec {
  probe?: HealthProbe | undefined;
  unit?: string | undefined;
  settleMs: number;
  timeoutMs: number;
  intervalMs: number;
}

/** Take one sample. `baseRestarts`: the unit's restart counter when the gate opened. */
export async function sampleGate(host: Host, spec: GateSpec, baseRestarts: number | null, signal?: AbortSignal): Promise<GateSample> {
  const [health, units] = await Promise.all([
    spec.probe ? probeHealth(host, spec.probe, signal ? { signal } : {}) : Promise.resolve(null),
    spec.unit ? showUnits(host, [spec.unit], signal ? { signal } : {}) : Promise.resolve(null),
  ]);
  const failures = [...(health?.failures ?? [])];
  const unit = spec.unit ? units?.get(spec.unit) : undefined;
  if (spec.unit) {
    if (!unit || unit.loadState === 'not-found') failures.push(`${spec.unit} does not exist`);
    else {
      if (unit.activeState !== 'active') failures.push(`${spec.unit} is ${unit.activeState}/${unit.subState}`);
      if (baseRestarts !== null && unit.nRestarts > baseRestarts) failures.push(`${spec.unit} restarted ${unit.nRestarts - baseRestarts} time(s) since the gate opened`);
    }
  }
  return {
    at: Date.now(),
    ok: failures.length === 0,
    failures,
    httpStatus: health?.httpStatus ?? null,
    version: health?.version ?? null,
    nRestarts: unit?.nRestarts ?? null,
    restarted: Boolean(unit && baseRestarts !== null && unit.nRestarts > baseRestarts),
    activeState: unit ? `${unit.activeState}/${unit.subState}` : null,
  };
}

export type GateVerdict = { state: 'passed' } | { state: 'failed'; reason: string } | { state: 'waiting'; goodForMs: number };


/** The verdict on the samples so far (oldest first), the gate having opened at `openedAt`. */
export function gateVerdict(samples: readonly GateSample[], spec: Pick<GateSpec, 'settleMs' | 'timeoutMs'>, openedAt: number, now: number): GateVerdict {
  const last = samples.at(-1);
  // The good run: the latest samples, all good, back to the first of them.
  let firstGood: number | null = null;
  for (let i = samples.length - 1; i >= 0 && samples[i]!.ok; i--) firstGood = samples[i]!.at;
  const goodForMs = firstGood === null || !last?.ok ? 0 : last.at - firstGood;
  if (firstGood !== null && goodForMs >= spec.settleMs) return { state: 'passed' };
  // A unit that restarted since the gate opened has crashed: no need to wait for the timeout.
  if (last?.restarted) return { state: 'failed', reason: `it crashed: ${last.failures.join('; ')}` };
  if (now - openedAt >= spec.timeoutMs) {
    const why = last && !last.ok ? last.failures.join('; ') : `well for only ${Math.round(goodForMs / 1000)} s of the ${Math.round(spec.settleMs / 1000)} s asked`;
    return { state: 'failed', reason: `not healthy within ${Math.round(spec.timeoutMs / 1000)} s: ${why || 'no sample'}` };
  }
  return { state: 'waiting', goodForMs };
}
