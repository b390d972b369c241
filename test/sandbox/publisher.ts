/**
 * The outbox publisher (`internal/worker/outbox_publisher.go`): fetch up to 100 unpublished rows
 * oldest first, require the keys id/enqueued_at/attempt (a row missing one stays unpublished
 * forever: a poison row), `RPUSH <topic> <payload verbatim>`, then mark it published. Gauges are
 * refreshed only on idle passes, so they go stale while the publisher is busy, as in Beacon.
 */
import { unixNano, ZERO_TIME } from "./go-struct.ts";
import type { Pass } from "./loop.ts";
import type { SandboxContext } from "./context.ts";
import { fetchUnpublished, markPublished, outboxStats } from "./store-jobs.ts";

const REQUIRED_KEYS = ["id", "enqueued_at", "attempt"] as const;

/** Fixed sleep after a failed fetch (`backoff := time.Second`). */
export const PUBLISHER_FETCH_ERROR_SLEEP_MS = 1000;

/**
 * The `payload-mismatch` incident: what the pre-fix publisher is inferred to have sent (contract
 * sheet §2, [uncertain]): a JobMessage whose `jobspec_id` is empty and whose `payload` names the job
 * under another key, with no retries. The worker hands that payload to the JobRunner, which finds
 * no `id`, fails, and the message is dead-lettered at once.
 */
function mismatchedMessage(envelope: Record<string, unknown>): string {
  return JSON.stringify({
    id: `${String(envelope["id"])}:${unixNano()}`,
    jobspec_id: "",
    action: "execute",
    payload: { job_id: envelope["id"], enqueued_at: envelope["enqueued_at"], attempt: envelope["attempt"] },
    attempts: 0,
    max_retries: 0,
    enqueued_at: envelope["enqueued_at"],
    last_attempt: ZERO_TIME,
  });
}

export function createPublisherPass(ctx: SandboxContext): Pass {
  const { metrics } = ctx;
  return async () => {
    if (!ctx.dbAvailable()) return ctx.options.publisherIntervalMs; // never started in database-less mode
    if (ctx.incidents.isOn("publisher-stopped")) return ctx.options.publisherIntervalMs;
    let rows;
    try {
      rows = await fetchUnpublished(ctx.pool, 100);
    } catch {
      metrics.inc("outbox_publish_errors_total");
      return PUBLISHER_FETCH_ERROR_SLEEP_MS;
    }
    let publishedAny = false;
    for (const row of rows) {
      const envelope = JSON.parse(row.payload) as Record<string, unknown>;
      if (typeof envelope !== "object" || envelope === null || REQUIRED_KEYS.some((key) => !(key in envelope))) {
        metrics.inc("outbox_publish_errors_total");
        continue;
      }
      const message = ctx.incidents.isOn("payload-mismatch") ? mismatchedMessage(envelope) : row.payload;
      try {
        await ctx.redis.rpush(row.topic, message);
      } catch {
        metrics.inc("outbox_publish_errors_total");
        continue;
      }
      try {
        await markPublished(ctx.pool, row.id);
      } catch {
        metrics.inc("outbox_publish_errors_total"); // already pushed: at-least-once delivery
        continue;
      }
      metrics.inc("outbox_published_total");
      publishedAny = true;
    }
    if (publishedAny) return 0;
    try {
      const stats = await outboxStats(ctx.pool);
      metrics.set("outbox_unpublished_count", stats.count);
      metrics.set("outbox_oldest_unpublished_age_seconds", stats.oldestAgeSeconds);
    } catch {
      // Beacon logs and keeps the stale gauges
    }
    return ctx.options.publisherIntervalMs;
  };
}
