import { check, type Check } from "../../result.ts";
import type { RegionRow } from "./query.ts";

/**
 * Restart-lost jobs. Beacon runs cross-region jobs (`POST /api/v1/jobs/cross-region`, status `queued`)
 * in an in-process goroutine, outside the outbox and the Redis queue: when the runner restarts, every
 * such job in flight stays `queued` for ever. A `queued` job created before the runner's current start
 * (`process_start_time_seconds`) can no longer be running anywhere.
 */

/** Said with every lost job: what an operator can do, and that Beacon itself offers nothing. */
export const RESTART_LOST_REMEDIATION =
  "Beacon has no remediation for this: nothing re-runs a cross-region job after a restart, and /admin/republish-job " +
  "would run it through the queue path instead (not the cross-region executor, so its cross_region_executions row is never " +
  "finished). Resubmit each job's spec through POST /api/v1/jobs/cross-region.";

export interface RunnerStart {
  /** The runner's start, epoch seconds; undefined when /metrics could not be read (then `error` says why). */
  startSeconds?: number;
  error?: string;
}

export function judgeRestartLost(rows: RegionRow[], start: RunnerStart, previousStartSeconds: number | undefined): Check {
  const queued = rows.filter((r) => r.kind === "queued" && r.value !== null).map((r) => ({ id: String(r.ids?.[0] ?? "?"), created: r.value! }));
  const name = "restart-lost";
  const threshold = "no job still queued from before the runner's start";
  if (start.startSeconds === undefined) {
    if (queued.length === 0) return check({ name, status: "pass", observed: 0, threshold, message: `no job in queued (the runner's start time is unknown: ${start.error ?? "not exported"})` });
    return check({ name, status: "error", observed: null, threshold, message: `${queued.length} jobs in queued, but the runner's start time could not be read: ${start.error ?? "process_start_time_seconds not exported"}`, evidence: queued.map((q) => `job ${q.id}`) });
  }
  const startIso = iso(start.startSeconds);
  const moved = previousStartSeconds !== undefined && start.startSeconds > previousStartSeconds;
  const restart = moved ? `the runner restarted at ${startIso} (previous start ${iso(previousStartSeconds!)})` : `the runner started at ${startIso}`;
  const lost = queued.filter((q) => q.created < start.startSeconds!);
  if (lost.length === 0) {
    return check({ name, status: "pass", observed: 0, threshold, message: `${restart}; ${queued.length ? `${queued.length} jobs in queued, all created since` : "no job in queued"}` });
  }
  return check({
    name, status: "fail", observed: lost.length, threshold,
    message: `${restart}; ${lost.length} cross-region jobs created before it are still queued: the in-process goroutine that ran them ended with the process. ${RESTART_LOST_REMEDIATION}`,
    evidence: lost.map((q) => `job ${q.id}: queued since ${iso(q.created)}, ${Math.round(start.startSeconds! - q.created)} s before the runner's start`),
  });
}

function iso(seconds: number): string {
  return `${new Date(Math.round(seconds * 1000)).toISOString().slice(0, 19)}Z`;
}
