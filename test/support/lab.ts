// Helpers for tests that run against a real lab.
import { inject, describe } from 'vitest';
import { execa } from 'execa';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { HostRegistry } from '../../src/core/host/registry.js';
import { labDown, labUp } from '../../src/lab/lab.js';
import { SHARED_LAB_DIR, privatePortBase } from './lab-constants.js';

export const repoRoot = path.resolve(import.meta.dirname, '../..');
export const opsdeckBin = path.join(repoRoot, 'bin', 'opsdeck.js');

/** `describe` for lab tests: skipped, loudly, only where the global setup said why. */
export function describeLab(name: string, fn: () => void): void {
  const reason = inject('labSkipReason');
  if (reason) describe.skip(`${name} (SKIPPED: ${reason})`, fn);
  else describe(name, fn);
}

export function sharedLabConfig(): string {
  const config = inject('labConfig');
  if (!config) throw new Error('no lab config: the lab global setup did not start a lab');
  return config;
}

export function labContext(configFile = sharedLabConfig(), hostOverride?: string) {
  const { config } = loadConfig(configFile);
  return { config, hosts: new HostRegistry(config, hostOverride) };
}

/** Run the built CLI the way a user does. */
export async function opsdeck(args: string[], options: { env?: Record<string, string>; input?: string; timeout?: number } = {}) {
  const result = await execa(process.execPath, [opsdeckBin, ...args], {
    reject: false,
    env: { NO_COLOR: '1', ...options.env },
    timeout: options.timeout ?? 30_000,
    ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' as const }),
  });
  return { code: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** A lab of the test's own, for tests that change things other tests look at; its ports are
 *  `portOffset` above the shared lab's base, its directory beside the shared lab's. */
export async function privateLab(name: string, portOffset: number) {
  const dir = `${SHARED_LAB_DIR}-${name}`;
  await labDown({ dir });
  const { state } = await labUp({ dir, portBase: privatePortBase(portOffset) });
  return { state, config: state.config, down: () => labDown({ dir }) };
}
