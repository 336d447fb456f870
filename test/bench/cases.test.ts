/** How many unique placeOrder requests the bench signs before a measured run (scripts/bench/cases.ts). */
import { expect, it } from 'vitest';
import { uniquePoolSize } from '../../scripts/bench/cases.js';

it('sizes the pool for the floor’s rate when the warm-up ran slower than the measurement will', () => {
  // A full run on 2026-12-02: warm-up 265 req/s, floor 1,035 req/s, then 570 req/s for 20 s.
  expect(uniquePoolSize(265, 20)).toBeLessThan(570 * 20);
  expect(uniquePoolSize(265, 20, 1035)).toBe(Math.ceil(1035 * 20 * 1.6) + 200);
  expect(uniquePoolSize(265, 20, 1035)).toBeGreaterThan(570 * 20);
});

it('sizes it for the warm-up when that is the faster, and never below the minimum', () => {
  expect(uniquePoolSize(700, 20, 500)).toBe(Math.ceil(700 * 20 * 1.6) + 200);
  expect(uniquePoolSize(0, 2)).toBe(500);
});
