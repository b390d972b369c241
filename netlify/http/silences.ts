import { z } from "zod";
import { createSilenceStore, SilenceBody } from "../../shared/alerting/silence-store.ts";
import { HttpError, invalidInput } from "./errors.ts";
import { storeKeys, storeRedis, type Route } from "./handler.ts";
import { parseBody, readJsonBody } from "./input.ts";
import { ADMIN_RATE_LIMIT } from "./rate-limit.ts";
import { json } from "./respond.ts";
import { PROBE_IDS } from "../../shared/probes/catalog.ts";
import { latestChecks } from "../../shared/status/document.ts";
import { announceAck, type AckedAlert } from "../../shared/channels/acknowledge.ts";

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
        rt.log.info("silence lifted", { id, by: caller.id });
        return json(200, { version: 1, removed: id }, { "cache-control": "no-store" });
      }
      if (id) throw new HttpError(400, "bad_request", "POST goes to /api/silences, without an id");
      const raw = await readJsonBody(req, 4096);
      if (raw && typeof raw === "object" && "ack" in raw) return acknowledge(parseBody(AckBody, raw));
      const body = parseBody(SilenceBody, raw);
      try {
        const silence = await store.add({ ...body, createdBy: caller.id });
        rt.log.info("silence added", { id: silence.id, matcher: silence.matcher, endsAt: silence.endsAt, by: silence.createdBy });
        return json(201, { version: 1, silence }, { "cache-control": "no-store" });
      } catch (error) {
        if (error instanceof z.ZodError) throw invalidInput("body", error);
        throw error;
      }

      /** An acknowledgement of a firing alert: held until it resolves or the time is up, and told to PagerDuty and Slack. */
      async function acknowledge(body: z.infer<typeof AckBody>) {
        const alert = (await rt.store?.readStatus())?.alerts.firing.find((a) => a.key === body.ack);
        if (!alert?.since) throw new HttpError(409, "not_firing", `alert ${body.ack} is not firing: only a firing alert can be acknowledged`);
        const endsAt = body.endsAt ? new Date(body.endsAt) : new Date(rt.deps.now().getTime() + body.durationMinutes! * 60_000);
        const by = caller.id;
        try {
          const silence = await store.acknowledge({ ...alert, since: alert.since }, { endsAt, comment: body.comment, createdBy: by });
          rt.log.info("alert acknowledged", { id: silence.id, alert: alert.key, since: alert.since, endsAt: silence.endsAt, by });
          const sent = await announceAck({ key: alert.key, type: alert.type as AckedAlert["type"], severity: alert.severity as AckedAlert["severity"], probe: alert.probe, title: alert.title },
            { by, comment: body.comment, until: silence.endsAt }, { deployment: rt.config, settings: rt.config.settings, fetch: rt.deps.fetch, redact: rt.redact });
          return json(201, { version: 1, silence, sent }, { "cache-control": "no-store" });
        } catch (error) {
          if (error instanceof z.ZodError) throw invalidInput("body", error);
          throw error;
        }
      }
    },
  };
}

/** `{"ack": "<alert key>", "durationMinutes": N | "endsAt": ISO, "comment": "why"}`: the reason is required. */
const AckBody = z.object({
  ack: z.string().min(1).max(300),
  durationMinutes: z.number().positive().max(60 * 24 * 31).optional(),
  endsAt: z.iso.datetime().optional(),
  comment: z.string().trim().min(1, "say why (the reason is shown and sent)").max(500),
}).strict().refine((b) => Boolean(b.endsAt) !== Boolean(b.durationMinutes), { message: "give exactly one of endsAt and durationMinutes", path: ["endsAt"] });
