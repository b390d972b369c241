import { runsIn, weekMinutes } from "../schedule.ts";
import type { BeaconWork } from "../probes/types.ts";

/**
 * The per-probe topology's month (SENTINEL_TOPOLOGY=per-probe): each probe's runs are invocations of its
 * own function (netlify/probe-function.ts), each a tick of its own that takes the store's lock, reads,
 * writes; the tick fires every minute as before and only evaluates. Counted from the same cadences the
 * tick mode's projection uses, so the two shapes are compared on one configuration.
 */

/**
 * Run times when none is measured, for scale (the README's assumptions): the evaluation alone is one
 * invocation's fixed cost `O` (module load when cold, a read and a write round trip); a probe's own
 * function adds the probe's own time `P` (O = 0.15 s, P = 0.2 s).
 */
export const PER_PROBE_SECONDS = { evaluation: 0.15, probeRun: 0.35 } as const;
/** A run that finds the lock held tries again every 500 ms (shared/tick/remember.ts); each try is a begin of 3 commands. */
export const LOCK_RETRY_MS = 500;
export const BEGIN_COMMANDS = 3;
/** Store commands of one run that takes the lock at once and sends nothing (shared/tick/store.ts: begin 3, commit 1). */
export const RUN_COMMANDS = 4;

export interface PerProbeMonth {
  /** Invocations of each probe's function, `probe-<id>`. */
  invocations: Record<string, number>;
  probeRuns: number;
  /** Store commands: each probe run's own lock, read and write; the extra begins of the runs that waited. */
  storeCommands: { "probe functions": number; "lock waits": number };
  /** Billed seconds: the probe functions' runs, and the time runs firing in one minute wait their turn. */
  seconds: { probes: number; waits: number };
  /** Database connections: each probe function that touches the database opens its own. */
  sqlConnections: number;
}

/**
 * The probe functions' month. Waiting is the worst case, counted minute by minute: the `k` functions
 * firing in one minute (the tick among them) start together and take the lock in turn, each holding it
 * for `holdSeconds`, so the i-th waits i holds (k(k-1)/2 holds in all) and tries again every LOCK_RETRY_MS.
 */
export function perProbeMonth(input: {
  tickSchedule: string; schedules: Record<string, string>; beacon: Record<string, BeaconWork>; minutes: number; holdSeconds: number; probeSeconds: number;
  /** The run time given is a measured mean, which already holds the waits (a run records its time from before it asks for the lock): not added again. */
  waitsInRunTime: boolean;
}): PerProbeMonth {
  const invocations: Record<string, number> = {};
  let sqlConnections = 0;
  for (const [id, schedule] of Object.entries(input.schedules)) {
    const runs = runsIn(schedule, input.minutes);
    invocations[`probe-${id}`] = runs;
    const per = input.beacon[id];
    if (per && (per.sql > 0 || per.sqlConnects)) sqlConnections += runs;
  }
  const probeRuns = Object.values(invocations).reduce((a, b) => a + b, 0);
  const week = 7 * 1440;
  const marks = [input.tickSchedule, ...Object.values(input.schedules)].map((s) => weekMinutes(s));
  let waitHolds = 0;
  let retries = 0;
  for (let m = 0; m < input.minutes; m++) {
    let k = 0;
    for (const mark of marks) k += mark[m % week]!;
    for (let i = 1; i < k; i++) {
      waitHolds += i;
      retries += Math.ceil((i * input.holdSeconds * 1000) / LOCK_RETRY_MS);
    }
  }
  return {
    invocations, probeRuns,
    storeCommands: { "probe functions": probeRuns * RUN_COMMANDS, "lock waits": retries * BEGIN_COMMANDS },
    seconds: { probes: probeRuns * input.probeSeconds, waits: input.waitsInRunTime ? 0 : waitHolds * input.holdSeconds },
    sqlConnections,
  };
}
