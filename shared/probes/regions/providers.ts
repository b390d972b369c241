import { z } from "zod";
import { check, type Check } from "../../result.ts";
import { boundedFetch, excerpt, parseJson, type BoundedFetchOptions } from "../../http.ts";
import { HealthBody } from "../../beacon/health.ts";
import { safeUrl } from "../../redact.ts";
import type { RunnerStart } from "./restart.ts";

/**
 * Providers as checks of their own: each service of the runner's `/health` (`provider:yagna`, …) and,
 * when BEACON_ROUTER_URL is set, the hybrid router's `/health` (`router`), attributed to the regions the
 * router says it serves. Also reads the runner's start time from `/metrics` for restart-lost jobs.
 */

/** The hybrid router's `/health` (Website/JOB_FAILURE_DIAGNOSIS.md). */
export const RouterHealth = z.object({
  status: z.string(),
  providers_total: z.number().int().nonnegative().optional(),
  providers_healthy: z.number().int().nonnegative().optional(),
  regions: z.array(z.string()).nullable().optional(),
}).loose();

type Fetcher = Omit<BoundedFetchOptions, "method" | "headers" | "body">;

export async function runnerServices(apiUrl: string, f: Fetcher): Promise<Check[]> {
  const url = `${apiUrl}/health`;
  const res = await boundedFetch(url, f);
  const blind = (why: string) => [check({ name: "providers", status: "error", observed: null, threshold: null, message: `${safeUrl(url)}: ${why}`, evidence: [safeUrl(url)] })];
  if (!res.ok) return blind(res.message);
  const parsed = parseJson(res.text);
  const body = parsed.ok ? HealthBody.safeParse(parsed.value) : undefined;
  if (!body?.success) return blind(`HTTP ${res.status}, not Beacon's health body: ${excerpt(res.text)}`);
  const services = body.data.services ?? [];
  if (services.length === 0) return blind("the runner's /health lists no services");
  return services.map((svc) => {
    const status = svc.status === "healthy" ? "pass" : svc.status === "degraded" ? "warn" : "fail";
    return check({
      name: `provider:${svc.name}`, status, observed: svc.status, threshold: "healthy",
      message: `${svc.name}: ${svc.status}${svc.error ? ` (${svc.error})` : ""}; serves every region (Beacon's /health does not say which), and its state comes from a circuit breaker, not a call to ${svc.name}`,
      evidence: status === "pass" ? [] : [`${svc.name}: ${svc.status}${svc.error ? `: ${svc.error}` : ""}`],
    });
  });
}

/** The router's health, naming the regions it serves and the regions in use it does not. */
export async function routerCheck(routerUrl: string, regionsInUse: string[], f: Fetcher): Promise<Check> {
  const url = `${routerUrl.replace(/\/+$/, "")}/health`;
  const shown = safeUrl(url);
  const res = await boundedFetch(url, f);
  const threshold = "2xx, status healthy, every provider healthy, every region in use served";
  if (!res.ok) return check({ name: "router", status: "fail", observed: null, threshold, message: `hybrid router ${shown}: ${res.message}; every region's executions go through it`, evidence: [shown] });
  const parsed = parseJson(res.text);
  const body = parsed.ok ? RouterHealth.safeParse(parsed.value) : undefined;
  if (res.status < 200 || res.status > 299 || !body?.success) {
    return check({ name: "router", status: "fail", observed: res.status, threshold, message: `hybrid router ${shown}: HTTP ${res.status}${body?.success ? "" : `, not the router's health body: ${excerpt(res.text)}`}`, evidence: [shown] });
  }
  const h = body.data;
  const served = h.regions ?? [];
  const unserved = regionsInUse.filter((r) => served.length > 0 && !served.includes(r));
  const total = h.providers_total;
  const healthy = h.providers_healthy;
  const word = h.status.toLowerCase();
  const bad = !["healthy", "ok", "degraded"].includes(word) || healthy === 0 || unserved.length > 0;
  const partial = word === "degraded" || (total !== undefined && healthy !== undefined && healthy < total);
  const evidence = [
    ...unserved.map((r) => `${r}: in use, not among the router's regions`),
    ...(partial ? [`${shown}: ${healthy} of ${total} providers healthy`] : []),
    ...((bad || partial) && !unserved.length && word !== "healthy" && word !== "ok" ? [`${shown}: status ${h.status}`] : []),
  ];
  return check({
    name: "router", status: bad ? "fail" : partial ? "warn" : "pass", observed: healthy ?? h.status, threshold,
    message: `hybrid router ${shown}: ${h.status}, ${healthy ?? "?"} of ${total ?? "?"} providers healthy, serves ${served.length ? served.join(", ") : "no region it names"}${unserved.length ? `; not ${unserved.join(", ")}, which jobs use` : ""}`,
    evidence,
  });
}

/** `process_start_time_seconds` from the runner's /metrics (promhttp's default registry exports it). */
export async function runnerStart(apiUrl: string, f: Fetcher): Promise<RunnerStart> {
  const url = `${apiUrl}/metrics`;
  const res = await boundedFetch(url, f);
  if (!res.ok) return { error: `${safeUrl(url)}: ${res.message}` };
  if (res.status !== 200) return { error: `${safeUrl(url)}: HTTP ${res.status}` };
  const m = /^process_start_time_seconds(?:\{[^}]*\})?\s+([0-9.eE+-]+)\s*$/m.exec(res.text);
  const value = m ? Number(m[1]) : Number.NaN;
  return Number.isFinite(value) && value > 0 ? { startSeconds: value } : { error: `${safeUrl(url)}: no process_start_time_seconds` };
}
