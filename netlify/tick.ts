import { PROBES } from "../shared/probes/registry.ts";
import { measure } from "../shared/runner.ts";
import { buildSlackMessage } from "../shared/slack/message.ts";
import { createSlackSender } from "../shared/slack/sender.ts";
import { policyFrom, probeInfos } from "../shared/fanin/policy.ts";
import { runTick, type TickOptions, type TickReport } from "../shared/tick/run.ts";
import { intervalOf } from "../shared/tick/schedule.ts";
import type { Runtime } from "./runtime.ts";

/** The tick's own cadence: functions/tick.ts (a literal, because Netlify reads it statically). */
export const TICK_SCHEDULE = "* * * * *";

/** Slack's sender: its timeout and one retry, the most a send can take. */
const SEND_BUDGET_MS = 12_000;

/** Runs one tick with the runtime's store, probes and, when configured, Slack. */
export async function tick(rt: Runtime, options: TickOptions): Promise<TickReport> {
  if (!rt.store) throw new Error("the tick needs the sentinel's store (SENTINEL_REDIS_REST_URL)");
  const settings = rt.config.settings;
  const webhookUrl = rt.config.slackWebhookUrl;
  const sender = webhookUrl ? createSlackSender({ webhookUrl, budgetMs: SEND_BUDGET_MS }) : undefined;
  return runTick({
    store: rt.store,
    probes: PROBES,
    infos: probeInfos(settings),
    measure: (probe, previousState, timeoutMs) => measure(probe, { deps: rt.deps, settings, targets: rt.targets, redact: rt.redact, previousState, timeoutMs }),
    policy: policyFrom(settings),
    now: rt.deps.now,
    log: rt.log,
    send: sender
      ? async (notifications) => {
          const outcome = await sender.send(buildSlackMessage(notifications, { statusUrl: rt.config.statusUrl, now: rt.deps.now(), redact: rt.redact }));
          if (outcome.delivery === "unknown") return { ok: false, unknown: true, error: outcome.error };
          return outcome.ok ? { ok: true } : { ok: false, error: outcome.error };
        }
      : undefined,
    settings: {
      ...settings.tick, staleFactor: settings.alerting.staleFactor, sendBudgetMs: SEND_BUDGET_MS, tickIntervalMs: intervalOf(TICK_SCHEDULE),
    },
  }, options);
}
