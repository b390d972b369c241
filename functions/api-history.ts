import type { Config } from "@netlify/functions";
import { httpFunction } from "../netlify/http/handler.ts";
import { historyRoute } from "../netlify/http/status-routes.ts";

/** GET /api/history: 90 days of uptime per stage and check (public or token-protected by SENTINEL_PUBLIC_STATUS). */
export default httpFunction(historyRoute);

export const config: Config = { path: "/api/history" };
