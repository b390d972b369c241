import { z } from "zod";

/** The scheduled tick that runs due probes and evaluates (netlify/tick.ts). */
export const TickSettings = z.object({
  /** The function's own budget, under Netlify's 30 s limit for scheduled functions. */
  budgetMs: z.number().int().min(5_000).max(28_000).default(25_000),
  /**
   * Most a probe may take inside a tick (its own timeoutMs applies when lower): each probe's own
   * deadline, past which it is that probe's `error`. The default fits the budget beside the send's
   * 12 s and `writeReserveMs` (25 - 12 - 3); it was 12 s, so one slow probe left no time to send.
   */
  probeBudgetMs: z.number().int().min(1_000).max(20_000).default(10_000),
  /** Kept after the probes for judging, deciding and the tick's writes, beside the send's own budget: no probe's deadline eats into either. */
  writeReserveMs: z.number().int().min(1_000).max(8_000).default(3_000),
  /** Timeout of one request to the sentinel's store (one retry on network errors). */
  storeTimeoutMs: z.number().int().min(200).max(10_000).default(2_500),
  /** Most pending notifications kept; older overflow is folded into one summary, never dropped silently. */
  pendingCap: z.number().int().min(5).max(1_000).default(50),
});
export type TickSettings = z.infer<typeof TickSettings>;
