import { TIMELINE_SLOT_MS, TIMELINE_SLOTS, type TimelineBucket } from "./history.ts";
import type { TimelineSlot } from "./schema.ts";

/**
 * A probe's last 24 hours as the status document draws them: 96 slots of 15 minutes on a fixed grid,
 * the last one holding `now`, oldest first. The buckets were aggregated by the tick as results came
 * in (shared/tick/state.ts `remember`), so building this reads nothing.
 */
export function buildTimeline(buckets: TimelineBucket[], now: Date): TimelineSlot[] {
  const last = Math.floor(now.getTime() / TIMELINE_SLOT_MS);
  const byIndex = new Map(buckets.map((b) => [b.i, b]));
  return Array.from({ length: TIMELINE_SLOTS }, (_, k) => {
    const i = last - TIMELINE_SLOTS + 1 + k;
    const b = byIndex.get(i);
    return {
      start: new Date(i * TIMELINE_SLOT_MS).toISOString(),
      state: b ? b.s : "unknown",
      runs: b?.r ?? 0,
      notPassing: b?.n ?? 0,
      meanMs: b && b.r > 0 ? Math.round(b.t / b.r) : null,
      maxMs: b && b.r > 0 ? b.x : null,
    };
  });
}
