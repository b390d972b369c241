import { z } from "zod";
import { hashReply } from "../store/replies.ts";
import { readStored } from "../store/documents.ts";

/**
 * A silence (or maintenance window, when it starts in the future): checks keep running and recording;
 * only notifications are held. Matchers are exact; an empty matcher field matches anything.
 */
export const Silence = z.object({
  id: z.string(),
  matcher: z.object({ probe: z.string().optional(), check: z.string().optional(), slo: z.string().optional() }),
  startsAt: z.iso.datetime(),
  endsAt: z.iso.datetime(),
  createdBy: z.string(),
  comment: z.string().default(""),
  createdAt: z.iso.datetime(),
  /**
   * An acknowledgement: this silence holds one alert while it keeps firing (reminders stop; its
   * resolution is still announced), the occurrence that started at `since`, nothing else.
   */
  ack: z.object({ alertKey: z.string(), since: z.string() }).optional(),
});
export type Silence = z.infer<typeof Silence>;

export interface Silenceable {
  /** The alert's key and when it started firing: what an acknowledgement matches. */
  key?: string;
  since?: string;
  probe?: string;
  check?: string;
  slo?: string;
}

export function isActive(silence: Silence, now: Date): boolean {
  const t = now.getTime();
  return Date.parse(silence.startsAt) <= t && t < Date.parse(silence.endsAt);
}

export function matches(silence: Silence, alert: Silenceable): boolean {
  if (silence.ack) return silence.ack.alertKey === alert.key && silence.ack.since === alert.since;
  const m = silence.matcher;
  if (!m.probe && !m.check && !m.slo) return true;
  if (m.slo) return alert.slo === m.slo;
  return (!m.probe || m.probe === alert.probe) && (!m.check || m.check === alert.check) && !alert.slo;
}

export function activeSilenceFor(silences: Silence[], alert: Silenceable, now: Date): Silence | undefined {
  return silences.find((s) => isActive(s, now) && matches(s, alert));
}

/** The silences hash (HGETALL) as silences; an entry that does not parse is skipped. */
export function parseSilences(raw: unknown): Silence[] {
  return Object.values(hashReply(raw)).flatMap((v) => readStored(Silence, v) ?? []);
}
