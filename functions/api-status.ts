import type { Config } from "@netlify/functions";
import { httpFunction } from "../netlify/http/handler.ts";
import { statusRoute } from "../netlify/http/status-routes.ts";

/** GET /api/status: the versioned status document (public or token-protected by SENTINEL_PUBLIC_STATUS). */
export default httpFunction(statusRoute);

export const config: Config = { path: "/api/status" };
