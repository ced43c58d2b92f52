// Test labs live apart from a developer's own lab (/var/lib/opsdeck-lab, ports 3444+). Two
// checkouts testing at once on one machine give each its own: OPSDECK_TEST_LAB_DIR and
// OPSDECK_TEST_PORT_BASE (private labs of single tests are offset from the same base).
export const SHARED_LAB_DIR = process.env.OPSDECK_TEST_LAB_DIR ?? '/var/lib/opsdeck-lab-test';
export const SHARED_LAB_PORT_BASE = Number(process.env.OPSDECK_TEST_PORT_BASE ?? 13444);
/**
 * Each test file's own port offset: a lab takes its base and the ports after it (up to +10), a
 * file's own listeners a few more. Two files alike would collide whenever they run at once.
 */
export const PORT_OFFSETS = {
  e2e: 1000,
  actions: 2000,
  doctorFindings: 3000,
  ops: 4000,
  e2eOps: 5000,
  backups: 6000,
  backupFaults: 7000,
  adopt: 8000,
  doctorFixes: 9000,
  doctorChecks: 10_000,
  lifecycle: 11_000,
  hostileNames: 12_000,
} as const;

/** A private lab's port base: the shared base plus an offset of the test's own. */
export function privatePortBase(offset: number): number {
  return SHARED_LAB_PORT_BASE + offset;
}
