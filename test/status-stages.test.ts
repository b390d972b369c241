import { describe, expect, it } from "vitest";
import { stageTimings } from "../shared/status/page-svg.ts";
import { check } from "../shared/result.ts";

describe("canary stage timings on the status page", () => {
  it("draws each stage from the previous mark to its own (observed is seconds since submission)", () => {
    const html = stageTimings([
      check({ name: "stage:accepted", status: "pass", observed: 0.2, threshold: "<= 8 s", message: "202" }),
      check({ name: "stage:created", status: "pass", observed: 1, threshold: "<= 30 s", message: "job row" }),
      check({ name: "stage:outbox", status: "fail", observed: 31, threshold: "<= 30 s", message: "31 s in created: no outbox row" }),
      check({ name: "stage:published", status: "error", observed: null, threshold: null, message: "not reached yet: held at outbox" }),
    ]);
    expect(html).toContain("at 31 s");
    expect(html).toContain("at 1 s");
    expect(html).toContain("31 s in created: no outbox row");
    // outbox's bar starts at 1/31 of the track and spans the remaining 30/31
    expect(html).toMatch(/margin-left:3\.23%;width:96\.77%/);
    expect(html).toContain("not reached");
  });

  it("a stage that passed without a timing says so, never 'not reached · Passing'", () => {
    const html = stageTimings([
      check({ name: "stage:accepted", status: "pass", observed: 0.2, threshold: "<= 8 s", message: "202" }),
      check({ name: "stage:outbox", status: "pass", observed: null, threshold: null, message: "the portal path writes no outbox row" }),
      check({ name: "stage:published", status: "error", observed: null, threshold: null, message: "not reached yet" }),
    ]);
    expect(html).toMatch(/<span class="s-name">outbox<\/span>.*?<span class="s-val">no timing · [^<]*<\/span>/);
    expect(html).toMatch(/<span class="s-name">published<\/span>.*?<span class="s-val">not reached · [^<]*<\/span>/);
    expect(html).not.toMatch(/not reached · Pass/);
  });

  it("renders nothing without stage checks", () => {
    expect(stageTimings([check({ name: "canary", status: "pass", observed: null, threshold: null, message: "idle" })])).toBe("");
  });
});
