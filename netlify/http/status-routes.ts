import { z } from "zod";
import { loadStatus } from "../../shared/status/load.ts";
import { shieldsBadge } from "../../shared/status/badge.ts";
import { prometheusMetrics, PROMETHEUS_CONTENT_TYPE } from "../../shared/status/metrics.ts";
import { PAGE_CSP, renderStatusPage } from "../../shared/status/page.ts";
import { redactDeep } from "../../shared/redact.ts";
import { summaryView } from "../../shared/status/public.ts";
import type { StatusDocument } from "../../shared/status/schema.ts";
import { statusCacheHeaders } from "./cors.ts";
import { storeKeys, storeRedis, type Route, type RouteContext } from "./handler.ts";
import { parseQuery } from "./input.ts";
import { json } from "./respond.ts";

/**
 * The read-only status routes. Each reads the store in ONE round trip (shared/status/read.ts), builds
 * the status document, and answers it in its own format with short cache headers.
 */

async function statusOf(ctx: RouteContext, historyCount?: number, timeline = true): Promise<StatusDocument> {
  const doc = await loadStatus({
    redis: storeRedis(ctx.rt), keys: storeKeys(ctx.rt), settings: ctx.rt.config.settings, now: ctx.rt.deps.now(), historyCount, timeline,
  });
  const shown = ctx.rt.config.statusView === "summary" ? summaryView(doc) : doc;
  return redactDeep(shown, ctx.rt.redact);
}

const GET = ["GET"] as const;

export const statusRoute: Route = {
  name: "api-status", methods: GET, access: "status", cors: true,
  async handle(ctx) {
    const query = parseQuery(ctx.url, { history: z.coerce.number({ error: "must be a number" }).int("must be a whole number").min(0).max(200).optional() });
    return json(200, await statusOf(ctx, query.history), statusCacheHeaders(ctx.rt.config.publicStatus));
  },
};

export const badgeRoute: Route = {
  name: "api-status-badge", methods: GET, access: "status", cors: true,
  async handle(ctx) {
    parseQuery(ctx.url, {});
    return json(200, shieldsBadge(await statusOf(ctx, 0, false)), statusCacheHeaders(ctx.rt.config.publicStatus));
  },
};

export const metricsRoute: Route = {
  name: "api-metrics", methods: GET, access: "status", cors: true,
  async handle(ctx) {
    parseQuery(ctx.url, {});
    const text = prometheusMetrics(await statusOf(ctx, 0, false));
    return new Response(text, { status: 200, headers: { "content-type": PROMETHEUS_CONTENT_TYPE, ...statusCacheHeaders(ctx.rt.config.publicStatus) } });
  },
};

export const pageRoute: Route = {
  name: "status-page", methods: GET, access: "status",
  async handle(ctx) {
    parseQuery(ctx.url, {});
    const html = renderStatusPage(await statusOf(ctx, 0));
    return new Response(html, {
      status: 200,
      headers: { "content-type": "text/html; charset=utf-8", "content-security-policy": PAGE_CSP, ...statusCacheHeaders(ctx.rt.config.publicStatus) },
    });
  },
};
