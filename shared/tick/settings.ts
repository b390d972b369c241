import { z } from "zod";

/** The scheduled tick that runs due probes and evaluates (netlify/tick.ts). */
export const TickSettings = z.object({
  /** The function's own budget, under Netlify's 30 s limit for scheduled functions. */
  budgetMs: z.number().int().min(5_000).max(28_000).default(25_000),
  /** Most a probe may take inside a tick (its own timeoutMs applies when lower). */
  probeBudgetMs: z.number().int().min(1_000).max(20_000).default(12_000),
  /** Timeout of one request to the sentinel's store (one retry on network errors). */
  storeTimeoutMs: z.number().int().min(200).max(10_000).default(2_500),
  /** Most pending notifications kept; older overflow is folded into one summary, never dropped silently. */
  pendingCap: z.number().int().min(5).max(1_000).default(50),
});
export type TickSettings = z.infer<typeof TickSettings>;
