// Test labs live apart from a developer's own lab (/var/lib/opsdeck-lab, ports 3444+).
export const SHARED_LAB_DIR = '/var/lib/opsdeck-lab-test';
export const SHARED_LAB_PORT_BASE = 13444;
