import { describe, expect, it } from "vitest";
import { detectionLatency, incidentRows } from "./bench/detection.ts";
import { Settings } from "../shared/config/index.ts";

describe("detection at the defaults, on a virtual clock", () => {
  it.each(incidentRows())("$incident: $probe/$check messages within $goalMinutes min of being observable", (row) => {
    const { worstS } = detectionLatency(row);
    expect(worstS).toBeLessThanOrEqual(row.goalMinutes * 60);
  }, 60_000);

  it("is a real measure: receipts every 5 minutes would miss the 10-minute goal for executions-500", () => {
    const slow = Settings.parse({ schedules: { receipts: "*/5 * * * *" } });
    const row = incidentRows(slow).find((r) => r.incident === "executions-500")!;
    expect(detectionLatency(row, slow).worstS).toBeGreaterThan(row.goalMinutes * 60);
  }, 60_000);
});

describe("detection when Neon may sleep (beacon.database.everyMinutes), on the same virtual clock", () => {
  const every = (n: number, alerting = {}) => Settings.parse({ beacon: { database: { everyMinutes: n } }, alerting });
  // The slowed probes alerting on their first failing run: each of their runs is 30 minutes of evidence, and a stuck
  // job or a failing API is already past its own threshold when seen (the health probe keeps its rule for its runner checks).
  const firstFailure = { probes: { queue: { failuresToTrigger: 2, window: 3 }, outbox: { failuresToTrigger: 1, window: 1 }, receipts: { failuresToTrigger: 1, window: 1 } } };
  const minutes = (s: number) => Math.round((s / 60) * 10) / 10;

  it("measures the worst case of every database-related fault: defaults, every 15 and every 30 minutes, and every 30 alerting on the first failure", () => {
    const profiles = { defaults: Settings.parse({}), every15: every(15), every30: every(30), every30FirstFailure: every(30, firstFailure) };
    const columns = Object.entries(profiles).map(([name, settings]) => [name, incidentRows(settings).filter((r) => r.database).map((row) => minutes(detectionLatency(row, settings).worstS))] as const);
    const table = incidentRows().filter((r) => r.database).map((row, i) => ({ incident: row.incident, check: `${row.probe}/${row.check}`, ...Object.fromEntries(columns.map(([name, worst]) => [name, worst[i]])) }));
    console.info(JSON.stringify(table));
    // Minutes from observable to the first message, worst case. Every 30 minutes with the default rule (3 failures of the
    // last 5 runs) is three runs: 90 minutes. Health's connection keeps that rule: its runner checks run every minute.
    const row = (incident: string, check: string, defaults: number, every15: number, every30: number, every30FirstFailure: number) => ({ incident, check, defaults, every15, every30, every30FirstFailure });
    expect(table).toEqual([
      row("database-unreachable", "health/database", 2.9, 44.9, 89.9, 89.9),
      row("no-outbox-row", "outbox/jobs-stuck-created", 5.9, 44.9, 89.9, 29.9),
      row("payload-mismatch", "outbox/jobs-stuck-created", 5.9, 44.9, 89.9, 29.9),
      row("slow-worker", "outbox/jobs-stuck-processing", 5.9, 44.9, 89.9, 29.9),
      row("executions-500", "receipts/executions-api", 8.9, 44.9, 89.9, 29.9),
      row("empty-id", "receipts/id-mapping", 8.9, 44.9, 89.9, 29.9),
      row("legacy-text-output", "receipts/receipts", 8.9, 44.9, 89.9, 29.9),
      row("lost-answer", "receipts/job-answers", 8.9, 44.9, 89.9, 29.9),
    ]);
  }, 300_000);
});
