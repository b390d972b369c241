/**
 * `/api/v1/jobs` routes (`internal/api/handlers_simple.go`, `middleware/validation.go`,
 * `processors/jobspec_processor.go`). Quirks kept: validation runs before the security pipeline,
 * models are normalised before it too, persistence is checked only after it, and empty lists are
 * encoded as `null`.
 */
import type { SandboxContext } from "./context.ts";
import { BindError } from "./go-struct.ts";
import { atoi, json, jsonError, type Request, type Response, type Route } from "./http.ts";
import { bindJobSpec, marshalJobSpec, normalizeModelsFromMetadata, validateJobSpec } from "./jobspec.ts";
import { runSecurityPipeline } from "./security.ts";
import { latestReceipt, listAllForJob, listJobExecutionRows } from "./store-executions.ts";
import { createJob, getJob, listRecentJobs, outboxEnvelope } from "./store-jobs.ts";

const PERSISTENCE_UNAVAILABLE = jsonError(503, "persistence unavailable");
const nullIfEmpty = <T>(list: T[]): T[] | null => (list.length > 0 ? list : null);

async function createJobHandler(ctx: SandboxContext, req: Request): Promise<Response> {
  if (!String(req.headers["content-type"] ?? "").includes("application/json")) {
    return json(400, { error: "invalid_content_type", message: "Content-Type must be application/json" });
  }
  if (req.body.length === 0) return json(400, { error: "invalid_body", message: "Request body cannot be empty" });
  let raw: unknown;
  let spec;
  try {
    raw = JSON.parse(req.body.toString("utf8"));
    spec = bindJobSpec(raw);
  } catch (error) {
    if (error instanceof SyntaxError || error instanceof BindError) return json(400, { error: "invalid_json", message: "Malformed JSON in body" });
    throw error;
  }
  const invalid = validateJobSpec(spec, Date.now());
  if (invalid) return json(400, { error: "validation_error", message: invalid });
  normalizeModelsFromMetadata(spec);
  const rawObject = typeof raw === "object" && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const rejected = await runSecurityPipeline(ctx, spec, rawObject, req.clientIp);
  if (rejected) return rejected;
  if (!ctx.dbAvailable()) return PERSISTENCE_UNAVAILABLE;
  const idempotencyKey = String(req.headers["idempotency-key"] ?? "").trim();
  const requestId = String(req.headers["x-request-id"] ?? "");
  let created;
  try {
    created = await createJob(ctx.pool, {
      jobspecId: spec.id,
      jobspecData: marshalJobSpec(spec),
      topic: ctx.options.queueName,
      envelope: ctx.incidents.isOn("no-outbox-row") ? undefined : outboxEnvelope(spec.id, new Date(), requestId),
      ...(idempotencyKey ? { idempotencyKey } : {}),
    });
  } catch (error) {
    return jsonError(500, error instanceof Error ? error.message : String(error));
  }
  if (created.reused) return json(200, { id: created.id, idempotent: true });
  ctx.metrics.inc("jobs_enqueued_total");
  return json(202, { id: created.id, status: "enqueued" });
}

async function listJobsHandler(ctx: SandboxContext, req: Request): Promise<Response> {
  if (!ctx.dbAvailable()) return PERSISTENCE_UNAVAILABLE;
  const requested = atoi(req.query.get("limit"));
  const limit = requested !== undefined && requested > 0 && requested <= 200 ? requested : 50;
  const rows = await listRecentJobs(ctx.pool, limit);
  const emptyId = ctx.incidents.isOn("empty-id");
  const jobs = rows.map((r) =>
    emptyId ? { id: "", jobspec_id: r.jobspecId, status: r.status, created_at: r.createdAt } : { id: r.jobspecId, status: r.status, created_at: r.createdAt },
  );
  return json(200, { jobs: nullIfEmpty(jobs) });
}

async function getJobHandler(ctx: SandboxContext, req: Request): Promise<Response> {
  if (!ctx.dbAvailable()) return PERSISTENCE_UNAVAILABLE;
  const id = req.params["id"]!;
  const row = await getJob(ctx.pool, id);
  if (!row) return jsonError(404, "job not found");
  const job = ctx.incidents.isOn("empty-id") ? { ...row.data, id: "", jobspec_id: row.data["jobspec_id"] || row.jobspecId } : row.data;
  return withExecutions(ctx, req, id, { job, status: row.status });
}

async function withExecutions(ctx: SandboxContext, req: Request, id: string, base: { job: Record<string, unknown>; status: string }): Promise<Response> {
  const { job } = base;
  const row = { status: base.status };
  const include = (req.query.get("include") ?? "").toLowerCase();
  if (include === "latest") return json(200, { job, status: row.status, executions: await latestReceipt(ctx.pool, id) });
  if (include === "executions" || include === "all") {
    const limit = atoi(req.query.get("exec_limit"));
    const offset = atoi(req.query.get("exec_offset"));
    // Beacon answers its own words when the query fails, e.g. without question_id (handlers_simple.go:298-301).
    const rows = await listJobExecutionRows(
      ctx.pool,
      id,
      limit !== undefined && limit > 0 && limit <= 200 ? limit : 20,
      offset !== undefined && offset >= 0 ? offset : 0,
    ).catch(() => undefined);
    if (!rows) return jsonError(500, "Failed to fetch executions");
    return json(200, { job, status: row.status, executions: nullIfEmpty(rows) });
  }
  return json(200, { job, status: row.status });
}

async function allExecutionsHandler(ctx: SandboxContext, req: Request): Promise<Response> {
  if (!ctx.dbAvailable()) return jsonError(500, "Database connection not available");
  if (ctx.incidents.isOn("executions-500")) return jsonError(500, "Failed to fetch executions");
  try {
    return json(200, { executions: nullIfEmpty(await listAllForJob(ctx.pool, req.params["id"]!)) });
  } catch {
    return jsonError(500, "Failed to fetch executions");
  }
}

export function jobRoutes(ctx: SandboxContext): Route[] {
  return [
    { method: "POST", pattern: "/api/v1/jobs", handler: (req) => createJobHandler(ctx, req) },
    { method: "GET", pattern: "/api/v1/jobs", handler: (req) => listJobsHandler(ctx, req) },
    { method: "GET", pattern: "/api/v1/jobs/:id", handler: (req) => getJobHandler(ctx, req) },
    { method: "GET", pattern: "/api/v1/jobs/:id/executions/all", handler: (req) => allExecutionsHandler(ctx, req) },
  ];
}
