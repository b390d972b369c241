import { evaluateNow, storedState, tickRecorder } from "./support/sentinel.ts";
import { tick } from "../netlify/tick.ts";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { createHarness, type Harness } from "./sandbox/testing.ts";
import type { IncidentName, Sandbox } from "./sandbox/index.ts";
import { sentinelEnv, sentinelRuntime } from "./support/sentinel.ts";
import { startSlackReceiver, type SlackReceiver } from "./support/slack-receiver.ts";
import { closedPort } from "./support/hostile.ts";
import { testServices } from "./support/env.ts";
import { startCountingProxy } from "./support/http-handlers.ts";
import { findProbe } from "../shared/probes/catalog.ts";
import { runProbe } from "../shared/runner.ts";
import { createSilenceStore } from "../shared/alerting/silence-store.ts";
import { createKeys } from "../shared/store/keys.ts";
import type { Runtime } from "../netlify/runtime.ts";

let h: Harness;
let sandbox: Sandbox;
let slack: SlackReceiver;
let runtimes: Runtime[] = [];

beforeAll(async () => {
  h = await createHarness();
  sandbox = await h.start();
  slack = await startSlackReceiver();
});
afterAll(async () => {
  await slack?.close();
  await h?.close();
});
afterEach(async () => {
  await Promise.all(runtimes.map((r) => r.close()));
  runtimes = [];
  await sandbox.incidents.reset();
});

/** Alert quickly in tests: 2 failures of the last 3 runs trigger, 2 passes resolve. */
const ALERTING = { defaults: { failuresToTrigger: 2, window: 3, successesToResolve: 2, blindToTrigger: 2 } };

/** A sentinel with its own key prefix (so alert state never leaks between tests) and Slack at the receiver. */
function sentinel(options: { now?: () => Date; env?: Record<string, string> } = {}) {
  const env = sentinelEnv(h, sandbox, { alerting: ALERTING, probes: { health: { latencyWarnMs: 10_000 } } }, {
    SENTINEL_KEY_PREFIX: `${h.prefix}s${randomBytes(3).toString("hex")}:`,
    SLACK_WEBHOOK_URL: `${slack.url}`,
    SENTINEL_STATUS_URL: "https://sentinel.example.org/status",
    ...options.env,
  });
  const rt = sentinelRuntime(env, options.now ? { now: options.now } : {});
  runtimes.push(rt);
  return { rt, ...tickRecorder(rt) };
}

const texts = (from: number) => slack.received.slice(from).map((r) => JSON.stringify(r.body));

describe("fan-in against the sandbox, with a local Slack", () => {
  beforeEach(() => slack.script([]));

  it("an incident sends exactly one message naming the stage; re-evaluating sends none; clearing sends one resolved", async () => {
    const s = sentinel();
    const start = slack.received.length;
    await sandbox.incidents.set("health-unhealthy", true);
    await s.probe("health");
    expect((await s.evaluate()).notifications).toHaveLength(0); // 1 of 3 is not enough
    await s.probe("health");
    const fired = await s.evaluate();
    expect(fired.notifications.map((n) => [n.kind, n.alertKey])).toEqual([["firing", "check/health/runner-health"]]);
    expect(texts(start)).toHaveLength(1);
    expect(texts(start)[0]).toContain("runner-api");
    expect(texts(start)[0]).toContain("runner-health");

    await s.probe("health");
    expect((await s.evaluate()).notifications).toHaveLength(0);
    expect(texts(start)).toHaveLength(1);

    await sandbox.incidents.set("health-unhealthy", false);
    await s.probe("health");
    await s.probe("health");
    const resolved = await s.evaluate();
    expect(resolved.notifications.map((n) => [n.kind, n.alertKey])).toEqual([["resolved", "check/health/runner-health"]]);
    expect(texts(start)).toHaveLength(2);
    expect(texts(start)[1]).toMatch(/lasted/);
  });

  it.each<[IncidentName, string, string, string]>([
    ["executions-500", "receipts", "runner-api", "check/receipts/executions-api"],
    ["database-down", "health", "runner-api", "check/health/runner-ready"],
  ])("incident %s is caught by %s and announced once for stage %s", async (incident, probeId, stage, key) => {
    const s = sentinel();
    const start = slack.received.length;
    await sandbox.incidents.set(incident, true);
    await s.probe(probeId);
    await s.probe(probeId);
    const report = await s.evaluate();
    expect(report.notifications.map((n) => n.alertKey)).toContain(key);
    expect(report.notifications.every((n) => n.stage === stage)).toBe(true);
    expect(texts(start)).toHaveLength(1);
    expect((await s.evaluate()).notifications).toHaveLength(0);
    expect(texts(start)).toHaveLength(1);
  });

  it("two concurrent evaluations send one message", async () => {
    const s = sentinel();
    const start = slack.received.length;
    await sandbox.incidents.set("health-unhealthy", true);
    await s.probe("health");
    await s.probe("health");
    const [a, b] = await Promise.all([s.evaluate(), s.evaluate()]);
    expect([a.skipped, b.skipped].filter(Boolean)).toHaveLength(1);
    expect(texts(start)).toHaveLength(1);
    // Whichever lost the race, the next evaluation has nothing new to say.
    expect((await s.evaluate()).notifications).toHaveLength(0);
    expect(texts(start)).toHaveLength(1);
  });

  it("Slack answering 429, then 500, then 200 delivers exactly once", async () => {
    const s = sentinel();
    const start = slack.received.length;
    const attempts = slack.requests.length;
    await sandbox.incidents.set("health-unhealthy", true);
    await s.probe("health");
    slack.script([{ status: 429, headers: { "retry-after": "1" }, body: "rate_limited" }, { status: 500, body: "oops" }]);
    await s.probe("health"); // the second failure fires, and the tick sends (within its send budget)
    const report = await s.evaluate(); // delivers what the budget left pending, if anything
    expect(report).toMatchObject({ pending: 0 });
    expect(slack.requests.length - attempts).toBe(3);
    expect(texts(start)).toHaveLength(1);
  });

  it("a failed send stays pending and the next run delivers it, once", async () => {
    const s = sentinel();
    const start = slack.received.length;
    await sandbox.incidents.set("health-unhealthy", true);
    await s.probe("health");
    slack.script([{ status: 404, body: "no_service" }]);
    await s.probe("health"); // fires; the send fails
    expect(texts(start)).toHaveLength(0);
    expect(await s.evaluate()).toMatchObject({ delivered: 1, pending: 0 });
    expect(texts(start)).toHaveLength(1);
    expect(await s.evaluate()).toMatchObject({ delivered: 0, pending: 0 });
    expect(texts(start)).toHaveLength(1);
  });

  it("a probe that stops reporting raises 'probe missing', and its return resolves it", async () => {
    let clock = new Date();
    const s = sentinel({ now: () => clock });
    await s.probe("health");
    await s.evaluate();
    clock = new Date(clock.getTime() + 3 * 60_000); // health runs every minute; 3 minutes of silence
    const missing = await s.evaluate();
    expect(missing.notifications.map((n) => n.alertKey)).toContain("missing/health");
    expect(missing.notifications.find((n) => n.alertKey === "missing/health")).toMatchObject({ alertType: "missing", kind: "firing" });
    await s.probe("health");
    const back = await s.evaluate();
    expect(back.notifications.filter((n) => n.alertKey === "missing/health").map((n) => n.kind)).toEqual(["resolved"]);
  });

  it("when Beacon's Redis is down only the root cause alerts; the queue probe's blindness is held", async () => {
    const port = await closedPort();
    const info = testServices();
    const s = sentinel({ env: { BEACON_REDIS_REST_URL: `http://127.0.0.1:${port}`, SENTINEL_REDIS_REST_URL: info.redis.restUrl, SENTINEL_REDIS_REST_TOKEN: info.redis.restToken } });
    for (let i = 0; i < 2; i++) {
      await s.probe("health");
      await s.probe("queue");
    }
    const report = await s.evaluate();
    const keys = report.notifications.map((n) => n.alertKey);
    expect(keys).toContain("check/health/redis");
    expect(keys.filter((k) => k.includes("/queue"))).toEqual([]);
    const held = report.firing.filter((a) => a.probe === "queue");
    expect(held.length).toBeGreaterThan(0);
    expect(held.every((a) => a.heldBy === "dependency:check/health/redis")).toBe(true);
  });

  it("a silence holds notifications while checks keep recording; lifting it announces what still fires", async () => {
    const s = sentinel();
    const start = slack.received.length;
    const silences = createSilenceStore(s.rt.storeRedis!, createKeys(s.rt.config.store!.keyPrefix), () => new Date());
    const silence = await silences.add({ probe: "health", durationMinutes: 30, createdBy: "test", comment: "maintenance" });
    await sandbox.incidents.set("health-unhealthy", true);
    await s.probe("health");
    await s.probe("health");
    const held = await s.evaluate();
    expect(held.notifications).toHaveLength(0);
    expect(held.firing.find((a) => a.key === "check/health/runner-health")?.heldBy).toBe(`silence:${silence.id}`);
    expect(texts(start)).toHaveLength(0);
    await silences.remove(silence.id);
    const after = await s.evaluate();
    expect(after.notifications.map((n) => [n.kind, n.alertKey])).toEqual([["firing", "check/health/runner-health"]]);
    expect(texts(start)).toHaveLength(1);
  });

  it("a preview runs and judges, and stores and sends nothing", async () => {
    const s = sentinel();
    const start = slack.received.length;
    await sandbox.incidents.set("health-unhealthy", true);
    await s.probe("health");
    const preview = await tick(s.rt, { write: false, probes: ["health"] });
    expect(preview.notifications.map((n) => n.alertKey)).toEqual(["check/health/runner-health"]);
    expect(texts(start)).toHaveLength(0);
    expect((await storedState(s.rt)).probes.health?.history).toHaveLength(1);
    await s.probe("health");
    expect((await s.evaluate()).notifications.map((n) => n.alertKey)).toEqual(["check/health/runner-health"]);
  });

  it("reads in one round trip and writes in one", async () => {
    const info = testServices();
    const proxy = await startCountingProxy(info.redis.restUrl);
    try {
      const s = sentinel({ env: { SENTINEL_REDIS_REST_URL: proxy.url, SENTINEL_REDIS_REST_TOKEN: info.redis.restToken } });
      await s.probe("health");
      proxy.reset();
      await evaluateNow(s.rt, { write: false });
      expect(proxy.count()).toBe(1); // state and silences in one pipeline
      proxy.reset();
      const report = await s.evaluate();
      expect(proxy.count()).toBe(2); // lock, state and silences; then state, status and the lock release
      expect(report.slos.find((x) => x.id === "api-availability")).toMatchObject({ source: "health:availability", events: 1 });
    } finally {
      await proxy.close();
    }
  });
});
