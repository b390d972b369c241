import { z } from "zod";

/** Building blocks of probe settings schemas, so every probe spells its units and bounds alike. */

/** Whole-probe budget in ms, inside Netlify's 30 s limit for scheduled functions (so at most 28 s). */
export const probeTimeoutMs = (fallback: number) => z.number().int().positive().max(28_000).default(fallback);

/** A positive duration in seconds. */
export const seconds = (fallback: number) => z.number().positive().default(fallback);

/** A count of items, zero allowed. */
export const count = (fallback: number) => z.number().int().nonnegative().default(fallback);
