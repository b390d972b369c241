import { worstStatus } from "../result.ts";
import type { HistoryEntry } from "../store/results.ts";
import type { TimelineSlot } from "./schema.ts";

/** The timeline covers a day in 96 slots of 15 minutes: fine enough to see an incident, small to send. */
export const TIMELINE_MS = 24 * 60 * 60 * 1000;
export const TIMELINE_SLOTS = 96;

/** Folds compact history entries (any order) into equal slots ending at `now`, oldest first. */
export function buildTimeline(history: HistoryEntry[], now: Date, spanMs = TIMELINE_MS, slots = TIMELINE_SLOTS): TimelineSlot[] {
  const slotMs = spanMs / slots;
  const start = now.getTime() - spanMs;
  const buckets: HistoryEntry[][] = Array.from({ length: slots }, () => []);
  for (const entry of history) {
    const t = Date.parse(entry.t);
    if (!Number.isFinite(t) || t < start || t > now.getTime()) continue;
    buckets[Math.min(slots - 1, Math.floor((t - start) / slotMs))]!.push(entry);
  }
  return buckets.map((entries, i) => {
    const durations = entries.map((e) => e.d).sort((a, b) => a - b);
    return {
      start: new Date(start + i * slotMs).toISOString(),
      state: entries.length ? worstStatus(entries.map((e) => e.s)) : "unknown",
      runs: entries.length,
      notPassing: entries.filter((e) => e.s !== "pass").length,
      p50Ms: durations.length ? durations[Math.floor((durations.length - 1) / 2)]! : null,
      maxMs: durations.length ? durations[durations.length - 1]! : null,
    };
  });
}
