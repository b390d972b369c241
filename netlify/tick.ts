import { PROBES } from "../shared/probes/registry.ts";
import { measure } from "../shared/runner.ts";
import { createChannels, SEND_BUDGET_MS } from "../shared/channels/index.ts";
import { policyFrom, probeInfos } from "../shared/fanin/policy.ts";
import { runTick, type TickOptions, type TickReport } from "../shared/tick/run.ts";
import { intervalOf } from "../shared/tick/schedule.ts";
import type { Runtime } from "./runtime.ts";

/** The tick's own cadence: functions/tick.ts (a literal, because Netlify reads it statically). */
export const TICK_SCHEDULE = "* * * * *";

/** Runs one tick with the runtime's store, probes and configured channels (Slack, PagerDuty, Alertmanager, webhook). */
export async function tick(rt: Runtime, options: TickOptions): Promise<TickReport> {
  if (!rt.store) throw new Error("the tick needs the sentinel's store (SENTINEL_REDIS_REST_URL)");
  const settings = rt.config.settings;
  return runTick({
    store: rt.store,
    probes: PROBES,
    infos: probeInfos(settings),
    measure: (probe, previousState, timeoutMs) => measure(probe, { deps: rt.deps, settings, targets: rt.targets, redact: rt.redact, previousState, timeoutMs }),
    policy: policyFrom(settings),
    now: rt.deps.now,
    log: rt.log,
    channels: createChannels(rt.config, { fetch: rt.deps.fetch, redact: rt.redact, now: rt.deps.now }),
    routes: settings.routes,
    settings: {
      ...settings.tick, staleFactor: settings.alerting.staleFactor, sendBudgetMs: SEND_BUDGET_MS, tickIntervalMs: intervalOf(TICK_SCHEDULE),
    },
  }, options);
}
