// Lab test files run at once: each has its own port range, never overlapping another's.
import { describe, expect, it } from 'vitest';
import { PORT_OFFSETS } from '../support/lab-constants.js';

describe('the lab tests\' port offsets', () => {
  it('leave every file a range of its own (a lab takes its base and up to ten ports after it)', () => {
    const offsets = Object.values(PORT_OFFSETS).sort((a, b) => a - b);
    for (let i = 1; i < offsets.length; i++) expect(offsets[i]! - offsets[i - 1]!).toBeGreaterThan(20);
  });
});
