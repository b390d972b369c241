import type { Redis } from "@upstash/redis";
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { Silence } from "./silences.ts";
import { parseSilences } from "../store/tick-store.ts";
import type { Keys } from "../store/keys.ts";

/** What a caller may ask for: validated, so a bad request gets a message that says what to fix. */
const SilenceFields = z.object({
  probe: z.string().regex(/^[a-z0-9-]+$/).optional(),
  check: z.string().min(1).max(120).optional(),
  slo: z.string().regex(/^[a-z0-9-]+$/).optional(),
  startsAt: z.iso.datetime().optional(),
  /** Either endsAt or durationMinutes. */
  endsAt: z.iso.datetime().optional(),
  durationMinutes: z.number().positive().max(60 * 24 * 31).optional(),
  comment: z.string().max(500).default(""),
});

function rules(r: z.infer<typeof SilenceFields>, ctx: z.RefinementCtx) {
  if (r.check && !r.probe) ctx.addIssue({ code: "custom", message: "a check matcher needs its probe", path: ["check"] });
  if (r.slo && (r.probe || r.check)) ctx.addIssue({ code: "custom", message: "match either an SLO or a probe/check, not both", path: ["slo"] });
  if (Boolean(r.endsAt) === Boolean(r.durationMinutes)) ctx.addIssue({ code: "custom", message: "give exactly one of endsAt and durationMinutes", path: ["endsAt"] });
}

/** A silence as an API caller sends it (the caller is recorded by the server). */
export const SilenceBody = SilenceFields.strict().superRefine(rules);
export const SilenceRequest = SilenceFields.extend({ createdBy: z.string().min(1).max(80) }).superRefine(rules);
export type SilenceRequest = z.input<typeof SilenceRequest>;

export function createSilenceStore(redis: Redis, keys: Keys, now: () => Date) {
  return {
    async add(request: SilenceRequest): Promise<Silence> {
      const r = SilenceRequest.parse(request);
      const start = r.startsAt ? new Date(r.startsAt) : now();
      const end = r.endsAt ? new Date(r.endsAt) : new Date(start.getTime() + (r.durationMinutes ?? 0) * 60_000);
      if (end <= start) throw new z.ZodError([{ code: "custom", message: "the silence must end after it starts", path: ["endsAt"], input: r.endsAt }]);
      const silence = Silence.parse({
        id: randomUUID().slice(0, 8), matcher: { probe: r.probe, check: r.check, slo: r.slo },
        startsAt: start.toISOString(), endsAt: end.toISOString(), createdBy: r.createdBy, comment: r.comment, createdAt: now().toISOString(),
      });
      await redis.hset(keys.silences, { [silence.id]: JSON.stringify(silence) });
      return silence;
    },
    async list(): Promise<Silence[]> {
      return parseSilences(await redis.hgetall(keys.silences)).sort((a, b) => a.startsAt.localeCompare(b.startsAt));
    },
    /** True when a silence with that id existed. */
    async remove(id: string): Promise<boolean> {
      return (await redis.hdel(keys.silences, id)) === 1;
    },
  };
}
