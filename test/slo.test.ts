import { describe, expect, it } from "vitest";
import { evaluateSlo, type CountWindow } from "../shared/slo/evaluate.ts";
import { Objective, enoughEvents } from "../shared/slo/objectives.ts";
import { sloEntries } from "../shared/status/slos.ts";
import { budgetText } from "../shared/status/format.ts";
import { increments, parseCounterHash, staleFields, windowCounter, type CounterHash } from "../shared/slo/counters.ts";

const NOW = Date.UTC(2026, 10, 23, 12, 0, 30);
const MIN = 60_000;

/** Events at a steady rate: `perMinute` events a minute, of which the share `bad` is bad within `badWithinMin` of now. */
function steady(perMinute: number, bad: { ratio: number; withinMinutes: number }): CountWindow {
  return (_source, from, to) => {
    const minutes = (to - from) / MIN;
    const total = Math.round(perMinute * minutes);
    const badMinutes = Math.min(minutes, bad.withinMinutes);
    const badCount = Math.round(perMinute * badMinutes * bad.ratio);
    return { good: total - badCount, total };
  };
}

import type { z } from "zod";

const objective = (over: Partial<z.input<typeof Objective>> = {}) =>
  Objective.parse({ id: "error-rate", title: "t", target: 0.999, sources: ["traffic:requests"], ...over });

describe("burn rates and budgets", () => {
  it.each([
    // name, error ratio in the last N minutes, expected severity
    ["no errors: nothing fires", 0, 0, null],
    ["1.5% for the last hour burns 15x: pages (14.4x over 1h and 5m)", 0.015, 60, "page"],
    ["1.2% for the last hour is under 14.4x, and 6h is not burning yet: quiet", 0.012, 60, null],
    ["0.7% for 6 hours burns 7x: pages on the 6h/30m rule", 0.007, 360, "page"],
    ["0.35% for a day burns 3.5x: a ticket", 0.0035, 1440, "ticket"],
    ["a burst that stopped 40 minutes ago: the short windows clear the pages, a ticket remains", 0.5, -1, "ticket"],
  ] as const)("%s", (_name, ratio, withinMinutes, severity) => {
    const count: CountWindow = withinMinutes === -1
      ? (_s, from, to) => { // 50% errors from 100 to 40 minutes ago
          const total = Math.round((to - from) / MIN) * 100;
          const overlap = Math.max(0, Math.min(to, NOW - 40 * MIN) - Math.max(from, NOW - 100 * MIN)) / MIN;
          return { good: total - Math.round(overlap * 100 * 0.5), total };
        }
      : steady(100, { ratio, withinMinutes });
    expect(evaluateSlo(objective(), count, NOW).severity).toBe(severity);
  });

  it("reports burn rate, budget remaining as a fraction and as minutes", () => {
    // 0.05% errors over the whole period: half the 0.1% budget is spent.
    const status = evaluateSlo(objective(), steady(10, { ratio: 0.0005, withinMinutes: 30 * 1440 }), NOW);
    expect(status.period.burnRate).toBeCloseTo(0.5, 2);
    expect(status.budgetRemaining).toBeCloseTo(0.5, 2);
    expect(status.budgetRemainingMinutes).toBeCloseTo(21.6, 0); // 0.5 x 0.1% x 43,200 minutes
    expect(status.source).toBe("traffic:requests");
    expect(status.events).toBe(432_000);
  });

  it("uses the factors 14.4, 6, 3 and 1", () => {
    const status = evaluateSlo(objective(), steady(100, { ratio: 0, withinMinutes: 0 }), NOW);
    expect(status.alerts.map((a) => [a.severity, a.factor, a.long.minutes, a.short.minutes])).toEqual([
      ["page", 14.4, 60, 5], ["page", 6, 360, 30], ["ticket", 3, 1440, 120], ["ticket", 1, 4320, 360],
    ]);
  });

  it("scales the windows, not the factors, to a 7-day period", () => {
    const status = evaluateSlo(objective({ periodDays: 7 }), steady(100, { ratio: 0, withinMinutes: 0 }), NOW);
    expect(status.alerts.map((a) => [a.factor, a.long.minutes, a.short.minutes])).toEqual([
      [14.4, 14, 14 / 12], [6, 84, 7], [3, 336, 28], [1, 1008, 84],
    ]);
  });

  it("the minimum sample follows the objective: one bad event alone never spends a whole budget", () => {
    expect([0.99, 0.999, 0.9999, 0.95].map((target) => enoughEvents({ target, minEvents: 100 }))).toEqual([101, 1001, 10001, 100]);
    expect(enoughEvents({ target: 0.99, minEvents: 500 })).toBe(500); // minEvents stays a floor
    // 1000 events at 99.9%, one bad: that is the whole budget, so it is not judged at all.
    const thin = evaluateSlo(objective(), () => ({ good: 999, total: 1000 }), NOW);
    expect(thin).toMatchObject({ events: 1000, enoughEvents: 1001, budgetRemaining: null, budgetRemainingMinutes: null, severity: null });
    expect(thin.alerts.every((a) => !a.firing)).toBe(true);
    // 1001 events, one bad: judged, and some budget is left (1 - 1000/1001).
    const judged = evaluateSlo(objective(), () => ({ good: 1000, total: 1001 }), NOW);
    expect(judged.budgetRemaining).toBeCloseTo(1 / 1001, 9);
    expect(judged.budgetRemaining).toBeGreaterThan(0);
  });

  it("low traffic widens the windows: one failed 1-minute probe is judged over 32 h, not an hour, and does not page", () => {
    const status = evaluateSlo(objective({ sources: ["health:availability"] }), steady(1, { ratio: 1, withinMinutes: 1 }), NOW);
    // 60 events an hour: the 1 h rule doubles to 32 h (1920 events >= 1001), the 6 h rule to 24 h; the day rules hold enough.
    expect(status.alerts.map((a) => [a.long.minutes, a.short.minutes, a.long.total, a.widenedFrom ?? null])).toEqual([
      [1920, 160, 1920, 60], [1440, 120, 1440, 360], [1440, 120, 1440, null], [4320, 360, 4320, null],
    ]);
    expect(status.alerts[0]!.long.burnRate).toBeCloseTo(1 / 1920 / 0.001, 6); // 0.52x, where the hour alone said 16.7x
    expect(status.alerts.map((a) => [a.firing, a.guarded])).toEqual([[false, false], [false, false], [false, false], [false, false]]);
    expect(status.severity).toBeNull();
  });

  it("low traffic still pages on a real outage: an hour of failed 1-minute probes burns 31x over 32 h / 160 min", () => {
    const status = evaluateSlo(objective({ sources: ["health:availability"] }), steady(1, { ratio: 1, withinMinutes: 60 }), NOW);
    const hour = status.alerts[0]!;
    expect([hour.long.total, hour.long.total - hour.long.good, hour.short.total, hour.short.total - hour.short.good]).toEqual([1920, 60, 160, 60]);
    expect(hour.long.burnRate).toBeCloseTo(60 / 1920 / 0.001, 6); // 31.25
    expect(hour).toMatchObject({ firing: true, guarded: false, widenedFrom: 60 });
    expect(status.severity).toBe("page");
  });

  it("a window that cannot hold enough events even at the period is not judged: guarded, and shown without a burn rate", () => {
    // 36 events in the whole period, 1 bad (the "not enough data (36 of 100)" beside "burn 472x").
    const count: CountWindow = (_s, from, to) => (to - from >= 60 * MIN ? { good: 35, total: 36 } : { good: 0, total: 1 });
    const status = evaluateSlo(objective({ sources: ["health:availability"] }), count, NOW);
    expect(status).toMatchObject({ events: 36, enoughEvents: 1001, budgetRemaining: null, severity: null });
    expect(status.alerts.map((a) => [a.long.minutes, a.firing, a.guarded])).toEqual([[60, false, true], [360, false, true], [1440, false, true], [4320, false, true]]);
    const [entry] = sloEntries({ evaluatedAt: new Date(NOW).toISOString(), slos: [status] }).items;
    expect(budgetText(entry!)).toBe("not enough data yet (36 of 1001 events)");
    expect(entry!.windows.map((w) => w.burnRate)).toEqual([null, null, null, null, null, null, null, null]);
    expect(entry!.burnAlerts.map((a) => [a.longBurnRate, a.shortBurnRate])).toEqual([[null, null], [null, null], [null, null], [null, null]]);
  });

  it("prefers a source with enough events: a thin request counter falls back to the canary's synthetic events", () => {
    const counts: Record<string, number> = { "traffic:requests": 40, "canary:jobs": 2000 };
    const count: CountWindow = (s, from, to) => (to - from >= 30 * 1440 * MIN ? { good: counts[s] ?? 0, total: counts[s] ?? 0 } : { good: 0, total: 0 });
    expect(evaluateSlo(objective({ sources: ["traffic:requests", "canary:jobs"] }), count, NOW)).toMatchObject({ source: "canary:jobs", events: 2000 });
    counts["canary:jobs"] = 10; // neither has enough: the first with any events, shown as not enough data
    expect(evaluateSlo(objective({ sources: ["traffic:requests", "canary:jobs"] }), count, NOW)).toMatchObject({ source: "traffic:requests", events: 40, budgetRemaining: null });
  });

  it("falls back to the next source, and says when no source has events", () => {
    const only = (name: string): CountWindow => (s, f, t) => (s === name ? steady(5, { ratio: 0, withinMinutes: 0 })(s, f, t) : { good: 0, total: 0 });
    const o = objective({ sources: ["traffic:jobs", "canary:jobs"] });
    expect(evaluateSlo(o, only("canary:jobs"), NOW).source).toBe("canary:jobs");
    const none = evaluateSlo(o, only("nothing:here"), NOW);
    expect(none).toMatchObject({ source: null, events: 0, budgetRemaining: null, severity: null });
  });
});

describe("per-minute counters", () => {
  function feed(events: [atMs: number, good: number, total: number][]): CounterHash {
    const hash: CounterHash = {};
    for (const [at, good, total] of events) for (const [f, by] of increments({ good, total }, at)) hash[f] = (hash[f] ?? 0) + by;
    return hash;
  }

  it("sums windows at minute, hour and day resolution", () => {
    const hash = feed([[NOW, 9, 10], [NOW - 3 * MIN, 5, 5], [NOW - 2 * 3_600_000, 1, 4], [NOW - 5 * 86_400_000, 0, 7]]);
    const count = windowCounter({ s: hash }, NOW);
    expect(count("s", NOW - 5 * MIN, NOW)).toEqual({ good: 14, total: 15 });
    expect(count("s", NOW - 3 * 3_600_000, NOW)).toEqual({ good: 15, total: 19 });
    expect(count("s", NOW - 30 * 86_400_000, NOW)).toEqual({ good: 15, total: 26 });
    expect(count("other", NOW - MIN, NOW)).toEqual({ good: 0, total: 0 });
  });

  it("prunes fields past their retention and keeps the rest", () => {
    const hash = feed([[NOW, 1, 1], [NOW - 8 * 3_600_000, 1, 1], [NOW - 40 * 86_400_000, 1, 1]]);
    const stale = staleFields(hash, NOW, 30);
    expect(stale.filter((f) => f.startsWith("m"))).toHaveLength(4); // the minutes 8 hours and 40 days old
    expect(stale.filter((f) => f.startsWith("h"))).toHaveLength(2); // the hour 40 days old
    expect(stale.filter((f) => f.startsWith("d"))).toHaveLength(2); // the day 40 days old
    expect(stale).not.toContain(`m${Math.floor(NOW / MIN)}g`);
  });

  it("parses HGETALL replies defensively", () => {
    expect(parseCounterHash({ m1g: "3", m1t: 4, junk: "x" })).toEqual({ m1g: 3, m1t: 4 });
    expect(parseCounterHash(null)).toEqual({});
  });
});
