import { describe, expect, it } from "vitest";
import { loadSettings, ConfigError, Settings, scheduleOf } from "../shared/config/index.ts";
import { PROBES } from "../shared/probes/catalog.ts";
import { submissionDueInMs } from "../shared/probes/canary/index.ts";
import { submissionIntervalMinutes } from "../shared/probes/canary/settings.ts";
import { databaseEveryMinutesOf } from "../shared/probes/health/settings.ts";
import { coveringGapSeconds } from "../shared/probes/settings.ts";

/** beacon.database.everyMinutes: one number puts every statement of ours on the same minutes (README "Letting Neon sleep"). */
describe("beacon.database.everyMinutes", () => {
  const settings = (json: unknown) => loadSettings({ SENTINEL_SETTINGS: JSON.stringify(json) });

  it("sets the cadence of every probe that runs SQL, health's connection and the canary's submissions; the others keep theirs", () => {
    const s = settings({ beacon: { database: { everyMinutes: 30 } } });
    expect(Object.fromEntries(PROBES.map((p) => [p.id, scheduleOf(s, p)]))).toEqual({
      health: "* * * * *", outbox: "*/30 * * * *", queue: "*/5 * * * *", receipts: "*/30 * * * *", traffic: "*/5 * * * *", canary: "* * * * *", regions: "*/30 * * * *",
    });
    expect(databaseEveryMinutesOf(s.probes.health, s.beacon)).toBe(30);
    expect(submissionIntervalMinutes(s.probes.canary, s.beacon)).toBe(30); // 15, rounded up to its minutes
    expect(scheduleOf(settings({ beacon: { database: { everyMinutes: 60 } } }), PROBES.find((p) => p.id === "outbox")!)).toBe("0 * * * *");
    const unset = Settings.parse({});
    expect([databaseEveryMinutesOf(unset.probes.health, unset.beacon), submissionIntervalMinutes(unset.probes.canary, unset.beacon)]).toEqual([1, 15]);
    expect(databaseEveryMinutesOf(settings({ probes: { health: { databaseEveryMinutes: 10 } } }).probes.health, unset.beacon)).toBe(10);
  });

  it.each([
    ["a minute count that does not divide the hour", { beacon: { database: { everyMinutes: 45 } } }, "SENTINEL_SETTINGS.beacon.database.everyMinutes: must divide 60"],
    ["a probe schedule it would set", { beacon: { database: { everyMinutes: 30 } }, schedules: { outbox: "*/2 * * * *" } }, "SENTINEL_SETTINGS.schedules.outbox: beacon.database.everyMinutes (30) sets it: remove one of the two"],
    ["a health connection off its minutes", { beacon: { database: { everyMinutes: 30 } }, probes: { health: { databaseEveryMinutes: 20 } } }, "SENTINEL_SETTINGS.probes.health.databaseEveryMinutes: beacon.database.everyMinutes (30) sets it: a multiple of it, or unset"],
  ])("refuses %s, naming it", (_what, json, problem) => {
    expect(() => settings(json)).toThrow(ConfigError);
    try {
      settings(json);
    } catch (error) {
      expect((error as ConfigError).problems.join("\n")).toContain(problem);
    }
  });

  it("submits the canary only on its minutes, counted in whole minutes (a tick a little early on its minute still submits)", () => {
    const at = (hhmmss: string) => Date.parse(`2026-06-01T${hhmmss}Z`);
    expect(submissionDueInMs(undefined, at("12:07:00"), 15, 30)).toBe(at("12:30:00") - at("12:07:00"));
    expect(submissionDueInMs(undefined, at("12:30:00.300"), 15, 30)).toBe(0);
    // Submitted at 12:30:00.4; the tick of 13:00 runs at 13:00:00.1: due (15 min rounded up to 30).
    expect(submissionDueInMs(at("12:30:00.400"), at("12:45:00.100"), 15, 30)).toBeGreaterThan(0);
    expect(submissionDueInMs(at("12:30:00.400"), at("13:00:00.100"), 15, 30)).toBe(0);
    // A missed minute waits for the next one on the cadence, never submits off it.
    expect(submissionDueInMs(at("12:30:00.400"), at("13:01:00"), 15, 30)).toBe(at("13:30:00") - at("13:01:00"));
    // Without the setting: intervalMinutes after the last, to the millisecond, as before.
    expect(submissionDueInMs(at("12:30:00.400"), at("12:45:00.100"), 15, undefined)).toBe(300);
  });

  it("stretches the windows that look back one run over the gap it leaves", () => {
    const beacon = (every?: number) => Settings.parse({ beacon: { database: { everyMinutes: every } } }).beacon;
    expect([coveringGapSeconds(120, beacon()), coveringGapSeconds(120, beacon(30)), coveringGapSeconds(3_600, beacon(60), 2), coveringGapSeconds(86_400, beacon(60))]).toEqual([120, 1_800, 7_200, 86_400]);
  });
});
