import { describe, expect, it } from "vitest";
import { PassThrough } from "node:stream";
import { filterLines, probeLine, readableLog, tickLine } from "../netlify/cli/start-output.ts";
import { check, type Check, type ProbeResult } from "../shared/result.ts";

/** What `npm start` prints per probe run and per tick, from the tick function's answer. */
const result = (probe: string, checks: Check[], extra: Partial<ProbeResult> = {}): ProbeResult => ({
  version: 1, probe, startedAt: "2026-05-01T12:00:00.000Z", durationMs: 305, checks,
  status: checks.some((c) => c.status === "fail") ? "fail" : checks.some((c) => c.status === "error") ? "error" : checks.some((c) => c.status === "warn") ? "warn" : "pass", ...extra,
});
const c = (name: string, status: Check["status"], message = `${name} is ${status}`) => check({ name, status, observed: null, threshold: null, message });
const stuckCanary = result("canary", [
  c("canary", "pass", "in flight"), c("stage:created", "pass"), c("stage:outbox", "fail", "31 s in created: no outbox row"),
  ...["published", "queued", "processing", "started", "completed", "receipt"].map((s) => c(`stage:${s}`, "error", "not reached yet: held at outbox")),
  c("regression:left-created", "fail", "31 s in created"), c("regression:questions-answered", "error", "not judged"),
]);

describe("npm start's lines", () => {
  it.each([
    ["passing-probe-is-one-short-line", result("health", [c("runner-health", "pass")]), "[12:00:01] health   pass    305 ms"],
    ["stuck-canary-is-one-line-not-seven-not-reached", stuckCanary,
      "[12:00:01] canary   FAIL    305 ms  stage:outbox: 31 s in created: no outbox row (+1 more not passing; 7 not reached)"],
    ["probe-that-could-not-run-says-why", result("queue", [], { status: "error", error: "Redis unreachable:\n ECONNREFUSED" }), "[12:00:01] queue    BLIND   305 ms  Redis unreachable: ECONNREFUSED"],
    ["warning-speaks-when-nothing-fails", result("outbox", [c("outbox-lag", "warn", "oldest unpublished row 75 s"), c("outbox-backlog", "pass")]), "[12:00:01] outbox   WARN    305 ms  outbox-lag: oldest unpublished row 75 s"],
  ] as const)("%s", (_rule, r, line) => {
    expect(probeLine(r, "12:00:01")).toBe(line);
  });

  it("sums a tick up in one glance: who passes, who fails, what fires, what the store was charged", () => {
    const line = tickLine("tick", {
      results: [result("health", [c("runner-health", "pass")]), stuckCanary, result("queue", [c("queue-depth", "pass")])],
      firing: [{ key: "check/canary/stage:outbox" }, { key: "check/canary/regression:left-created", heldBy: "dependency:check/canary/stage:outbox" }],
      notifications: [{}], delivered: 0, unsent: 1, storeCommands: 5,
    }, "12:00:01");
    expect(line).toBe("[12:00:01] tick: pass health, queue · FAIL canary · firing: check/canary/stage:outbox (+1 held) · 1 alert message(s) logged, not sent (no channel configured, or no route sends them to one) · store 5 commands");
    expect(tickLine("tick", { results: [], skipped: "another tick holds the lock" }, "12:00:01")).toBe("[12:00:01] tick: skipped (another tick holds the lock)");
    expect(tickLine("tick", { results: [], notifications: [{}], delivered: 1, storeCommands: 6 }, "t")).toBe("[t] tick: no probe due · nothing firing · 1 alert message(s) decided, 1 delivery made (one per message and channel) · store 6 commands");
    // One message to four channels: four deliveries, never "4 delivered to Slack".
    expect(tickLine("tick", { results: [], notifications: [{}], delivered: 4 }, "t")).toBe("[t] tick: no probe due · nothing firing · 1 alert message(s) decided, 4 deliveries made (one per message and channel)");
  });

  it.each([
    ["tick-finished-repeats-the-tick-line", '{"level":"info","message":"tick finished","ran":["health:pass"]}', null],
    ["a-warning-keeps-its-fields", '{"level":"warn","message":"notification send failed; kept pending for the next tick","count":2,"error":"HTTP 500"}',
      "[t] WARN: notification send failed; kept pending for the next tick (count=2 error=HTTP 500)"],
    ["info-reads-as-log", '{"level":"info","message":"notifications decided, no channel configured","count":1,"keys":["check/health/runner-health"]}',
      '[t] log: notifications decided, no channel configured (count=1 keys=["check/health/runner-health"])'],
    ["our-own-lines-pass-untouched", "start: Ctrl-C to stop", "start: Ctrl-C to stop"],
    ["json-that-is-not-a-log-line-passes", '{"a":1}', '{"a":1}'],
  ] as const)("function log: %s", (_rule, line, expected) => {
    expect(readableLog(line, "t")).toBe(expected);
  });

  it("rewrites whole lines as they are written, across chunks", () => {
    const stream = new PassThrough() as unknown as NodeJS.WriteStream;
    const seen: string[] = [];
    (stream as unknown as PassThrough).on("data", (d: Buffer) => seen.push(d.toString()));
    const restore = filterLines(stream, (l) => readableLog(l, "t"));
    stream.write('{"level":"info","message":"tick fin');
    stream.write('ished"}\n{"level":"error","message":"boom"}\nplain\n');
    restore();
    stream.write("after\n");
    expect(seen.join("")).toBe("[t] ERROR: boom\nplain\nafter\n");
  });
});
