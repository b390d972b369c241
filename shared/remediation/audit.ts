import { readStored } from "../store/documents.ts";
import type { Redis } from "@upstash/redis";
import { z } from "zod";
import { escapeMrkdwn, type SlackMessage } from "../channels/slack/message.ts";
import type { Keys } from "../store/keys.ts";
import { JobOutcome } from "./execute.ts";
import { BlockCode } from "./plan.ts";

/**
 * The audit trail of remediation: one entry per execution attempt (dry runs change nothing and are not
 * recorded), in a capped list in the store and, when Slack is configured, as a message.
 */
export const AuditEntry = z.object({
  version: z.literal(1),
  at: z.iso.datetime(),
  action: z.literal("republish-job"),
  /** "cli:<user>" or "api:<token fingerprint>": never a token. */
  caller: z.string(),
  /** The jobs the caller named, or [] for "every stuck job". */
  requested: z.array(z.string()),
  blocked: z.object({ code: BlockCode, message: z.string() }).nullable(),
  results: z.array(JobOutcome),
  /** Jobs left for a later run (the per-request cap). */
  remaining: z.array(z.string()),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

/** LPUSH + LTRIM in one transaction: the list never grows past `length`. */
export async function recordAudit(redis: Redis, keys: Keys, entry: AuditEntry, length: number): Promise<void> {
  const tx = redis.multi();
  tx.lpush(keys.audit, JSON.stringify(AuditEntry.parse(entry)));
  tx.ltrim(keys.audit, 0, length - 1);
  await tx.exec();
}

/** Newest first; unreadable entries are skipped. */
export async function readAudit(redis: Redis, keys: Keys, count: number): Promise<AuditEntry[]> {
  const raws = await redis.lrange<string>(keys.audit, 0, count - 1);
  return raws.flatMap((raw) => readStored(AuditEntry, raw) ?? []);
}

const SHOWN = 15;

/** The audit entry as one Slack message. Pure; every string is redacted, then escaped for mrkdwn. */
export function auditSlackMessage(entry: AuditEntry, redact: (s: string) => string = (s) => s): SlackMessage {
  const e = (s: string) => escapeMrkdwn(redact(s));
  const done = entry.results.filter((r) => r.outcome === "republished").length;
  const headline = entry.blocked
    ? `Remediation refused: republish requested by ${entry.caller} (${entry.blocked.code})`
    : `Remediation: ${done} of ${entry.results.length} stuck job(s) republished by ${entry.caller}`;
  const lines = entry.blocked ? [entry.blocked.message] : [];
  for (const r of entry.results.slice(0, SHOWN)) lines.push(`• ${r.jobId}: ${r.outcome}, ${r.detail}`);
  if (entry.results.length > SHOWN) lines.push(`…and ${entry.results.length - SHOWN} more`);
  if (entry.remaining.length) lines.push(`${entry.remaining.length} more job(s) left for the next run`);
  const body = lines.map(e).join("\n") || "nothing to do";
  return {
    text: e(headline),
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `*${e(headline)}*\n${body}`.slice(0, 2900) } },
      { type: "context", elements: [{ type: "mrkdwn", text: `Audited ${e(entry.at)} · jobs: ${e(entry.requested.length ? entry.requested.join(", ") : "every stuck job").slice(0, 500)}` }] },
    ],
  };
}
