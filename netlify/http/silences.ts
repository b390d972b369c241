import { z } from "zod";
import { createSilenceStore, SilenceBody } from "../../shared/alerting/silence-store.ts";
import { HttpError, invalidInput } from "./errors.ts";
import { storeKeys, storeRedis, type Route } from "./handler.ts";
import { parseBody, readJsonBody } from "./input.ts";
import { ADMIN_RATE_LIMIT } from "./rate-limit.ts";
import { json } from "./respond.ts";
import { PROBE_IDS } from "../../shared/probes/catalog.ts";
import { latestChecks } from "../../shared/status/document.ts";

const ITEM = /^\/api\/silences\/([A-Za-z0-9-]{1,40})\/?$/;

/**
 * GET /api/silences lists silences and maintenance windows; POST /api/silences adds one
 * ({probe?, check?, slo?, startsAt?, endsAt | durationMinutes, comment?}); DELETE /api/silences/:id
 * lifts one. Admin token. The caller recorded is the token's fingerprint, never the token.
 */
export function silencesRoute(): Route {
  return {
    name: "api-silences", methods: ["GET", "POST", "DELETE"], access: "admin", rateLimit: ADMIN_RATE_LIMIT,
    async handle({ req, url, rt, caller }) {
      const known = { probes: PROBE_IDS, slos: rt.config.settings.slos.map((o) => o.id), checksOf: async (probe: string) => latestChecks(await rt.store?.readStatus(), probe) };
      const store = createSilenceStore(storeRedis(rt), storeKeys(rt), rt.deps.now, known);
      const id = ITEM.exec(url.pathname)?.[1];
      if (req.method === "GET") return json(200, { version: 1, silences: await store.list() }, { "cache-control": "no-store" });
      if (req.method === "DELETE") {
        if (!id) throw new HttpError(400, "bad_request", "DELETE needs the silence id in the path: /api/silences/<id>");
        if (!(await store.remove(id))) throw new HttpError(404, "unknown_silence", `no silence with id ${id}`);
        rt.log.info("silence lifted", { id, by: `api:${caller.id}` });
        return json(200, { version: 1, removed: id }, { "cache-control": "no-store" });
      }
      if (id) throw new HttpError(400, "bad_request", "POST goes to /api/silences, without an id");
      const body = parseBody(SilenceBody, await readJsonBody(req, 4096));
      try {
        const silence = await store.add({ ...body, createdBy: `api:${caller.id}` });
        rt.log.info("silence added", { id: silence.id, matcher: silence.matcher, endsAt: silence.endsAt, by: silence.createdBy });
        return json(201, { version: 1, silence }, { "cache-control": "no-store" });
      } catch (error) {
        if (error instanceof z.ZodError) throw invalidInput("body", error);
        throw error;
      }
    },
  };
}
