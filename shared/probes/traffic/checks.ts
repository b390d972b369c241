import { check, type Check, type EventCounts } from "../../result.ts";
import { statusClass, type Reading } from "./counters.ts";
import type { TrafficSettings } from "./settings.ts";

/** The checks derived from counters, in a stable order. */
export const DERIVED_CHECKS = ["requests", "5xx-ratio", "job-success", "queue-latency"] as const;

/** Every derived check with the same non-measurement (scrape failed, or a baseline run). */
export function unmeasured(status: "pass" | "error", message: string): Check[] {
  return DERIVED_CHECKS.map((name) => check({ name, status, observed: null, threshold: null, message }));
}

export interface Window {
  deltas: Record<string, number>;
  /** Human description of the window, e.g. "since 2025-01-01T00:00:00.000Z (300 s)". */
  since: string;
  reading: Reading;
}

/** Checks and SLI events from counter increases. Counts are rounded: the SLO store keeps integers. */
export function judgeWindow(w: Window, s: TrafficSettings): { checks: Check[]; events: Record<string, EventCounts> } {
  const events: Record<string, EventCounts> = {};
  const checks: Check[] = [];

  // Requests by status class, and the 5xx share.
  const byClass = new Map<string, number>();
  const serverErrors = new Map<string, number>();
  for (const [key, delta] of Object.entries(w.deltas)) {
    if (!key.startsWith("req|") || delta <= 0) continue;
    const [, status = "", path] = key.split("|");
    const cls = statusClass(status);
    byClass.set(cls, (byClass.get(cls) ?? 0) + delta);
    if (path !== undefined) serverErrors.set(`${path} -> ${status}`, (serverErrors.get(`${path} -> ${status}`) ?? 0) + delta);
  }
  const total = Math.round(sum(byClass.values()));
  const bad = Math.min(total, Math.round(byClass.get("5xx") ?? 0));
  events.requests = { good: total - bad, total };
  const breakdown = [...byClass.entries()].sort().map(([c, n]) => `${c} ${Math.round(n)}`).join(", ") || "none";
  checks.push(check({ name: "requests", status: "pass", observed: total, threshold: null, message: `${total} requests ${w.since}: ${breakdown}` }));

  const ratio = total > 0 ? bad / total : null;
  const judged = total >= s.minRequests;
  const failing = judged && ratio !== null && ratio > s.max5xxRatio;
  checks.push(
    check({
      name: "5xx-ratio", status: failing ? "fail" : "pass", observed: ratio, threshold: `<= ${s.max5xxRatio}`,
      message: ratio === null ? `no requests ${w.since}` : `${bad} of ${total} requests answered 5xx ${w.since}${judged ? "" : ` (fewer than ${s.minRequests}: not judged)`}`,
      evidence: failing ? [...serverErrors.entries()].sort((a, b) => b[1] - a[1]).map(([route, n]) => `${route}: ${Math.round(n)}`) : [],
    }),
  );

  // Jobs processed successfully vs failed.
  if (!w.reading.hasJobCounters) {
    checks.push(check({ name: "job-success", status: "error", observed: null, threshold: `>= ${s.minJobSuccessRatio}`,
      message: `not measured: ${s.metrics.jobsProcessed} or ${s.metrics.jobsFailed} is not exported` }));
  } else {
    const ok = Math.round(w.deltas["jobs|processed"] ?? 0);
    const failed = Math.round(w.deltas["jobs|failed"] ?? 0);
    events.jobs = { good: ok, total: ok + failed };
    checks.push(ratioCheck("job-success", ok, ok + failed, s.minJobSuccessRatio, s.minJobs,
      `${ok} jobs processed, ${failed} failed ${w.since}`, failed > 0 ? [`${s.metrics.jobsFailed} +${failed}`, `${s.metrics.jobsProcessed} +${ok}`] : []));
  }

  // Share of jobs picked up within the latency target.
  const le = w.reading.latencyLe;
  if (le === null && Object.keys(w.reading.series).some((k) => k.startsWith("lat|"))) {
    checks.push(check({ name: "queue-latency", status: "error", observed: null, threshold: `<= ${s.queueLatencyTargetSeconds} s`,
      message: `not measured: ${s.metrics.queueLatency} has no bucket <= ${s.queueLatencyTargetSeconds} s` }));
  } else {
    const regions = new Map<string, { good: number; total: number }>();
    for (const [key, delta] of Object.entries(w.deltas)) {
      const [kind, which, region = ""] = key.split("|");
      if (kind !== "lat") continue;
      const r = regions.get(region) ?? { good: 0, total: 0 };
      r[which === "good" ? "good" : "total"] += delta;
      regions.set(region, r);
    }
    const all = Math.round(sum([...regions.values()].map((r) => r.total)));
    const good = Math.min(all, Math.round(sum([...regions.values()].map((r) => r.good))));
    // Only a bucket at the target itself measures the SLI. Beacon's default buckets stop at 10 s, and a
    // job picked up in 15 s is then indistinguishable from one picked up in 15 minutes: the share within
    // 10 s is only a lower bound, so it neither feeds the processing-time SLO (which then falls back to
    // the canary's start latency) nor fails, it warns.
    const exact = le === s.queueLatencyTargetSeconds;
    if (exact) events["queue-latency"] = { good, total: all };
    const bucket = le === null ? "" : exact ? ` (bucket le="${le}")`
      : ` (bucket le="${le}", the largest <= ${s.queueLatencyTargetSeconds} s: a lower bound, so at most a warning, and not an SLO source)`;
    const evidence = [...regions.entries()].filter(([, r]) => r.good < r.total).map(([region, r]) =>
      `region ${region || "(none)"}: ${Math.round(r.total - r.good)} of ${Math.round(r.total)} waited > ${le} s`);
    const latency = ratioCheck("queue-latency", good, all, s.minQueueLatencyRatio, s.minJobs,
      `${good} of ${all} jobs picked up within ${le ?? s.queueLatencyTargetSeconds} s ${w.since}${bucket}`, evidence);
    checks.push(!exact && latency.status === "fail" ? { ...latency, status: "warn" } : latency);
  }
  return { checks, events };
}

function ratioCheck(name: string, good: number, total: number, min: number, minEvents: number, message: string, evidence: string[]): Check {
  const ratio = total > 0 ? good / total : null;
  const judged = total >= minEvents;
  const failing = judged && ratio !== null && ratio < min;
  const note = total > 0 && !judged ? ` (fewer than ${minEvents}: not judged)` : "";
  return check({ name, status: failing ? "fail" : "pass", observed: ratio, threshold: `>= ${min}`, message: message + note, evidence: failing ? evidence : [] });
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}
