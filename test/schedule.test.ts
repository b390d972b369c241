import { describe, expect, it } from "vitest";
import { dueProbes, missedRuns } from "../shared/schedule.ts";

const at = (iso: string) => new Date(iso);

describe("the tick's schedule", () => {
  it.each([
    ["a minute late: one slot missed", "* * * * *", "2026-11-30T10:00:00Z", "2026-11-30T10:01:30Z", 1],
    ["two hours of a per-minute probe, counted slot by slot", "* * * * *", "2026-11-30T10:00:00Z", "2026-11-30T12:00:00Z", 120],
    ["an hour of a 5-minute probe", "*/5 * * * *", "2026-11-30T10:00:00Z", "2026-11-30T11:00:00Z", 12],
    ["thirty days of a per-minute probe, estimated", "* * * * *", "2026-10-31T00:00:00Z", "2026-11-30T00:00:00Z", 43_200],
    ["thirty days of a 3-minute probe, estimated", "*/3 * * * *", "2026-10-31T00:00:00Z", "2026-11-30T00:00:00Z", 14_400],
    ["no time at all", "* * * * *", "2026-11-30T10:00:00Z", "2026-11-30T10:00:00Z", 0],
  ] as const)("missedRuns: %s", (_rule, schedule, from, to, runs) => {
    expect(missedRuns(schedule, at(from), at(to))).toBe(runs);
  });

  it("a probe is due once a slot of its cron has come since the slot it last ran for", () => {
    const probes = [{ id: "outbox", schedule: "*/2 * * * *" }];
    expect(dueProbes(probes, {}, at("2026-11-30T10:05:10Z"))).toEqual([{ id: "outbox", slot: "2026-11-30T10:04:00.000Z" }]);
    expect(dueProbes(probes, { outbox: "2026-11-30T10:04:00.000Z" }, at("2026-11-30T10:05:10Z"))).toEqual([]);
    expect(dueProbes(probes, { outbox: "2026-11-30T10:04:00.000Z" }, at("2026-11-30T10:06:00.300Z"))).toEqual([{ id: "outbox", slot: "2026-11-30T10:06:00.000Z" }]);
  });
});
