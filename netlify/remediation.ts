import { createKeys } from "../shared/store/keys.ts";
import { createSlackSender } from "../shared/channels/slack/sender.ts";
import type { RemediationDeps } from "../shared/remediation/run.ts";
import type { Runtime } from "./runtime.ts";

export const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Remediation's dependencies from a runtime: Beacon's database, the store, and Slack when configured. */
export function remediationDeps(rt: Runtime, options: { sleep?: (ms: number) => Promise<void> } = {}): RemediationDeps {
  if (!rt.storeRedis || !rt.config.store) throw new Error("remediation needs the sentinel's store (SENTINEL_REDIS_REST_URL) for its audit trail");
  const webhookUrl = rt.config.slackWebhookUrl;
  const sender = webhookUrl ? createSlackSender({ webhookUrl }) : undefined;
  return {
    sql: rt.deps.sql, beaconRedis: rt.deps.beaconRedis, redis: rt.storeRedis, keys: createKeys(rt.config.store.keyPrefix), settings: rt.config.settings,
    fetch: rt.deps.fetch, now: rt.deps.now, sleep: options.sleep ?? realSleep, log: rt.log, redact: rt.redact,
    beaconApiUrl: rt.config.beaconApiUrl, beaconAdminToken: rt.config.beaconAdminToken,
    notify: sender
      ? async (message) => {
          const outcome = await sender.send(message);
          return outcome.ok ? { ok: true } : { ok: false, error: outcome.error };
        }
      : undefined,
  };
}
