import type { TickOptions } from "./types.ts";

/**
 * The runs of the per-probe topology (SENTINEL_TOPOLOGY=per-probe; netlify/probe-function.ts): each
 * probe's own function runs a tick of just that probe, and the scheduled tick only evaluates. Both are
 * ticks over the one memory, so they take turns for the store's lock.
 */

/** What bounds a run: the tick's budget and what it keeps for its probes, its write and its send (TickSettings, the channels' send budget). */
export interface RunBudget {
  budgetMs: number;
  probeBudgetMs: number;
  writeReserveMs: number;
  sendBudgetMs: number;
}

/**
 * How long a run waits for the lock, from what it must still do once it holds it: a probe's whole
 * deadline and the write ("probe"), or the send (with its 2 s margin, deliver.ts) and the write
 * ("evaluation"). Inside the budget, so a run that waited the longest still gets its full deadline and
 * never overruns its lock. At defaults 25 - 10 - 3 = 12 s for a probe (the eight runs firing in one
 * minute, each holding the lock well under a second, take turns inside it) and 25 - 14 - 3 = 8 s for
 * the evaluation.
 */
export function lockWaitFor(b: RunBudget, run: "probe" | "evaluation"): number {
  const after = run === "probe" ? b.probeBudgetMs : b.sendBudgetMs + 2_000;
  return Math.max(0, b.budgetMs - after - b.writeReserveMs);
}

/**
 * A probe's own function: that probe only, and only when its slot is due (a call with nothing due runs
 * no probe), waiting its turn for the lock; what it decides is queued for the tick to send.
 */
export function probeFunctionRun(id: string, b: RunBudget): TickOptions {
  return { write: true, dueOnly: [id], send: false, lockWaitMs: lockWaitFor(b, "probe") };
}

/** The tick of the per-probe topology: no probe; missing results, SLOs and alerts evaluated, and what is owed sent. */
export function evaluationRun(b: RunBudget): TickOptions {
  return { write: true, dueOnly: [], lockWaitMs: lockWaitFor(b, "evaluation") };
}
