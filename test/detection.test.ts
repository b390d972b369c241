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
