import type { Config } from "@netlify/functions";
import { httpFunction } from "../netlify/http/handler.ts";
import { metricsRoute } from "../netlify/http/status-routes.ts";

/** GET /api/metrics: probe states, SLIs, burn rates and budgets in the Prometheus text format. */
export default httpFunction(metricsRoute);

export const config: Config = { path: "/api/metrics" };
