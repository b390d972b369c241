import type { Config } from "@netlify/functions";
import { httpFunction } from "../netlify/http/handler.ts";
import { incidentsRoute } from "../netlify/http/incidents.ts";

/** GET /api/incidents and /api/incidents/:id: every incident's story (public, summary or token-protected by SENTINEL_PUBLIC_STATUS). */
export default httpFunction(incidentsRoute);

export const config: Config = { path: ["/api/incidents", "/api/incidents/:id"] };
