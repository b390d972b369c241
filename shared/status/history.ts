import { z } from "zod";
import { CheckStatus } from "../result.ts";

/**
 * A probe's past as the tick keeps it (shared/tick/state.ts) and the status document draws it: a
 * history line per run and a timeline pre-aggregated in slots as results arrive. Defined here, by the
 * reader, so the tick writes what the page knows how to show.
 */

/** One line of a probe's history: what the status page lists as recent runs. */
export const HistoryEntry = z.object({
  t: z.string(),
  s: CheckStatus,
  d: z.number(),
  /** Names of the checks that were not passing. */
  f: z.array(z.string()),
});
export type HistoryEntry = z.infer<typeof HistoryEntry>;

/**
 * A timeline slot pre-aggregated as runs arrive: index since the epoch, worst status, runs, not passing,
 * and the runs' durations rolled up as their total and longest (`t`, `x`, ms), so a slot is the same
 * six numbers whether one run or fifteen landed in it. A state written before the roll-up kept every
 * duration (`d`); it is read as its total and longest.
 */
export const TimelineBucket = z
  .object({
    i: z.number().int(),
    s: CheckStatus,
    r: z.number().int().nonnegative(),
    n: z.number().int().nonnegative(),
    t: z.number().nonnegative().optional(),
    x: z.number().nonnegative().optional(),
    d: z.array(z.number()).optional(),
  })
  .transform(({ i, s, r, n, t, x, d }) => ({ i, s, r, n, t: t ?? (d ?? []).reduce((a, b) => a + b, 0), x: x ?? Math.max(0, ...(d ?? [])) }));
export type TimelineBucket = z.infer<typeof TimelineBucket>;

/** The timeline covers a day in 96 slots of 15 minutes: fine enough to see an incident, small to send. */
export const TIMELINE_SLOT_MS = 15 * 60_000;
export const TIMELINE_SLOTS = 96;
