import type { Config } from "@netlify/functions";
import { httpFunction } from "../netlify/http/handler.ts";
import { silencesRoute } from "../netlify/http/silences.ts";

/** GET/POST /api/silences, DELETE /api/silences/:id: silences and maintenance windows (admin token). */
export default httpFunction(silencesRoute());

export const config: Config = { path: ["/api/silences", "/api/silences/:id"] };
