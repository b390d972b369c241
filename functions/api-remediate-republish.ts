import type { Config } from "@netlify/functions";
import { httpFunction } from "../netlify/http/handler.ts";
import { remediateRoute } from "../netlify/http/remediate.ts";

/** POST /api/remediate/republish: lists stuck jobs, or republishes them (admin token, paced, audited). */
export default httpFunction(remediateRoute());

export const config: Config = { path: "/api/remediate/republish" };
