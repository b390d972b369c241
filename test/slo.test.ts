import { describe, expect, it } from "vitest";
import { evaluateSlo, type CountWindow } from "../shared/slo/evaluate.ts";
import { Objective } from "../shared/slo/objectives.ts";
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
    const status = evaluateSlo(objective(), steady(10, { ratio: 0, withinMinutes: 0 }), NOW);
    expect(status.alerts.map((a) => [a.severity, a.factor, a.long.minutes, a.short.minutes])).toEqual([
      ["page", 14.4, 60, 5], ["page", 6, 360, 30], ["ticket", 3, 1440, 120], ["ticket", 1, 4320, 360],
    ]);
  });

  it("scales the windows, not the factors, to a 7-day period", () => {
    const status = evaluateSlo(objective({ periodDays: 7 }), steady(10, { ratio: 0, withinMinutes: 0 }), NOW);
    expect(status.alerts.map((a) => [a.factor, a.long.minutes, a.short.minutes])).toEqual([
      [14.4, 14, 14 / 12], [6, 84, 7], [3, 336, 28], [1, 1008, 84],
    ]);
  });

  it("the low-sample guard: one failed probe in an hour of 1-minute samples does not page", () => {
    const status = evaluateSlo(objective({ sources: ["health:availability"] }), steady(1, { ratio: 1, withinMinutes: 1 }), NOW);
    const hourRule = status.alerts[0]!;
    expect(hourRule.long.burnRate).toBeGreaterThan(14.4); // 1/60 = 1.7% against a 0.1% budget
    expect(hourRule).toMatchObject({ firing: false, guarded: true });
    expect(status.severity).toBeNull();
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
