/**
 * Admin and recovery routes (`internal/api/handlers_admin*.go`, `middleware/admin_auth.go`).
 * Every /admin route needs `Authorization: Bearer <ADMIN_TOKEN>` (503/401/401/403 otherwise) and
 * then passes ONE rate limiter shared by all /admin routes: one request per window (10 s) per
 * client IP, 429 `{"error":"rate_limit_exceeded","retry_after":10}`. Auth runs first (as on Beacon's
 * debug group), so rejected requests don't consume the window. `POST /emergency/...` has neither.
 */
import type { SandboxContext } from "./context.ts";
import { json, jsonError, type Handler, type Request, type Response, type Route } from "./http.ts";
import { insertOutbox, listJobsByStatus, outboxEnvelope, outboxStats } from "./store-jobs.ts";

function authenticate(ctx: SandboxContext, req: Request): Response | undefined {
  const token = ctx.options.adminToken;
  if (!token) return json(503, { error: "admin_auth_not_configured", message: "Admin authentication not configured" });
  const header = req.headers["authorization"];
  if (!header) return json(401, { error: "unauthorized", message: "Authorization header required for admin endpoints" });
  if (!header.startsWith("Bearer ")) return json(401, { error: "invalid_auth_format", message: "Authorization must use Bearer token format" });
  if (header.slice("Bearer ".length) !== token) return json(403, { error: "invalid_token", message: "Invalid admin token" });
  return undefined;
}

function createRateLimiter(windowMs: number) {
  const lastAccess = new Map<string, number>();
  return (req: Request): Response | undefined => {
    const now = Date.now();
    const last = lastAccess.get(req.clientIp);
    if (last !== undefined && now - last < windowMs) {
      return json(429, { error: "rate_limit_exceeded", message: "Admin operations are rate limited", retry_after: Math.round(windowMs / 1000) });
    }
    lastAccess.set(req.clientIp, now);
    return undefined;
  };
}

async function queueStats(ctx: SandboxContext): Promise<Response> {
  const { redis, keys } = ctx;
  const [main, retry, dead, processing] = await Promise.all([
    redis.llen(keys.main),
    redis.zcard(keys.retry),
    redis.llen(keys.dead),
    redis.keys(keys.processingPattern),
  ]);
  return json(200, { queue: keys.main, main, retry, dead, processing: processing.length });
}

async function outboxStatsHandler(ctx: SandboxContext): Promise<Response> {
  if (!ctx.dbAvailable()) return jsonError(500, "database connection is nil");
  const stats = await outboxStats(ctx.pool);
  return json(200, { unpublished_count: stats.count, oldest_age_seconds: stats.oldestAgeSeconds });
}

/** Finds up to 100 `created` jobs and republishes each by the `id` inside its stored JobSpec. */
async function republishStuck(ctx: SandboxContext): Promise<Response> {
  if (!ctx.dbAvailable()) return jsonError(500, "failed to find stuck jobs");
  let stuck: Record<string, unknown>[];
  try {
    stuck = await listJobsByStatus(ctx.pool, "created", 100);
  } catch {
    return jsonError(500, "failed to find stuck jobs");
  }
  if (stuck.length === 0) return json(200, { message: "no stuck jobs found", republished: 0 });
  let republished = 0;
  for (const spec of stuck) {
    const id = typeof spec["id"] === "string" ? spec["id"] : ""; // an empty id republishes "" (contract §4 [obs])
    try {
      await insertOutbox(ctx.pool, ctx.options.queueName, outboxEnvelope(id, new Date(), ""));
      republished++;
    } catch {
      // logged and skipped by Beacon
    }
  }
  return json(200, { message: "republished stuck jobs", total_found: stuck.length, republished });
}

async function republishJob(ctx: SandboxContext, req: Request): Promise<Response> {
  let body: unknown;
  try {
    body = JSON.parse(req.body.toString("utf8"));
  } catch {
    return jsonError(400, "invalid_body");
  }
  const jobId = typeof body === "object" && body !== null ? (body as Record<string, unknown>)["job_id"] : undefined;
  if (typeof jobId !== "string" || jobId === "") return jsonError(400, "missing_job_id");
  if (!ctx.dbAvailable()) return jsonError(500, "republish_failed");
  try {
    await insertOutbox(ctx.pool, ctx.options.queueName, outboxEnvelope(jobId, new Date(), ""));
  } catch {
    return jsonError(500, "republish_failed");
  }
  return json(200, { message: "republished", job_id: jobId });
}

export function adminRoutes(ctx: SandboxContext): Route[] {
  const rateLimit = createRateLimiter(ctx.options.adminRateLimitMs);
  const guarded = (handler: Handler): Handler => (req) => authenticate(ctx, req) ?? rateLimit(req) ?? handler(req);
  return [
    { method: "GET", pattern: "/admin/queue-stats", handler: guarded(() => queueStats(ctx)) },
    { method: "GET", pattern: "/admin/outbox-stats", handler: guarded(() => outboxStatsHandler(ctx)) },
    { method: "POST", pattern: "/admin/republish-stuck-jobs", handler: guarded(() => republishStuck(ctx)) },
    { method: "POST", pattern: "/admin/republish-job", handler: guarded((req) => republishJob(ctx, req)) },
    { method: "POST", pattern: "/emergency/republish-stuck-jobs", handler: () => republishStuck(ctx) },
  ];
}
