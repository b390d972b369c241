import { publicIncident } from "../../shared/alerting/incident-story.ts";
import { redactDeep } from "../../shared/redact.ts";
import { readStories } from "../incidents.ts";
import { statusCacheHeaders } from "./cors.ts";
import { HttpError } from "./errors.ts";
import type { Route } from "./handler.ts";
import { json } from "./respond.ts";

const ITEM = /^\/api\/incidents\/([0-9]{1,9})\/?$/;
const LIST = /^\/api\/incidents\/?$/;

/**
 * GET /api/incidents (newest first) and GET /api/incidents/<id>: every incident's story, read-only, with
 * the status routes' access (SENTINEL_PUBLIC_STATUS). Redacted; in summary mode each incident is its
 * public summary (what fired, when, how many jobs it touched), never job ids, channel keys or held alerts.
 * 1 GET of the ledger's document per request.
 */
export const incidentsRoute: Route = {
  name: "api-incidents", methods: ["GET"], access: "status", cors: true,
  async handle({ url, rt }) {
    const id = ITEM.exec(url.pathname)?.[1];
    if (!id && !LIST.test(url.pathname)) throw new HttpError(404, "unknown_incident", "incident ids are numbers: /api/incidents/<id>");
    const stories = await readStories(rt);
    if (!stories) throw new HttpError(503, "store_not_configured", "the sentinel's store is not configured (SENTINEL_REDIS_REST_URL)");
    const summary = rt.config.statusView === "summary";
    const shown = (s: (typeof stories)[number]) => (summary ? publicIncident(s) : redactDeep(s, rt.redact));
    const cache = statusCacheHeaders(rt.config.publicStatus, 30);
    if (!id) return json(200, { version: 1, incidents: stories.map(shown) }, cache);
    const found = stories.find((s) => s.id === id);
    if (!found) throw new HttpError(404, "unknown_incident", `no incident ${id}`);
    return json(200, { version: 1, incident: shown(found) }, cache);
  },
};
