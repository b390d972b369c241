import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { Redis } from "@upstash/redis";
import { z } from "zod";
import { check, type CheckStatus, type ProbeResult } from "../shared/result.ts";
import { AlertingSettings } from "../shared/alerting/settings.ts";
import { DEFAULT_ROUTES } from "../shared/channels/routes.ts";
import type { AnyProbe } from "../shared/probes/types.ts";
import type { ProbeInfo } from "../shared/status/document.ts";
import { runTick, type TickDeps } from "../shared/tick/run.ts";
import { createTickStore } from "../shared/tick/store.ts";
import { createKeys } from "../shared/store/keys.ts";
import { HISTORY_DAYS, OUTCOME_ORDER, dayState, type Outcomes } from "../shared/status/days.ts";
import { historyReport } from "../shared/status/days-report.ts";
import { renderStatusPage } from "../shared/status/page.ts";
import { BUDGET, MONTH_MINUTES } from "../shared/cost/model.ts";
import { createDirectRedis, testServices } from "./support/env.ts";
import { startUpstashBridge, type UpstashBridge } from "./support/upstash-bridge.ts";

/**
 * 90 days at a glance, from real ticks (issue 23's quality bar): runTick over the Upstash client, our
 * bridge and the real Redis, on a fake clock, with two probes whose outcomes the test decides and
 * counts itself. Ninety-odd days run hour by hour (each tick runs both probes once), the last hour
 * minute by minute to weigh a tick's bytes. The days the status document, the API's report and the page
 * show are held against the test's own counts.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const INFOS: ProbeInfo[] = [
  { id: "depth", title: "Queue depth", stage: "queue", schedule: "* * * * *", intervalMs: MINUTE },
  { id: "lag", title: "Worker lag", stage: "worker", schedule: "* * * * *", intervalMs: MINUTE },
];
const probe = (i: ProbeInfo): AnyProbe => ({ id: i.id, title: i.title, stage: i.stage as AnyProbe["stage"], schedule: i.schedule, settings: z.object({ timeoutMs: z.number() }), run: async () => ({ checks: [] }) });
const POLICY = { objectives: [], alerting: AlertingSettings.parse({ defaults: { failuresToTrigger: 2, window: 3, successesToResolve: 2 } }), probes: INFOS };

/** The outcome the test gives a check at a moment: `depth/backlog` fails 10:00-11:59 on days 3, 13, 23...; `lag/behind` is blind at 03:00 on days 5, 15...; all else passes. */
function outcome(probe: string, name: string, at: number): CheckStatus {
  const day = Math.floor(at / DAY) % 10;
  const hour = new Date(at).getUTCHours();
  if (probe === "depth" && name === "backlog" && day === 3 && (hour === 10 || hour === 11)) return "fail";
  if (probe === "lag" && name === "behind" && day === 5 && hour === 3) return "error";
  return "pass";
}
const CHECKS: Record<string, string[]> = { depth: ["backlog", "size"], lag: ["behind"] };

describe("90 days of history, rolled up by the tick", () => {
  let bridge: UpstashBridge;
  beforeAll(async () => {
    bridge = await startUpstashBridge({ redis: () => createDirectRedis(testServices()), token: randomBytes(8).toString("hex") });
  });
  afterAll(async () => {
    await bridge?.close();
  });

  // Slow by design (about 2,300 real ticks): 90 days are only known by getting there.
  it("shows each day's runs per stage and check as they were counted, its incidents, and costs the same bytes a tick on day 91 as on day 1", async () => {
    const prefix = `history:${randomBytes(4).toString("hex")}:`;
    const keys = createKeys(prefix);
    const redis = new Redis({ url: bridge.url, token: bridge.token, automaticDeserialization: false, responseEncoding: false, enableTelemetry: false, retry: false });
    const start = Math.floor(Date.now() / DAY) * DAY - 92 * DAY;
    const clock = { t: start };
    const store = createTickStore(redis, keys, { infos: INFOS, staleFactor: 2 });
    const counted = new Map<string, Record<string, Outcomes>>(); // day -> "probe/check" -> tally
    const count = (at: number, key: string, status: CheckStatus) => {
      const day = new Date(at).toISOString().slice(0, 10);
      const tallies = counted.get(day) ?? counted.set(day, {}).get(day)!;
      const t = (tallies[key] ??= [0, 0, 0, 0]);
      t[OUTCOME_ORDER.indexOf(status as (typeof OUTCOME_ORDER)[number])]! += 1;
    };
    const deps: TickDeps = {
      store, probes: INFOS.map(probe), infos: INFOS, policy: POLICY, now: () => new Date(clock.t), log: { info() {}, warn() {}, error() {} }, channels: [], routes: DEFAULT_ROUTES,
      settings: { budgetMs: 25_000, probeBudgetMs: 12_000, pendingCap: 50, staleFactor: 2, sendBudgetMs: 12_000, tickIntervalMs: MINUTE },
      measure: async (p) => {
        const checks = CHECKS[p.id]!.map((name) => {
          const status = outcome(p.id, name, clock.t);
          count(clock.t, `${p.id}/${name}`, status);
          return check({ name, status, observed: status === "pass" ? 0 : 9, threshold: "<= 5", message: `${name} ${status}` });
        });
        const status = checks.some((c) => c.status === "fail") ? "fail" : checks.every((c) => c.status === "error") ? "error" : "pass";
        const result: ProbeResult = { version: 1, probe: p.id, status, startedAt: new Date(clock.t).toISOString(), durationMs: 20, checks };
        return { result, state: undefined };
      },
    };
    try {
      // 92 days and 23 hours hour by hour, then the last hour minute by minute, its bytes weighed.
      while (clock.t < start + 92 * DAY + 23 * HOUR) {
        await runTick(deps, { write: true });
        clock.t += HOUR;
      }
      bridge.meter.reset();
      for (let i = 0; i < 60; i++) {
        await runTick(deps, { write: true });
        clock.t += MINUTE;
      }
      const perTick = (bridge.meter.bytesIn + bridge.meter.bytesOut) / 60;

      const doc = (await store.readStatus())!;
      const days = doc.history!.days;
      const today = new Date(clock.t - MINUTE).toISOString().slice(0, 10);
      // Ninety days kept, the last today's; the oldest dropped as new ones closed.
      expect(days).toHaveLength(HISTORY_DAYS);
      expect(days.at(-1)!.day).toBe(today);
      expect(days.map((d) => d.day)).toEqual([...counted.keys()].slice(-HISTORY_DAYS));
      // Every day and check as counted; each stage the sum of its checks.
      for (const d of days) {
        const tallies = counted.get(d.day)!;
        expect(d.checks, d.day).toEqual(tallies);
        const sum = (keys: string[]) => keys.reduce<Outcomes>((acc, k) => acc.map((n, i) => n + (tallies[k]?.[i] ?? 0)) as Outcomes, [0, 0, 0, 0]);
        expect(d.stages, d.day).toEqual({ queue: sum(["depth/backlog", "depth/size"]), worker: sum(["lag/behind"]) });
      }
      // The failing days each carry the incident of depth/backlog; no other day has one.
      const failing = days.filter((d) => (counted.get(d.day)!["depth/backlog"]![2] ?? 0) > 0).map((d) => d.day);
      expect(failing.length).toBe(9);
      expect(days.filter((d) => d.incidents.length).map((d) => d.day)).toEqual(failing);
      for (const d of days.filter((x) => failing.includes(x.day))) expect(d.incidents.map((i) => [i.stage, i.title])).toEqual([["queue", expect.stringContaining("backlog")]]);

      // The API's report and the page draw the same days: states, uptime, incidents.
      const report = historyReport(doc, { days: HISTORY_DAYS });
      const queue = report.stages.find((s) => s.id === "queue")!;
      expect(queue.days.map((d) => d.state)).toEqual(days.map((d) => dayState(d.stages["queue"]!)));
      expect(queue.days.filter((d) => d.state === "fail").map((d) => d.day)).toEqual(failing); // 4 failed of 48 runs: more than 1%
      expect(queue.incidents).toBe(9);
      const worker = report.stages.find((s) => s.id === "worker")!;
      expect(worker.days.filter((d) => d.state !== "pass").length).toBe(9); // one blind run in 24 on each fifth day: degraded
      const html = renderStatusPage(doc);
      for (const day of failing) expect(html).toMatch(new RegExp(`data-day="${day}" data-state="fail" aria-label="[^"]*#\\d+ [^"]*backlog`));
      expect(html.match(/class="day f-/g)).toHaveLength(doc.stages.length * HISTORY_DAYS); // every stage drawn, watched or not

      // What the store holds stays small, and a tick on day 93 moves no more than the month's budget allows.
      const direct = createDirectRedis(testServices());
      const [state, pastDays, pastSlots] = [await direct.strlen(keys.state), await direct.strlen(keys.pastDays), await direct.strlen(keys.pastSlots)];
      await direct.quit();
      console.info(`after 93 days: state ${state} B, past days ${pastDays} B (${HISTORY_DAYS - 1} days), past slots ${pastSlots} B; a tick moves ${Math.round(perTick)} B`);
      expect(pastDays).toBeLessThan(8_000);
      expect(perTick * MONTH_MINUTES).toBeLessThan(BUDGET.storeTransferBytes / 3); // the whole tick's share of a 1 GB month
    } finally {
      await Promise.all([keys.state, keys.ledger, keys.lock, keys.seq, keys.pastDays, keys.pastSlots].map((k) => redis.del(k)));
    }
  }, 600_000);
});
