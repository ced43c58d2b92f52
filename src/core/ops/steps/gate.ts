// The health gate as a step: sample until the service has been well for the settle time, or
// fail at the timeout with the reasons of the last sample. It only looks: nothing to undo.
import { curlArgv } from '../../status/health.js';
import { gateVerdict, sampleGate, type GateSample } from '../../status/gate.js';
import { showUnitsArgv } from '../../systemd/units.js';
import type { Step } from '../operation.js';
import { StepFailure, type StepKind } from './kind.js';

type GateStep = Extract<Step, { kind: 'health-gate' }>;

export const gateStep: StepKind<GateStep> = {
  argv: (step) => ['health-gate', ...(step.probe ? [step.probe.url] : []), ...(step.unit ? [step.unit] : [])],
  async preview(step) {
    const commands: string[][] = [];
    if (step.probe) commands.push(curlArgv([{ url: step.probe.url, timeoutMs: step.probe.timeoutMs ?? 3000 }]));
    if (step.unit) commands.push(showUnitsArgv([step.unit]));
    return {
      commands,
      diff: null,
      undo: this.undoText(step),
      notes: [`every ${Math.round(step.intervalMs / 100) / 10} s until well for ${Math.round(step.settleMs / 1000)} s in a row; fails after ${Math.round(step.timeoutMs / 1000)} s`],
    };
  },
  async run(step, env) {
    const openedAt = Date.now();
    // The restart counter as the gate opens is the first sample's: not asked for twice.
    let base: number | null = null;
    const samples: GateSample[] = [];
    for (;;) {
      const sample = await sampleGate(env.host, step, base, env.signal);
      if (samples.length === 0) base = sample.nRestarts;
      samples.push(sample);
      env.emit({ type: 'gate-sample', sample });
      const verdict = gateVerdict(samples, step, openedAt, Date.now());
      if (verdict.state === 'passed') return { exitCode: 0, data: { samples: samples.length } };
      if (verdict.state === 'failed') throw new StepFailure(verdict.reason, null, '', step.unit ?? null);
      if (env.signal?.aborted) throw new StepFailure('stopped waiting for the health gate');
      await new Promise((r) => setTimeout(r, step.intervalMs));
    }
  },
  inert: true,
  undoText() {
    return 'nothing to undo (it only looks)';
  },
};
