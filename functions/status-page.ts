import type { Config } from "@netlify/functions";
import { httpFunction } from "../netlify/http/handler.ts";
import { pageRoute } from "../netlify/http/status-routes.ts";

/** GET /status: the self-contained, self-refreshing status page. */
export default httpFunction(pageRoute);

export const config: Config = { path: "/status" };
