import type { Config } from "@netlify/functions";
import { httpFunction } from "../netlify/http/handler.ts";
import { badgeRoute } from "../netlify/http/status-routes.ts";

/** GET /api/status/badge: the overall state in shields.io's endpoint-badge format. */
export default httpFunction(badgeRoute);

export const config: Config = { path: "/api/status/badge" };
