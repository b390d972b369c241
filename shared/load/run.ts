import { randomBytes } from "node:crypto";
import type { Redis } from "@upstash/redis";
import type { BeaconSettings } from "../beacon/settings.ts";
import type { SqlClient } from "../sql.ts";
import { signedJobSpec, type JobShape } from "../probes/canary/spec.ts";
import { LOAD_ID_PREFIX } from "../probes/canary/definition.ts";
import { submitJob } from "../probes/canary/submit.ts";
import { QUESTION_ID_CONSEQUENCE, QUESTION_ID_MISSING } from "../beacon/question-column.ts";
import { metricsSample, queueDepth, sightingsFromApi, sightingsFromDb, type FollowSources } from "./follow.ts";
import { buildReport, type LoadJob, type LoadReport } from "./report.ts";
import type { Progress } from "./format.ts";

/** Hard bounds: a load run always stops by itself. */
export const LOAD_LIMITS = { maxJobs: 1000, maxConcurrency: 50, maxTimeLimitSeconds: 3600 } as const;
/** Beacon allows one admin request per 10 s per client IP, shared by every /admin route. */
const ADMIN_SPACING_MS = 11_000;
const METRICS_SPACING_MS = 5_000;

export interface LoadOptions {
  apiUrl: string;
  jobs: number;
  concurrency: number;
  /** Ed25519 private key (base64 seed) the jobs are signed with. */
  signingKey: string;
  shape: JobShape;
  beacon: BeaconSettings;
  /** The processing-time SLO: a job is good when it starts within `thresholdSeconds`. */
  slo: { thresholdSeconds: number; target: number };
  /** Following stops this long after the start, whatever is unfinished. */
  timeLimitSeconds: number;
  pollIntervalMs: number;
  requestTimeoutMs: number;
}

export interface LoadDeps {
  fetch: typeof fetch;
  now(): Date;
  sql?: SqlClient;
  beaconRedis?: Redis;
  adminToken?: string;
  onProgress?(progress: Progress): void;
  signal?: AbortSignal;
}

const TERMINAL = new Set(["completed", "failed"]);

/**
 * Submits `jobs` signed jobs, `concurrency` at a time, while following all of them (one SQL statement per
 * poll, or the job API without a database), sampling the queue depth and the target's /metrics.
 */
export async function runLoad(o: LoadOptions, deps: LoadDeps): Promise<LoadReport> {
  if (o.jobs < 1 || o.jobs > LOAD_LIMITS.maxJobs || o.concurrency < 1 || o.concurrency > LOAD_LIMITS.maxConcurrency) throw new RangeError("jobs or concurrency out of bounds");
  const at = () => deps.now().getTime();
  const start = at();
  const deadline = start + Math.min(o.timeLimitSeconds, LOAD_LIMITS.maxTimeLimitSeconds) * 1000;
  const runId = randomBytes(3).toString("hex");
  const jobs: LoadJob[] = Array.from({ length: o.jobs }, (_, index) => ({ id: `${LOAD_ID_PREFIX}${runId}-${String(index).padStart(4, "0")}`, index, accepted: false, submittedMs: 0 }));
  const src: FollowSources = { fetch: deps.fetch, now: deps.now, apiUrl: o.apiUrl, beacon: o.beacon, sql: deps.sql, beaconRedis: deps.beaconRedis, adminToken: deps.adminToken, requestTimeoutMs: o.requestTimeoutMs };
  const stopped = () => at() > deadline || deps.signal?.aborted === true;

  let next = 0;
  let submitted = 0;
  let submitEnd: number | undefined;
  const url = new URL(o.beacon.routes.jobs, o.apiUrl).href;
  const submitter = async () => {
    for (let job = jobs[next++]; job && !stopped(); job = jobs[next++]) {
      const outcome = await submitJob(url, signedJobSpec(job.id, deps.now(), o.shape, "load", o.signingKey), { fetch: deps.fetch, now: deps.now, timeoutMs: o.requestTimeoutMs, signal: deps.signal });
      Object.assign(job, { submittedMs: at(), accepted: outcome.accepted, ...(outcome.accepted ? {} : { refusal: `${outcome.status}${outcome.code ? ` ${outcome.code}` : ""}` }) });
      submitted++;
    }
  };
  const submitting = Promise.all(Array.from({ length: o.concurrency }, submitter)).then(() => void (submitEnd = at()));

  const depthVia = deps.beaconRedis ? "redis" : deps.adminToken ? "admin" : null;
  const depths: number[] = [];
  const heap: number[] = [];
  const pollErrors: string[] = [];
  type Counters = { pickups: number; enqueued: number };
  let counters = null as { first: Counters; last: Counters } | null;
  let lastAdmin = -Infinity;
  let lastMetrics = -Infinity;
  let peakWaiting = 0;
  const sampleMetrics = async () => {
    lastMetrics = at();
    const m = await metricsSample(src);
    if (m?.heapAllocBytes !== undefined) heap.push(m.heapAllocBytes);
    if (m?.pickups !== undefined && m.enqueued !== undefined) {
      const now = { pickups: m.pickups, enqueued: m.enqueued };
      counters = { first: counters?.first ?? now, last: now };
    }
  };
  await sampleMetrics();

  let stoppedBy: LoadReport["stoppedBy"] = "done";
  /** Set when Beacon's database lacks executions.question_id: jobs then complete without executions. */
  let schemaNote: string | undefined;
  for (;;) {
    await sleep(o.pollIntervalMs, deps.signal);
    // Only a poll that began after the last submit answered has seen every accepted job.
    const allSubmitted = submitEnd !== undefined;
    const accepted = jobs.filter((j) => j.accepted);
    try {
      const open = accepted.filter((j) => !TERMINAL.has(j.seen?.status ?? ""));
      const seen = deps.sql ? await sightingsFromDb(deps.sql, o.beacon.tables, open.map((j) => j.id)) : await sightingsFromApi(src, open.map((j) => ({ id: j.id, submittedMs: j.submittedMs })));
      for (const j of open) j.seen = seen.get(j.id) ?? j.seen;
      if ("questionIdMissing" in seen && seen.questionIdMissing) schemaNote = `${QUESTION_ID_MISSING}: ${QUESTION_ID_CONSEQUENCE}`;
      if (depthVia === "redis" || (depthVia === "admin" && at() - lastAdmin >= ADMIN_SPACING_MS)) {
        if (depthVia === "admin") lastAdmin = at();
        const depth = await queueDepth(src, depthVia);
        if (depth !== undefined) depths.push(depth);
      }
      if (at() - lastMetrics >= METRICS_SPACING_MS) await sampleMetrics();
    } catch (error) {
      pollErrors.push(error instanceof Error ? error.message : String(error));
    }
    peakWaiting = Math.max(peakWaiting, accepted.filter((j) => j.seen?.startedMs === undefined && !TERMINAL.has(j.seen?.status ?? "")).length);
    const finished = accepted.filter((j) => TERMINAL.has(j.seen?.status ?? "")).length;
    deps.onProgress?.({ requested: o.jobs, submitted, accepted: accepted.length, started: accepted.filter((j) => j.seen?.startedMs !== undefined).length, finished, queueDepth: depths.at(-1) ?? null, elapsedSeconds: (at() - start) / 1000 });
    if (allSubmitted && finished === accepted.length) break;
    if (stopped()) {
      stoppedBy = "time limit";
      break;
    }
  }
  await submitting;
  await sampleMetrics().catch((e: unknown) => void pollErrors.push(String(e)));
  const report = buildReport(jobs.filter((j) => j.submittedMs > 0), {
    target: o.apiUrl, runId, requested: { jobs: o.jobs, concurrency: o.concurrency },
    durationSeconds: (at() - start) / 1000, submitSeconds: ((submitEnd ?? at()) - start) / 1000, stoppedBy,
    queue: { peakDepth: depths.length ? Math.max(...depths) : null, source: depths.length ? depthVia : null, samples: depths.length },
    lastDepth: depths.at(-1) ?? null, peakWaiting, heap, slo: o.slo,
    // Runner pickups beyond our jobs mean work done twice, but only if nobody else submitted meanwhile.
    pickups: counters && counters.last.enqueued - counters.first.enqueued === jobs.filter((j) => j.accepted).length
      ? { first: counters.first.pickups, last: counters.last.pickups } : null,
  });
  if (pollErrors.length) report.findings.push(`${pollErrors.length} polls failed, first: ${pollErrors[0]}`);
  if (schemaNote) report.findings.push(schemaNote);
  return report;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });
}
