import { describe, expect, it } from "vitest";
import { buildReport, inversions, percentile, type LoadJob, type Measures } from "../shared/load/report.ts";
import { formatReport, progressLine } from "../shared/load/format.ts";

const measures = (over: Partial<Measures> = {}): Measures => ({
  target: "http://127.0.0.1:8080", runId: "abc123", requested: { jobs: 4, concurrency: 2 }, durationSeconds: 10, submitSeconds: 2,
  stoppedBy: "done", queue: { peakDepth: 3, source: "redis", samples: 5 }, lastDepth: 0, peakWaiting: 3, heap: [10, 30, 20],
  pickups: { first: 100, last: 104 }, slo: { thresholdSeconds: 2, target: 0.75 }, ...over,
});

const job = (index: number, seen?: LoadJob["seen"], accepted = true): LoadJob => ({ id: `j${index}`, index, accepted, submittedMs: 1000 + index, ...(seen ? { seen } : {}) });
const done = (createdMs: number, startedMs: number, extra: Partial<NonNullable<LoadJob["seen"]>> = {}) =>
  ({ status: "completed", createdMs, startedMs, executions: 1, duplicateExecutions: 0, ...extra });

describe("load report arithmetic", () => {
  it.each([
    ["p50 of 1..10", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50, 5],
    ["p95 of 1..10", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95, 10],
    ["p99 of one value", [4], 99, 4],
    ["p0 is the minimum", [2, 3], 0, 2],
  ])("percentile: %s", (_name, sorted, p, expected) => {
    expect(percentile(sorted, p)).toBe(expected);
  });

  it.each([
    ["FIFO: started in creation order", [[1, 10], [2, 11], [3, 12]], 0, 3],
    ["LIFO: newest first", [[1, 12], [2, 11], [3, 10]], 3, 3],
    ["one pair swapped", [[1, 10], [2, 12], [3, 11]], 1, 3],
    ["equal creation times are not a pair", [[1, 10], [1, 9]], 0, 0],
  ])("inversions: %s", (_name, pairs, expected, total) => {
    expect(inversions(pairs.map(([createdMs, startedMs]) => ({ createdMs: createdMs!, startedMs: startedMs! })))).toEqual({ inversions: expected, pairs: total });
  });
});

describe("buildReport", () => {
  it("tells lost jobs (nothing left to pick them up) from unfinished ones, and counts duplicates and extra pickups", () => {
    const jobs = [job(0, done(0, 1000)), job(1, done(0, 3000, { duplicateExecutions: 1, executions: 2 })), job(2, { status: "created", createdMs: 0, executions: 0, duplicateExecutions: 0 }), job(3), job(4, undefined, false)];
    jobs[4]!.refusal = "400 trust_violation:unknown";
    const r = buildReport(jobs, measures());
    expect(r.submitted).toEqual({ accepted: 4, rejected: 1, rejections: { "400 trust_violation:unknown": 1 }, acceptedPerSecond: 2 });
    expect(r).toMatchObject({ completed: 2, unfinished: { created: 1, missing: 1 }, lost: 2, duplicated: { jobs: 1, extraPickups: 0 } });
    expect(r.startSeconds).toEqual({ count: 2, p50: 1, p95: 3, p99: 3, max: 3 });
    expect(r.slo).toEqual({ thresholdSeconds: 2, target: 0.75, withinThreshold: 0.25, breached: true });
    expect(r.memory).toEqual({ heapAllocBytes: { first: 10, peak: 30, last: 20 } });
    expect(r.findings).toEqual([
      "1 submissions rejected (400 trust_violation:unknown: 1)",
      "2 jobs lost (accepted, then never picked up)",
      "work done twice: 1 jobs with duplicate executions, 0 extra pickups",
      "processing-time SLO breached: 25% started within 2 s (target 75%)",
    ]);
  });

  it("a job still in created while the queue holds messages is unfinished, not lost", () => {
    const r = buildReport([job(0, { status: "created", createdMs: 0, executions: 0, duplicateExecutions: 0 })], measures({ lastDepth: 4, stoppedBy: "time limit" }));
    expect(r).toMatchObject({ lost: 0, unfinished: { created: 1 } });
    expect(r.findings).toContain("1 jobs unfinished when the run stopped (time limit)");
  });

  it("formats a clean run", () => {
    const text = formatReport(buildReport([job(0, done(0, 500)), job(1, done(10, 400))], measures({ requested: { jobs: 2, concurrency: 2 }, pickups: { first: 100, last: 102 } })));
    expect(text).toContain("  order           LIFO: 1 of 1 pairs started out of creation order\n");
    expect(text).toContain("  time to start   p50 0.39 s, p95 0.50 s, p99 0.50 s, max 0.50 s (2 started)\n");
    expect(text.endsWith("OK: every accepted job completed once, none lost\n")).toBe(true);
  });
});

describe("progressLine", () => {
  it.each([
    ["at the start", { requested: 10, submitted: 0, accepted: 0, started: 0, finished: 0, queueDepth: null, elapsedSeconds: 0 }, "[------------------------] 0/10 submitted · 0 started · 0 done · 0 s"],
    ["half way", { requested: 10, submitted: 10, accepted: 10, started: 4, finished: 0, queueDepth: 6, elapsedSeconds: 3.4 }, "[############------------] 10/10 submitted · 4 started · 0 done · queue 6 · 3 s"],
    ["done", { requested: 10, submitted: 10, accepted: 10, started: 10, finished: 10, queueDepth: 0, elapsedSeconds: 9 }, "[########################] 10/10 submitted · 10 started · 10 done · queue 0 · 9 s"],
  ])("%s", (_name, progress, expected) => {
    expect(progressLine(progress)).toBe(expected);
  });
});
