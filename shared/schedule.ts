import { Cron } from "croner";

/**
 * Cron arithmetic, a primitive every layer may use: the tick asks which probes are due, the
 * configuration validates schedules, the cost model counts runs a month. The tick fires every minute; each probe keeps its own cron cadence
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

/**
 * The probes due at `now`, each with the slot it serves. A last slot later than the latest one means
 * the clock went back (a tick ran while it was ahead, then NTP corrected it): the probe is due now,
 * rather than silent until the clock catches up with the slot it stored.
 */
export function dueProbes(probes: Scheduled[], lastSlots: Record<string, string | undefined>, now: Date): { id: string; slot: string }[] {
  return probes.flatMap((p) => {
    const slot = latestSlot(p.schedule, now);
    if (!slot) return [];
    const last = lastSlots[p.id] === undefined ? undefined : Date.parse(lastSlots[p.id]!);
    const due = last === undefined || Number.isNaN(last) || last !== slot.getTime();
    return due ? [{ id: p.id, slot: slot.toISOString() }] : [];
  });
}

/** Slots of `schedule` strictly after `from` and up to `to`, capped (for counting runs a gap missed). */
export function slotsBetween(schedule: string, from: Date, to: Date, cap = 50_000): number {
  let n = 0;
  for (let at = cronOf(schedule).nextRun(from); at && at <= to && n < cap; at = cronOf(schedule).nextRun(at)) n++;
  return n;
}

/** Gaps up to this long are counted slot by slot; longer ones are estimated from the schedule's interval. */
const EXACT_GAP_MS = 2 * 3_600_000;

/**
 * Runs of `schedule` a gap (from, to] missed, for the sentinel's own monitoring: exact for a gap of up
 * to two hours, estimated from the interval beyond (walking a month of per-minute slots costs seconds
 * of the very tick that has just come back).
 */
export function missedRuns(schedule: string, from: Date, to: Date): number {
  const span = to.getTime() - from.getTime();
  if (span <= 0) return 0;
  if (span <= EXACT_GAP_MS) return slotsBetween(schedule, from, to);
  return Math.floor(span / intervalOf(schedule));
}

/** The gap between two runs of a cron schedule (the longest gap among the next few, for irregular ones). */
export function intervalOf(schedule: string): number {
  const cached = intervals.get(schedule);
  if (cached !== undefined) return cached;
  const runs = cronOf(schedule).nextRuns(8, new Date(Date.UTC(2026, 0, 1)));
  let longest = 0;
  for (let i = 1; i < runs.length; i++) longest = Math.max(longest, runs[i]!.getTime() - runs[i - 1]!.getTime());
  intervals.set(schedule, longest);
  return longest;
}
const intervals = new Map<string, number>();

const WEEK_MINUTES = 7 * 1440;
const runsCache = new Map<string, number>();

/**
 * Runs of `schedule` in `minutes` from the start of a week (Monday 1 June 2026, UTC). Whole weeks are
 * counted once and multiplied: a cron repeats weekly (day-of-month rules aside), and walking every
 * slot of a month for a per-minute cron is 43,200 steps.
 */
export function runsIn(schedule: string, minutes: number): number {
  const key = `${schedule}|${minutes}`;
  const cached = runsCache.get(key);
  if (cached !== undefined) return cached;
  const start = Date.UTC(2026, 5, 1) - 1;
  const count = (m: number) => slotsBetween(schedule, new Date(start), new Date(start + m * 60_000), Number.MAX_SAFE_INTEGER);
  const weeks = Math.floor(minutes / WEEK_MINUTES);
  const runs = weeks * (weeks > 0 ? count(WEEK_MINUTES) : 0) + count(minutes - weeks * WEEK_MINUTES);
  runsCache.set(key, runs);
  return runs;
}

/** Runs of `schedule` in a 30-day month (43,200 minutes). */
export function runsPerMonth(schedule: string): number {
  return runsIn(schedule, 43_200);
}

const weekCache = new Map<string, Uint8Array>();

/**
 * Which minutes of a week (from Monday 1 June 2026, UTC) have a slot of `schedule`: 1 where one does.
 * A month is laid over it minute by minute (minute m is week minute m mod 10,080) by the cost model,
 * to find when Beacon's database and runner are kept awake.
 */
export function weekMinutes(schedule: string): Uint8Array {
  const cached = weekCache.get(schedule);
  if (cached) return cached;
  const start = Date.UTC(2026, 5, 1);
  const marks = new Uint8Array(WEEK_MINUTES);
  const cron = cronOf(schedule);
  for (let at = cron.nextRun(new Date(start - 1)); at && at.getTime() < start + WEEK_MINUTES * 60_000; at = cron.nextRun(at)) {
    marks[Math.floor((at.getTime() - start) / 60_000)] = 1;
  }
  weekCache.set(schedule, marks);
  return marks;
}
