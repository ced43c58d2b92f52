// Boots one shared lab for the whole run (real systemd, journald, sshd) and tears it down.
// Where a lab cannot run (not root, no unshare), lab tests skip loudly; on CI they must not
// skip, so there the setup fails instead.
import type { TestProject } from 'vitest/node';
import { labDown, labPreflight, labUp } from '../../src/lab/lab.js';
import { SHARED_LAB_DIR, SHARED_LAB_PORT_BASE } from './lab-constants.js';

declare module 'vitest' {
  export interface ProvidedContext {
    labConfig: string | null;
    labSkipReason: string | null;
  }
}

let started = false;

export default async function setup(project: TestProject) {
  const inCi = Boolean(process.env.CI);
  let reason: string | null = null;
  try {
    labPreflight();
  } catch (error) {
    reason = (error as Error).message;
  }
  if (reason) {
    if (inCi) throw new Error(`lab tests cannot run on CI: ${reason}`);
    process.stderr.write(`\n*** LAB TESTS SKIPPED: ${reason} ***\n\n`);
    project.provide('labConfig', null);
    project.provide('labSkipReason', reason);
    return;
  }
  await labDown({ dir: SHARED_LAB_DIR });
  const result = await labUp({ dir: SHARED_LAB_DIR, portBase: SHARED_LAB_PORT_BASE });
  started = true;
  project.provide('labConfig', result.state.config);
  project.provide('labSkipReason', null);
  return async () => {
    if (started) await labDown({ dir: SHARED_LAB_DIR });
  };
}
