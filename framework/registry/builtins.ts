/**
 * The built-in drivers, listed explicitly (no folder scan: one broken driver must not break the rest).
 * Each entry is tiny; `create` imports the heavy module only when the driver is used, so
 * `vsperf --list` stays fast.
 */
import type { Registry } from './registry.js';

export function registerBuiltins(r: Registry): void {
  r.add({
    kind: 'trafficgen',
    name: 'Simulated',
    aliases: ['Dummy'],
    summary: 'Simulated DUT and generator (computed, not measured: results are labelled simulated)',
    create: async (ctx) => (await import('../../trafficgen/simulated/driver.js')).createSimulated(ctx),
  });
  // --- builtins added by each area below (keep one block per area) ---
}
