import { randomUUID } from "node:crypto";
import { SEND_EXTRA_COMMANDS, TICK_COMMANDS } from "../cost/model.ts";
import type { ProbeResult } from "../result.ts";
import type { StatusDocument } from "../status/schema.ts";
import { collect, collectBlind } from "./collect.ts";
import { judge } from "./judge.ts";
import { decide, type Decision } from "./decide.ts";
import { publish } from "./publish.ts";
import { LOCK_MS, recall, remember, rememberDelivery } from "./remember.ts";
import { deliver, planDelivery } from "./deliver.ts";
import { recordTickTime, type SentinelState } from "./state.ts";
import type { TickDeps, TickOptions, TickReport } from "./types.ts";

export type { TickDeps, TickOptions, TickReport } from "./types.ts";

/**
 * One tick: the sentinel's whole scheduled work in one invocation, read as its phases, each in its
 * own module:
 *
 *   recall → collect → judge → decide → publish → remember → deliver → remember what was delivered
 *
 * It reads its memory (1 round trip), runs the probes that are due, decides with the results in
 * hand, writes its memory and the status document (1 round trip), then sends what it decided; when
 * something was owed, what the send settled is written once more. Manual runs go through here too,
 * naming the probes to run, so every result is judged the same way.
 */
export async function runTick(deps: TickDeps, options: TickOptions): Promise<TickReport> {
  const started = deps.now();
  const elapsed = () => deps.now().getTime() - started.getTime();
  const remaining = () => deps.settings.budgetMs - elapsed();

  let read;
  try {
    read = await recall(deps, { write: options.write, lockWaitMs: options.lockWaitMs ?? 0, token: randomUUID() });
  } catch (error) {
    return measureBlind(deps, options, started, remaining, error);
  }
  if (!read.locked) return { ...nothing(), skipped: "another tick holds the lock", skipReason: "locked" };
  if (read.damaged) deps.log.error("the stored tick state was unreadable; starting from a fresh one", {});

  try {
    const { state, silences } = read;
    const measured = await collect(deps, { state, only: options.probes, now: started, remainingMs: remaining() });
    const results = judge(state, measured, deps.now().getTime());
    const decision = decide(deps, state, { results, silences, now: started });
    const status = () => publish(deps, state, { silences, slos: decision.slos, now: started });
    const report = (doc: StatusDocument, extra: Partial<TickReport> = {}) => reportOf(state, results, decision, doc, extra);
    if (!options.write) return report(status());

    // A tick that overran its lock must not overwrite the memory of the tick that took it since.
    if (elapsed() > LOCK_MS - 2_000) {
      deps.log.error("tick overran its lock; results not stored", { elapsedMs: elapsed(), results });
      return report(status(), { lost: results.length });
    }
    const plan = planDelivery(deps, state, remaining);
    // The tick's run time up to its write, rolled up per day: what Netlify bills (`sentinel cost --measured`).
    state.tickTimes = recordTickTime(state.tickTimes, elapsed(), started.getTime());
    const committed = status();
    await remember(deps.store, { state, status: committed, keepLock: plan.recordOutcome });
    if (!plan.canSend) return report(committed, { unsent: plan.unsent, storeCommands: TICK_COMMANDS });

    const delivered = await deliver(deps, state, plan);
    if (!plan.recordOutcome) return report(committed, { delivered, unsent: plan.unsent, storeCommands: TICK_COMMANDS });
    const settled = status();
    await rememberDelivery(deps.store, { state, status: settled });
    return report(settled, { delivered, unsent: plan.unsent, storeCommands: TICK_COMMANDS + SEND_EXTRA_COMMANDS });
  } catch (error) {
    if (options.write) await deps.store.finish({}).catch(() => {});
    throw error;
  }
}

/**
 * The store could not be read: still run what this minute's schedules ask for, and write every result
 * whole to the function log, so nothing measured is lost; the next tick that reaches the store
 * records the gap.
 */
async function measureBlind(deps: TickDeps, options: TickOptions, now: Date, remaining: () => number, error: unknown): Promise<TickReport> {
  const message = (error instanceof Error ? error.message : String(error)).slice(0, 300);
  deps.log.error("the sentinel's store is unreachable; results go to the log", { error: message });
  const results = await collectBlind(deps, { only: options.probes, now, remainingMs: remaining() });
  for (const result of results) deps.log.error("result not stored", { result });
  return { ...nothing(), results, lost: options.write ? results.length : 0, skipped: `store unreachable: ${message}`, skipReason: "store-unreachable" };
}

/** A report of a tick that evaluated nothing. */
function nothing(): TickReport {
  return { results: [], lost: 0, slos: [], firing: [], notifications: [], delivered: 0, pending: 0, unsent: 0 };
}

/** The report of a tick that evaluated: what ran, what was decided, what is pending and firing now. */
function reportOf(state: SentinelState, results: ProbeResult[], decision: Decision, status: StatusDocument, extra: Partial<TickReport>): TickReport {
  return {
    results, lost: 0, slos: decision.slos, notifications: decision.notifications, delivered: 0, unsent: 0, status,
    pending: state.alerts.pending.length, firing: Object.values(state.alerts.alerts).filter((a) => a.firing), ...extra,
  };
}
