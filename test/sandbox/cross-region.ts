/**
 * The cross-region path (`POST /api/v1/jobs/cross-region`, `handlers/cross_region_handlers.go`): the
 * job row is written `queued` (`JobsRepo.CreateJob`), with no outbox row and nothing on the Redis
 * queue, and the executor runs in an in-process goroutine. `restart()` is the runner process ending
 * and starting again: every goroutine in flight dies with it (its job stays `queued` for ever, as in
 * Beacon's Thurs-plan incident) and `process_start_time_seconds` moves forward.
 */
import { randomUUID } from "node:crypto";
import type { SandboxContext } from "./context.ts";
import { BindError } from "./go-struct.ts";
import { json, jsonError, type Request, type Response, type Route } from "./http.ts";
import { verifyMessage } from "../../shared/beacon/signing.ts";
import { bindJobSpec, canonicalStructMessage, marshalJobSpec, validateJobSpec, type JobSpec } from "./jobspec.ts";
import type { JobRunner } from "./runner.ts";

export interface CrossRegion {
  routes: Route[];
  /** Ends every in-process run (their jobs stay `queued`) and sets a new process start time. */
  restart(): void;
  /** Runs in flight now. */
  inFlight(): number;
  /** Waits for the runs in flight (not the ones a restart ended). */
  settle(): Promise<void>;
}

export function createCrossRegion(ctx: SandboxContext, runner: JobRunner, closed: AbortSignal): CrossRegion {
  let process = new AbortController();
  const running = new Set<Promise<void>>();

  const submit = async (req: Request): Promise<Response> => {
    // Database-less mode registers no cross-region route (`internal/api/routes.go:101-136,174-177`): gin's 404.
    if (ctx.databaseLess()) return { status: 404, text: "404 page not found" };
    let body: Record<string, unknown>;
    let spec;
    try {
      body = JSON.parse(req.body.toString("utf8")) as Record<string, unknown>;
      if (body["jobspec"] === undefined || body["jobspec"] === null || body["target_regions"] === undefined || body["target_regions"] === null) throw new BindError("binding:required");
      spec = bindJobSpec(body["jobspec"]);
    } catch (error) {
      if (error instanceof SyntaxError || error instanceof BindError) return json(400, { error: "Invalid request format", details: error.message });
      throw error;
    }
    // The struct as bound, BEFORE Validate, and only when both are set (cross_region_handlers.go:131-141): path (A)
    // alone, with no trust list, nonce or raw-body fallback, and RUNNER_SIG_BYPASS does not apply here.
    const unsigned = verifyStruct(spec);
    if (unsigned) return json(400, { error: "Invalid JobSpec signature", details: unsigned });
    const invalid = validateJobSpec(spec, Date.now());
    if (invalid) return json(400, { error: "Invalid JobSpec", details: invalid });
    const targets = Array.isArray(body["target_regions"]) ? (body["target_regions"] as unknown[]).filter((r): r is string => typeof r === "string") : [];
    spec.constraints.regions = targets;
    // The database lost while running: JobsRepo.CreateJob fails (:171-180).
    if (!ctx.dbAvailable()) return json(500, { error: "Failed to create job record", details: "database not available" });
    // The handler validates and stores the spec as sent: `metadata.models` is not normalised into models[] here.
    const minSuccessRate = typeof body["min_success_rate"] === "number" && body["min_success_rate"] !== 0 ? body["min_success_rate"] : 0.67;
    const minRegions = typeof body["min_regions"] === "number" && body["min_regions"] !== 0 ? body["min_regions"] : 3;
    spec.constraints.min_regions = minRegions;
    spec.constraints.min_success_rate = minSuccessRate;
    // `JobsRepo.CreateJob` (`store/jobs_repo.go:45-48`): created_at is the spec's own (the submitter's clock; Go's
    // zero time, year 1, when the spec has none), updated_at Beacon's now; a second submit of the id fails.
    const stored = marshalJobSpec(spec);
    try {
      await ctx.pool.query(
        `INSERT INTO jobs (jobspec_id, jobspec_data, status, created_at, updated_at) VALUES ($1, $2, 'queued', ($3::timestamptz AT TIME ZONE 'UTC'), NOW())`,
        [spec.id, JSON.stringify(stored), stored["created_at"]],
      );
    } catch (error) {
      return json(500, { error: "Failed to create job record", details: `failed to insert job: ${error instanceof Error ? error.message : String(error)}` });
    }
    const signal = AbortSignal.any([process.signal, closed]);
    const run = runner.crossRegion(spec.id, { minRegions, minSuccessRate }, signal).catch((error: unknown) => {
      if (!signal.aborted) console.error("[sandbox:cross-region]", error instanceof Error ? error.message : error);
    });
    running.add(run);
    void run.finally(() => running.delete(run));
    return json(202, {
      id: spec.id, job_id: spec.id, jobspec_id: spec.id, cross_region_execution_id: randomUUID(),
      total_regions: (spec.constraints.regions ?? []).length, min_regions: spec.constraints.min_regions,
      status: "submitted", submitted_at: new Date().toISOString(), estimated_duration: "2-5 minutes",
    });
  };

  return {
    routes: [{ method: "POST", pattern: "/api/v1/jobs/cross-region", handler: submit }],
    restart() {
      process.abort(new Error("runner restarted"));
      process = new AbortController();
      // promhttp reads the start from /proc with sub-second precision.
      ctx.metrics.set("process_start_time_seconds", Math.round(Date.now() / 10) / 100);
    },
    inFlight: () => running.size,
    async settle() {
      await Promise.all([...running]);
    },
  };
}

/** `JobSpec.VerifySignature()` (`pkg/models/signature.go:12-50`) when both fields are set; the error text, or undefined. */
function verifyStruct(spec: JobSpec): string | undefined {
  if (spec.signature === "" || spec.public_key === "") return undefined;
  const key = Buffer.from(spec.public_key, "base64");
  if (key.length !== 32 || key.toString("base64") !== spec.public_key) return "invalid public key: invalid public key size";
  return verifyMessage(canonicalStructMessage(spec), spec.signature, spec.public_key) ? undefined : "signature verification failed";
}
