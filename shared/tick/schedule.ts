import { Cron } from "croner";

/**
 * Which probes a tick runs. The tick fires every minute; each probe keeps its own cron cadence
 * (`schedules` in SENTINEL_SETTINGS, defaulting to the probe's own). A probe is due when a slot of
 * its cron has come since the slot it last ran for, so a late or skipped tick catches up with one
 * run, never a burst.
 */

export interface Scheduled {
  id: string;
  schedule: string;
}

const crons = new Map<string, Cron>();
function cronOf(schedule: string): Cron {
  let cron = crons.get(schedule);
  if (!cron) crons.set(schedule, (cron = new Cron(schedule, { timezone: "UTC", paused: true })));
  return cron;
}

/** Whether `schedule` is a cron expression croner accepts (5 or 6 fields, or @hourly and friends). */
export function validSchedule(schedule: string): boolean {
  try {
    cronOf(schedule);
    return true;
  } catch {
    return false;
  }
}

/** The latest slot of `schedule` at or before `now` (ms resolution), or undefined if none in the last 32 days. */
export function latestSlot(schedule: string, now: Date): Date | undefined {
  // croner's previousRuns works to the second and excludes the reference: a tick at 10:05:00.300 serves the 10:05 slot.
  return cronOf(schedule).previousRuns(1, new Date(Math.floor(now.getTime() / 1000) * 1000 + 1000))[0];
}

/** The probes due at `now`, each with the slot it serves. */
export function dueProbes(probes: Scheduled[], lastSlots: Record<string, string | undefined>, now: Date): { id: string; slot: string }[] {
  return probes.flatMap((p) => {
    const slot = latestSlot(p.schedule, now);
    if (!slot) return [];
    const last = lastSlots[p.id];
    return last === undefined || Date.parse(last) < slot.getTime() ? [{ id: p.id, slot: slot.toISOString() }] : [];
  });
}

/** Slots of `schedule` strictly after `from` and up to `to`, capped (for counting runs a gap missed). */
export function slotsBetween(schedule: string, from: Date, to: Date, cap = 50_000): number {
  let n = 0;
  for (let at = cronOf(schedule).nextRun(from); at && at <= to && n < cap; at = cronOf(schedule).nextRun(at)) n++;
  return n;
}

/** The gap between two runs of a cron schedule (the longest gap among the next few, for irregular ones). */
export function intervalOf(schedule: string): number {
  const runs = cronOf(schedule).nextRuns(8, new Date(Date.UTC(2026, 0, 1)));
  let longest = 0;
  for (let i = 1; i < runs.length; i++) longest = Math.max(longest, runs[i]!.getTime() - runs[i - 1]!.getTime());
  return longest;
}

/** Runs of `schedule` in a 30-day month (43,200 minutes), counted over a real month of the calendar. */
export function runsPerMonth(schedule: string): number {
  const from = new Date(Date.UTC(2026, 5, 1) - 1);
  return slotsBetween(schedule, from, new Date(Date.UTC(2026, 6, 1) - 1));
}
