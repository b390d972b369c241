import { z } from "zod";

/** Building blocks of probe settings schemas, so every probe spells its units and bounds alike. */

/** Whole-probe budget in ms, inside Netlify's 30 s limit for scheduled functions (so at most 28 s). */
export const probeTimeoutMs = (fallback: number) => z.number().int().positive().max(28_000).default(fallback);

/** A positive duration in seconds. */
export const seconds = (fallback: number) => z.number().positive().default(fallback);

/** A count of items, zero allowed. */
export const count = (fallback: number) => z.number().int().nonnegative().default(fallback);

/**
 * A look-back window at least `runs` times the gap between two runs under `beacon.database.everyMinutes`
 * (a first run's window, a high-water mark's furthest reach): a probe slowed to let Neon sleep still
 * counts everything that happened since its last run.
 */
export function coveringGapSeconds(seconds: number, beacon: { database: { everyMinutes?: number | undefined } }, runs = 1): number {
  const every = beacon.database.everyMinutes;
  return every === undefined ? seconds : Math.max(seconds, runs * every * 60);
}
