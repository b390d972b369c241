import type { Redis } from "@upstash/redis";
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { parseSilences, Silence } from "./silences.ts";
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

/** What a silence may name: the registered probes, the configured SLOs, and the checks a probe reported. */
export interface SilenceTargets {
  probes: readonly string[];
  slos: readonly string[];
  /**
   * The check names of the probe's latest result, or undefined before its first. Asked only for a
   * check matcher; the callers read them from the stored status document (one GET).
   */
  checksOf(probe: string): Promise<readonly string[] | undefined>;
}

/**
 * A silence that names nothing real would hold nothing and look like it does: refused, listing the known
 * names. Check names are not declared anywhere, so a check is judged by the probe's latest result;
 * before a probe's first result any check name is taken.
 */
async function unknownTargets(r: z.infer<typeof SilenceFields>, known: SilenceTargets): Promise<z.core.$ZodRawIssue[]> {
  const issue = (path: string, input: string, message: string, names: readonly string[]) =>
    ({ code: "custom" as const, path: [path], input, message: `${message}; known: ${names.join(", ") || "none"}` });
  if (r.probe && !known.probes.includes(r.probe)) return [issue("probe", r.probe, `unknown probe "${r.probe}"`, known.probes)];
  if (r.slo && !known.slos.includes(r.slo)) return [issue("slo", r.slo, `unknown SLO "${r.slo}"`, known.slos)];
  if (r.probe && r.check) {
    const checks = await known.checksOf(r.probe);
    if (checks && !checks.includes(r.check)) return [issue("check", r.check, `probe ${r.probe} has no check "${r.check}" in its latest result`, checks)];
  }
  return [];
}

/** `known`: refuse silences of unknown probes, checks and SLOs (the CLI and the API pass it). */
export function createSilenceStore(redis: Redis, keys: Keys, now: () => Date, known?: SilenceTargets) {
  return {
    async add(request: SilenceRequest): Promise<Silence> {
      const r = SilenceRequest.parse(request);
      const unknown = known ? await unknownTargets(r, known) : [];
      if (unknown.length) throw new z.ZodError(unknown as z.core.$ZodIssue[]);
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
    /** An acknowledgement of the firing alert `alert` (its occurrence since `alert.since`), until `endsAt` or its resolution. */
    async acknowledge(alert: { key: string; since: string; probe?: string; check?: string; slo?: string }, o: { endsAt: Date; comment: string; createdBy: string }): Promise<Silence> {
      const start = now();
      if (o.endsAt <= start) throw new z.ZodError([{ code: "custom", message: "the acknowledgement must end in the future", path: ["endsAt"], input: o.endsAt.toISOString() }]);
      const silence = Silence.parse({
        id: randomUUID().slice(0, 8), matcher: { probe: alert.probe, check: alert.check, slo: alert.slo }, ack: { alertKey: alert.key, since: alert.since },
        startsAt: start.toISOString(), endsAt: o.endsAt.toISOString(), createdBy: o.createdBy, comment: o.comment, createdAt: start.toISOString(),
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
