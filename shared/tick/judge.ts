import type { ProbeResult } from "../result.ts";
import type { Measured } from "./collect.ts";
import { ProbeMemory, remember as foldResult, type SentinelState } from "./state.ts";

/**
 * Judge: each result becomes its probe's record in the tick's memory: the latest result, a history
 * line, its timeline slot, the state a stateful probe keeps, and the slot it served (so it is not due
 * again until the next one). Returns the results in run order, for the decision.
 */
export function judge(state: SentinelState, measured: Measured[], nowMs: number): ProbeResult[] {
  for (const m of measured) {
    const memory = foldResult(state.probes[m.probe.id] ?? ProbeMemory.parse({}), m.result, m.state, nowMs);
    if (m.slot) memory.lastSlot = m.slot;
    state.probes[m.probe.id] = memory;
  }
  return measured.map((m) => m.result);
}
