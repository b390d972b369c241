import { describe, expect, it } from "vitest";
import { awakeMinutes, compareFigure, compareFigures, comparisonTable, TOLERANCE, type Figure } from "./bench/compare.ts";

/** The bench's verdict on the cost model (test/bench/compare.ts): which counted figures disagree with the model by more than 10%. */
const figure = (counted: number, model: number, name = "store commands"): Figure => ({ group: "Upstash", name, counted, model, basis: "counted, 30 d" });

describe("the bench flags a figure the count and the model disagree on by more than 10%", () => {
  it.each([
    ["agreeing exactly", 200_160, 200_160, false],
    ["counted 5% over", 105, 100, false],
    ["counted 10% under, at the bound", 90, 100, false],
    ["counted 15% over", 115, 100, true],
    ["counted 15% under", 85, 100, true],
    ["the model's 17,280 queue commands nobody sends", 0, 17_280, true],
    ["counted where the model says none", 3, 0, true],
    ["none on either side", 0, 0, false],
  ] as const)("%s", (_rule, counted, model, flagged) => {
    expect(compareFigure(figure(counted, model)).flagged).toBe(flagged);
  });

  it("gives the ratio counted / model", () => {
    expect(compareFigure(figure(115, 100)).ratio).toBeCloseTo(1.15, 12);
    expect(compareFigure(figure(3, 0)).ratio).toBe(Infinity);
    expect(compareFigure(figure(0, 0)).ratio).toBe(1);
    expect(TOLERANCE).toBe(0.1);
  });

  it("marks the flagged lines of the table, and only those", () => {
    const table = comparisonTable(compareFigures([figure(100, 100, "commands"), figure(115, 100, "transfer, bytes")]));
    const lines = table.split("\n");
    expect(lines.find((l) => l.startsWith("Upstash: commands"))).not.toMatch(/off by/);
    expect(lines.find((l) => l.startsWith("Upstash: transfer, bytes"))).toMatch(/1\.150 .*<-- off by more than 10%$/);
  });
});

describe("awake minutes, counted from the minutes something was touched", () => {
  it.each([
    ["touched every minute: awake all the time", Array.from({ length: 60 }, (_, m) => m), 60],
    ["touched once an hour: awake the 5 minutes it takes to sleep", [0], 5],
    ["touched every 5 minutes: never sleeps", [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55], 60],
    ["touched every 6 minutes: sleeps 1 minute in 6", [0, 6, 12, 18, 24, 30, 36, 42, 48, 54], 50],
    ["touched in the span's last minute: the next period's first minutes are awake", [59], 5],
  ] as const)("%s", (_rule, touched, awake) => {
    expect(awakeMinutes(touched, 5, 60)).toBe(awake);
  });
});
