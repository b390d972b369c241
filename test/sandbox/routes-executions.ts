/**
 * `/api/v1/executions` routes (`internal/api/executions_handler.go`): an object, not an array, for
 * the list; RFC3339 or "" timestamps; `:id` is the numeric execution id. The `executions-500`
 * incident makes every one of them fail the way production did on 2025-09-12.
 */
import type { SandboxContext } from "./context.ts";
import { atoi, json, jsonError, type Request, type Response, type Route } from "./http.ts";
import { getExecutionDetails, getReceipt, listExecutions } from "./store-executions.ts";

const NO_DATABASE = jsonError(500, "Database connection not available");

async function listHandler(ctx: SandboxContext, req: Request): Promise<Response> {
  const requestedLimit = atoi(req.query.get("limit") ?? "10");
  const limit = requestedLimit === undefined || requestedLimit <= 0 ? 10 : Math.min(requestedLimit, 100);
  const requestedOffset = atoi(req.query.get("offset") ?? "0");
  const offset = requestedOffset === undefined || requestedOffset < 0 ? 0 : requestedOffset;
  if (!ctx.dbAvailable()) return NO_DATABASE;
  if (ctx.incidents.isOn("executions-500")) return jsonError(500, "Failed to fetch executions");
  try {
    const { executions, total } = await listExecutions(ctx.pool, limit, offset);
    return json(200, { executions: executions.length > 0 ? executions : null, limit, offset, total });
  } catch {
    return jsonError(500, "Failed to fetch executions");
  }
}

/** `strconv.ParseInt(id, 10, 64)`; kept as text so that huge ids reach Postgres (and fail there) like in Go. */
function executionId(req: Request): string | undefined {
  const id = req.params["id"] ?? "";
  return /^[+-]?\d{1,19}$/.test(id) ? id : undefined;
}

async function receiptHandler(ctx: SandboxContext, req: Request): Promise<Response> {
  const id = executionId(req);
  if (id === undefined) return jsonError(400, "Invalid execution ID");
  if (!ctx.dbAvailable()) return NO_DATABASE;
  if (ctx.incidents.isOn("executions-500")) return jsonError(500, "Failed to fetch receipt");
  let receipt: unknown;
  try {
    receipt = await getReceipt(ctx.pool, id);
  } catch {
    return jsonError(500, "Failed to fetch receipt");
  }
  return receipt === undefined ? jsonError(404, "Execution or receipt not found") : json(200, receipt);
}

async function detailsHandler(ctx: SandboxContext, req: Request): Promise<Response> {
  const id = executionId(req);
  if (id === undefined) return jsonError(400, "Invalid execution ID");
  if (!ctx.dbAvailable()) return NO_DATABASE;
  if (ctx.incidents.isOn("executions-500")) return jsonError(500, "Failed to fetch execution");
  let details;
  try {
    details = await getExecutionDetails(ctx.pool, id);
  } catch {
    return jsonError(500, "Failed to fetch execution");
  }
  return details === undefined ? jsonError(404, "Execution not found") : json(200, details);
}

export function executionRoutes(ctx: SandboxContext): Route[] {
  return [
    { method: "GET", pattern: "/api/v1/executions", handler: (req) => listHandler(ctx, req) },
    { method: "GET", pattern: "/api/v1/executions/:id/receipt", handler: (req) => receiptHandler(ctx, req) },
    { method: "GET", pattern: "/api/v1/executions/:id/details", handler: (req) => detailsHandler(ctx, req) },
  ];
}
