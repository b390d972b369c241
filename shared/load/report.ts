import type { JobSighting } from "./follow.ts";

/** One submitted job as the load run tracked it. */
export interface LoadJob {
  id: string;
  /** Order of submission (0-based). */
  index: number;
  accepted: boolean;
  /** HTTP status or failure kind plus Beacon's error code, for refused submits. */
  refusal?: string;
  submittedMs: number;
  seen?: JobSighting;
}

export interface LoadReport {
  target: string;
  runId: string;
  requested: { jobs: number; concurrency: number };
  durationSeconds: number;
  stoppedBy: "done" | "time limit";
  submitted: { accepted: number; rejected: number; rejections: Record<string, number>; acceptedPerSecond: number };
  /** Seconds from job creation to its first execution start; null when nothing started. */
  startSeconds: { count: number; p50: number; p95: number; p99: number; max: number } | null;
  completed: number;
  failed: number;
  /** Accepted jobs not finished when the run stopped, by last status ("missing": no job row). */
  unfinished: Record<string, number>;
  /** Unfinished jobs nothing will pick up: no job row, or `created` while the queue had drained. */
  lost: number;
  /** Jobs whose work was done twice: extra executions, or more runner pickups than jobs (from /metrics). */
  duplicated: { jobs: number; extraPickups: number | null };
  queue: { peakDepth: number | null; source: "redis" | "admin" | null; samples: number };
  /** Most of this run's accepted jobs waiting to start at once (always measured). */
  peakWaiting: number;
  /** Pairs of jobs started in the reverse of their creation order (RPUSH + BRPOP makes Beacon LIFO). */
  order: { inversions: number; pairs: number; verdict: "FIFO" | "LIFO" | "mixed" | "n/a" };
  memory: { heapAllocBytes: { first: number; peak: number; last: number } } | null;
  slo: { thresholdSeconds: number; target: number; withinThreshold: number | null; breached: boolean };
  /** Everything that makes the run a failure (exit code 1), in words. */
  findings: string[];
}

/** Nearest-rank percentile of an ascending list. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Pairs (a created before b) where b started before a: 0 for a perfect FIFO, all pairs for LIFO. */
export function inversions(jobs: { createdMs: number; startedMs: number }[]): { inversions: number; pairs: number } {
  const sorted = [...jobs].sort((a, b) => a.createdMs - b.createdMs);
  let count = 0;
  let pairs = 0;
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) {
      if (sorted[i]!.createdMs === sorted[j]!.createdMs) continue;
      pairs++;
      if (sorted[j]!.startedMs < sorted[i]!.startedMs) count++;
    }
  }
  return { inversions: count, pairs };
}

export interface Measures {
  target: string;
  runId: string;
  requested: { jobs: number; concurrency: number };
  durationSeconds: number;
  submitSeconds: number;
  stoppedBy: LoadReport["stoppedBy"];
  queue: LoadReport["queue"];
  lastDepth: number | null;
  peakWaiting: number;
  heap: number[];
  /** `runner_queue_latency_seconds_count` before and after; null when not attributable to this run. */
  pickups: { first: number; last: number } | null;
  slo: { thresholdSeconds: number; target: number };
}

/** The report of a finished run. Pure. */
export function buildReport(jobs: LoadJob[], m: Measures): LoadReport {
  const accepted = jobs.filter((j) => j.accepted);
  const rejections: Record<string, number> = {};
  for (const j of jobs) if (!j.accepted) rejections[j.refusal ?? "unknown"] = (rejections[j.refusal ?? "unknown"] ?? 0) + 1;
  const started = accepted.flatMap((j) => (j.seen?.startedMs !== undefined ? [{ createdMs: j.seen.createdMs, startedMs: j.seen.startedMs }] : []));
  const waits = started.map((s) => Math.max(0, (s.startedMs - s.createdMs) / 1000)).sort((a, b) => a - b);
  const done = (status: string) => accepted.filter((j) => j.seen?.status === status).length;
  const unfinished: Record<string, number> = {};
  let lost = 0;
  for (const j of accepted) {
    const status = j.seen?.status ?? "missing";
    if (status === "completed" || status === "failed") continue;
    unfinished[status] = (unfinished[status] ?? 0) + 1;
    if (status === "missing" || (status === "created" && m.lastDepth === 0)) lost++;
  }
  const dupJobs = accepted.filter((j) => (j.seen?.duplicateExecutions ?? 0) > 0).length;
  const extraPickups = m.pickups ? Math.max(0, m.pickups.last - m.pickups.first - accepted.length) : null;
  const order = inversions(started);
  const ratio = order.pairs ? order.inversions / order.pairs : Number.NaN;
  const within = waits.length ? waits.filter((w) => w <= m.slo.thresholdSeconds).length / accepted.length : null;
  const report: LoadReport = {
    target: m.target, runId: m.runId, requested: m.requested, durationSeconds: m.durationSeconds, stoppedBy: m.stoppedBy,
    submitted: { accepted: accepted.length, rejected: jobs.length - accepted.length, rejections, acceptedPerSecond: m.submitSeconds > 0 ? accepted.length / m.submitSeconds : 0 },
    startSeconds: waits.length ? { count: waits.length, p50: percentile(waits, 50), p95: percentile(waits, 95), p99: percentile(waits, 99), max: waits.at(-1)! } : null,
    completed: done("completed"), failed: done("failed"), unfinished, lost,
    duplicated: { jobs: dupJobs, extraPickups },
    queue: m.queue, peakWaiting: m.peakWaiting,
    order: { ...order, verdict: !order.pairs ? "n/a" : ratio <= 0.25 ? "FIFO" : ratio >= 0.75 ? "LIFO" : "mixed" },
    memory: m.heap.length ? { heapAllocBytes: { first: m.heap[0]!, peak: Math.max(...m.heap), last: m.heap.at(-1)! } } : null,
    slo: { ...m.slo, withinThreshold: within, breached: within !== null && within < m.slo.target },
    findings: [],
  };
  report.findings = findingsOf(report);
  return report;
}

function findingsOf(r: LoadReport): string[] {
  const out: string[] = [];
  if (r.submitted.rejected) out.push(`${r.submitted.rejected} submissions rejected (${Object.entries(r.submitted.rejections).map(([k, n]) => `${k}: ${n}`).join(", ")})`);
  if (r.failed) out.push(`${r.failed} jobs failed`);
  if (r.lost) out.push(`${r.lost} jobs lost (accepted, then never picked up)`);
  const open = Object.values(r.unfinished).reduce((a, b) => a + b, 0) - r.lost;
  if (open > 0) out.push(`${open} jobs unfinished when the run stopped (${r.stoppedBy})`);
  if (r.duplicated.jobs || r.duplicated.extraPickups) out.push(`work done twice: ${r.duplicated.jobs} jobs with duplicate executions, ${r.duplicated.extraPickups ?? "?"} extra pickups`);
  if (r.slo.breached) out.push(`processing-time SLO breached: ${pct(r.slo.withinThreshold!)} started within ${r.slo.thresholdSeconds} s (target ${pct(r.slo.target)})`);
  return out;
}

export const pct = (x: number) => `${+(x * 100).toFixed(1)}%`;
