import type { Config } from "@netlify/functions";
import { httpFunction } from "../netlify/http/handler.ts";
import { probeRunRoute } from "../netlify/http/probe-run.ts";

/** POST /api/probes/:id/run: runs a probe now (admin token); ?dry_run=true, ?notify=true. */
export default httpFunction(probeRunRoute());

export const config: Config = { path: "/api/probes/:id/run" };
