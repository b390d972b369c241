import { z } from "zod";
import { emptyStatus } from "../../shared/status/empty.ts";
import { statusAsOf } from "../../shared/status/document.ts";
import { probeInfos } from "../../shared/config/policy.ts";
import { shieldsBadge, shieldsErrorBadge } from "../../shared/status/badge.ts";
import { prometheusMetrics, PROMETHEUS_CONTENT_TYPE } from "../../shared/status/metrics.ts";
import { PAGE_CSP, renderStatusPage } from "../../shared/status/page.ts";
import { redactDeep } from "../../shared/redact.ts";
import { summaryView } from "../../shared/status/public.ts";
import { historyProblems, historyReport, HistoryQuery } from "../../shared/status/days-report.ts";
import type { StatusDocument } from "../../shared/status/schema.ts";
import { statusCacheHeaders } from "./cors.ts";
import { badRequest, HttpError } from "./errors.ts";
import type { Route, RouteContext } from "./handler.ts";
import { parseQuery } from "./input.ts";
import { json } from "./respond.ts";

/**
 * The read-only status routes. Each reads the status document the last tick stored (ONE GET, a few KB
 * gzipped), moves its ages on to now, and answers it in its own format. The document cannot change
 * before the next tick, so the CDN may keep the answer until then.
 */
async function statusOf(ctx: RouteContext, historyCount?: number): Promise<StatusDocument> {
  if (!ctx.rt.store) throw new HttpError(503, "store_not_configured", "the sentinel's store is not configured (SENTINEL_REDIS_REST_URL)");
  const now = ctx.rt.deps.now();
  const stored = await ctx.rt.store.readStatus();
  const doc = stored ? statusAsOf(stored, now, ctx.rt.config.settings.alerting.staleFactor) : emptyStatus(probeInfos(ctx.rt.config.settings), now);
  const trimmed = historyCount === undefined ? doc : { ...doc, probes: doc.probes.map((p) => ({ ...p, history: p.history.slice(0, historyCount) })) };
  const shown = ctx.rt.config.statusView === "summary" ? summaryView(trimmed) : trimmed;
  return redactDeep(shown, ctx.rt.redact);
}

/** Seconds until the next tick can have replaced the document: the longest a cache may keep it. */
function freshFor(doc: StatusDocument, now: Date): number {
  const next = doc.monitoring?.nextTickBy ? Date.parse(doc.monitoring.nextTickBy) : now.getTime();
  return Math.max(5, Math.min(60, Math.ceil((next - now.getTime()) / 1000) + 5));
}

function cacheFor(ctx: RouteContext, doc: StatusDocument) {
  return statusCacheHeaders(ctx.rt.config.publicStatus, freshFor(doc, ctx.rt.deps.now()));
}

const GET = ["GET"] as const;

/** Read-only routes ignore query parameters they do not take: cache busters and scrape params are harmless here. */
const READ_ONLY = { unknown: "ignore" } as const;

export const statusRoute: Route = {
  name: "api-status", methods: GET, access: "status", cors: true,
  async handle(ctx) {
    const query = parseQuery(ctx.url, { history: z.coerce.number({ error: "must be a number" }).int("must be a whole number").min(0).max(200).optional() }, READ_ONLY);
    const doc = await statusOf(ctx, query.history);
    return json(200, doc, cacheFor(ctx, doc));
  },
};

export const badgeRoute: Route = {
  name: "api-status-badge", methods: GET, access: "status", cors: true,
  // A badge renderer reads only badge JSON: errors keep their HTTP status and speak the badge's format.
  formatError: (status, error) => json(status, shieldsErrorBadge(error)),
  async handle(ctx) {
    const doc = await statusOf(ctx, 0);
    return json(200, shieldsBadge(doc), cacheFor(ctx, doc));
  },
};

export const metricsRoute: Route = {
  name: "api-metrics", methods: GET, access: "status", cors: true,
  async handle(ctx) {
    const doc = await statusOf(ctx, 0);
    return new Response(prometheusMetrics(doc), { status: 200, headers: { "content-type": PROMETHEUS_CONTENT_TYPE, ...cacheFor(ctx, doc) } });
  },
};

export const pageRoute: Route = {
  name: "status-page", methods: GET, access: "status",
  async handle(ctx) {
    const doc = await statusOf(ctx, 0);
    return new Response(renderStatusPage(doc, { now: ctx.rt.deps.now() }), {
      status: 200,
      headers: { "content-type": "text/html; charset=utf-8", "content-security-policy": PAGE_CSP, ...cacheFor(ctx, doc) },
    });
  },
};

/**
 * GET /api/history[?days=N][&stage=S][&check=probe/check]: the 90 days per stage (and the one check
 * asked for), from the status document like /api/status (1 GET). A stage or check the document does
 * not know is a 400 naming the known ones.
 */
export const historyRoute: Route = {
  name: "api-history", methods: GET, access: "status", cors: true,
  async handle(ctx) {
    const query = parseQuery(ctx.url, HistoryQuery, READ_ONLY);
    const doc = await statusOf(ctx, 0);
    const problems = historyProblems(doc, query);
    if (problems.length) throw badRequest(`invalid query: ${problems.join("; ")}`, { problems });
    return json(200, historyReport(doc, query), cacheFor(ctx, doc));
  },
};
