import { buildSlackMessage } from "../shared/slack/message.ts";
import { createSlackSender } from "../shared/slack/sender.ts";
import { runFanIn, type FanInDeps, type FanInReport } from "../shared/fanin/run.ts";
import { policyFrom } from "../shared/fanin/policy.ts";
import { createKeys } from "../shared/store/keys.ts";
import type { Runtime } from "./runtime.ts";

/** Runs one fan-in evaluation with the runtime's store and, when configured, Slack. */
export async function evaluate(rt: Runtime, options: { notify: boolean }): Promise<FanInReport> {
  if (!rt.storeRedis || !rt.config.store) throw new Error("the fan-in needs the sentinel's store (SENTINEL_REDIS_REST_URL)");
  const webhookUrl = rt.config.slackWebhookUrl;
  const sender = webhookUrl ? createSlackSender({ webhookUrl }) : undefined;
  const deps: FanInDeps = {
    redis: rt.storeRedis,
    keys: createKeys(rt.config.store.keyPrefix),
    now: rt.deps.now,
    log: rt.log,
    send: sender
      ? async (notifications) => {
          const outcome = await sender.send(buildSlackMessage(notifications, { statusUrl: rt.config.statusUrl, now: rt.deps.now(), redact: rt.redact }));
          return outcome.ok ? { ok: true } : { ok: false, error: outcome.error };
        }
      : undefined,
  };
  return runFanIn(deps, policyFrom(rt.config.settings), options);
}
