// Test labs live apart from a developer's own lab (/var/lib/opsdeck-lab, ports 3444+). Two
// checkouts testing at once on one machine give each its own: OPSDECK_TEST_LAB_DIR and
// OPSDECK_TEST_PORT_BASE (private labs of single tests are offset from the same base).
export const SHARED_LAB_DIR = process.env.OPSDECK_TEST_LAB_DIR ?? '/var/lib/opsdeck-lab-test';
export const SHARED_LAB_PORT_BASE = Number(process.env.OPSDECK_TEST_PORT_BASE ?? 13444);
/** A private lab's port base: the shared base plus an offset of the test's own. */
export function privatePortBase(offset: number): number {
  return SHARED_LAB_PORT_BASE + offset;
}
