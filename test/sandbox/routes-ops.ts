/**
 * Health (`internal/api/handlers_health.go`, `internal/external/protected_client.go`), Prometheus
 * metrics, and the sandbox's own incident switchboard (`/__sandbox/incidents`, not a Beacon route).
 *
 * As in Beacon, service statuses come from circuit breakers of stub clients that never call
 * anything, so `/health` is "healthy" unless the `health-unhealthy` incident opens the yagna
 * breaker; only `/health/ready`'s database ping is a real check, Redis is never pinged, and a runner in
 * database-less mode (no DB handle) has nothing to ping: it answers ready.
 */
import { goTime, ZERO_TIME } from "./go-struct.ts";
import type { SandboxContext } from "./context.ts";
import { json, jsonError, type Request, type Response, type Route } from "./http.ts";
import { isIncidentName, SANDBOX_REGIONS } from "./incidents.ts";
import { resetSandbox } from "./reset.ts";

const SERVICES = ["yagna", "ipfs", "database", "redis"] as const;
const BREAKERS: Record<(typeof SERVICES)[number], string> = { yagna: "yagna-submit", ipfs: "ipfs-store", database: "database-query", redis: "redis-get" };

function services(ctx: SandboxContext, databaseError?: string) {
  const now = goTime(new Date());
  return SERVICES.map((name) => {
    const open = (name === "yagna" && ctx.incidents.isOn("health-unhealthy")) || (name === "database" && databaseError !== undefined);
    // circuitbreaker.Stats has no json tags: Go field names, State as an int (0 closed, 1 open).
    const stats = open
      ? { Name: BREAKERS[name], State: 1, Failures: 5, Successes: 0, Requests: 0, LastFailTime: now }
      : { Name: "", State: 0, Failures: 0, Successes: 0, Requests: 0, LastFailTime: ZERO_TIME };
    const base = { name, status: open ? "unhealthy" : "healthy", circuit_breaker_stats: stats, last_check: now };
    return open ? { ...base, error: databaseError ?? "circuit breaker open" } : base;
  });
}

function health(ctx: SandboxContext): Response {
  const list = services(ctx);
  const status = list.some((s) => s.status === "unhealthy") ? "unhealthy" : "healthy";
  return json(status === "unhealthy" ? 503 : 200, { status, services: list });
}

async function readiness(ctx: SandboxContext): Promise<Response> {
  let databaseError: string | undefined;
  // Database-less mode has no DB handle: nothing to ping, and the stub breakers say healthy (handlers_health.go:89-94).
  if (ctx.databaseLess()) databaseError = undefined;
  else if (!ctx.dbAvailable()) databaseError = "database not available";
  else {
    try {
      await ctx.pool.query("SELECT 1");
    } catch (error) {
      databaseError = `database ping failed: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  const list = services(ctx, databaseError);
  const ready = !list.some((s) => (s.name === "database" || s.name === "redis") && s.status === "unhealthy");
  return json(ready ? 200 : 503, { ready, services: list });
}

function metricsText(ctx: SandboxContext): Response {
  const memory = process.memoryUsage();
  ctx.metrics.set("memory_heap_alloc_bytes", memory.heapUsed);
  ctx.metrics.set("memory_heap_sys_bytes", memory.heapTotal);
  ctx.metrics.set("memory_stack_inuse_bytes", 0);
  ctx.metrics.set("goroutine_count", process.getActiveResourcesInfo().length);
  ctx.metrics.set("process_resident_memory_bytes", memory.rss);
  return { status: 200, text: ctx.metrics.render(), contentType: "text/plain; version=0.0.4; charset=utf-8" };
}

function setIncident(ctx: SandboxContext, req: Request): Response {
  const name = req.params["name"] ?? "";
  if (!isIncidentName(name)) return jsonError(404, `unknown incident "${name}"`, { known: ctx.incidents.list().map((i) => i.name) });
  let body: unknown;
  try {
    body = JSON.parse(req.body.toString("utf8") || "null");
  } catch {
    body = null;
  }
  const on = typeof body === "object" && body !== null ? (body as Record<string, unknown>)["on"] : undefined;
  if (typeof on !== "boolean") return jsonError(400, 'body must be {"on": true} or {"on": false}');
  ctx.incidents.set(name, on);
  return json(200, ctx.incidents.list().find((i) => i.name === name));
}

/**
 * A stand-in for the hybrid router's `GET /health` (`{status, providers_total, providers_healthy,
 * regions}`), not a runner route: one provider per region, unhealthy while `region-down:<region>` is on,
 * absent under `provider-missing:<region>` (a timing-out or hanging provider still reads healthy, as a
 * health check that answers quickly would).
 */
function routerHealth(ctx: SandboxContext): Response {
  const present = SANDBOX_REGIONS.filter((r) => !ctx.incidents.isOn(`provider-missing:${r}`));
  const down = present.filter((r) => ctx.incidents.isOn(`region-down:${r}`));
  const healthy = present.length - down.length;
  return json(200, { status: healthy === 0 ? "unhealthy" : down.length ? "degraded" : "healthy", providers_total: present.length, providers_healthy: healthy, regions: [...present].sort() });
}

export function opsRoutes(ctx: SandboxContext): Route[] {
  const routes: Route[] = [];
  for (const prefix of ["", "/api/v1"]) {
    routes.push(
      { method: "GET", pattern: `${prefix}/health`, handler: () => health(ctx) },
      { method: "GET", pattern: `${prefix}/health/live`, handler: () => json(200, { status: "alive" }) },
      { method: "GET", pattern: `${prefix}/health/ready`, handler: () => readiness(ctx) },
      { method: "GET", pattern: `${prefix}/metrics`, handler: () => metricsText(ctx) },
      { method: "HEAD", pattern: `${prefix}/metrics`, handler: () => metricsText(ctx) },
    );
  }
  routes.push(
    { method: "GET", pattern: "/__sandbox/incidents", handler: () => json(200, { incidents: ctx.incidents.list() }), internal: true },
    { method: "POST", pattern: "/__sandbox/incidents/:name", handler: (req) => setIncident(ctx, req), internal: true },
    { method: "GET", pattern: "/__router/health", handler: () => routerHealth(ctx), internal: true },
    { method: "POST", pattern: "/__sandbox/reset", handler: async () => json(200, await resetSandbox(ctx)), internal: true },
  );
  return routes;
}
