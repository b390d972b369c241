import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { createHarness, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { sentinelEnv, sentinelRuntime, storedState, tickRecorder } from "./support/sentinel.ts";
import { startSlackReceiver, type SlackReceiver } from "./support/slack-receiver.ts";
import { startPagerDutyReceiver, type PagerDutyReceiver } from "./support/pagerduty-receiver.ts";
import { startHttpReceiver, type HttpReceiver, type Scripted } from "./support/http-receiver.ts";
import { requireAlertmanager, startAlertmanager, type Alertmanager } from "./support/alertmanager.ts";
import { closedPort } from "./support/hostile.ts";
import { webhookSignature } from "../shared/channels/webhook.ts";
import type { Runtime } from "../netlify/runtime.ts";

/**
 * Every channel against real software or a receiver built from its contract: a real Alertmanager
 * (Debian's), a PagerDuty Events v2 receiver, a signed-webhook receiver and the Slack stand-in, with
 * the sandbox's health incident as the alert. Faults are injected per channel (the Slack rows of the
 * fault table: 429, 500, refused, slow) while the others stay healthy.
 */

const HAVE_AM = requireAlertmanager();
const SECRET = randomBytes(16).toString("hex");

let h: Harness;
let sandbox: Sandbox;
let slack: SlackReceiver;
let pd: PagerDutyReceiver;
let hook: HttpReceiver;
let amHook: HttpReceiver;
let am: Alertmanager;
let amFront: HttpReceiver;
let runtimes: Runtime[] = [];

beforeAll(async () => {
  h = await createHarness();
  sandbox = await h.start();
  slack = await startSlackReceiver();
  pd = await startPagerDutyReceiver();
  hook = await startHttpReceiver();
  amHook = await startHttpReceiver();
  am = await startAlertmanager(`${amHook.url}/alertmanager`);
  amFront = await startHttpReceiver({ forward: am.url });
}, 60_000);
afterAll(async () => {
  await Promise.all([slack?.close(), pd?.close(), hook?.close(), amHook?.close(), amFront?.close()]);
  await am?.stop();
  await h?.close();
});
afterEach(async () => {
  await Promise.all(runtimes.map((r) => r.close()));
  runtimes = [];
  await sandbox.incidents.reset();
});

const ALERTING = { defaults: { failuresToTrigger: 2, window: 3, successesToResolve: 2, blindToTrigger: 2 } };

/** A sentinel with every channel; `test` labels its Alertmanager alerts apart from other tests'. */
function sentinel(o: { prefix?: string; test?: string; env?: Record<string, string>; routes?: unknown[]; pdUrl?: string } = {}) {
  const test = o.test ?? randomBytes(4).toString("hex");
  const prefix = o.prefix ?? `${h.prefix}c${test}:`;
  const settings: Record<string, unknown> = {
    alerting: ALERTING, probes: { health: { latencyWarnMs: 10_000 } },
    channels: { pagerduty: { eventsUrl: o.pdUrl ?? pd.eventsUrl, requestTimeoutMs: 600 }, alertmanager: { labels: { test }, requestTimeoutMs: 600 }, webhook: { requestTimeoutMs: 600 } },
    ...(o.routes ? { routes: o.routes } : {}),
  };
  const env = sentinelEnv(h, sandbox, settings, {
    SENTINEL_KEY_PREFIX: prefix, SLACK_WEBHOOK_URL: slack.url, SENTINEL_STATUS_URL: "https://sentinel.example.org/status",
    // One PagerDuty service (routing key) per test: its alerts are its own.
    PAGERDUTY_ROUTING_KEY: routingKeyOf(test), ALERTMANAGER_URL: amFront.url, SENTINEL_WEBHOOK_URL: `${hook.url}/sentinel`, SENTINEL_WEBHOOK_SECRET: SECRET,
    ...o.env,
  });
  const rt = sentinelRuntime(env);
  runtimes.push(rt);
  return { rt, test, prefix, ...tickRecorder(rt) };
}

const routingKeyOf = (test: string) => `${test}${"0".repeat(32 - test.length)}`;

/** Where each receiver stands now, to count what a test adds. */
function marks() {
  return { slack: slack.received.length, pd: pd.alerts.length, pdEvents: pd.events.length, hook: hook.requests.length, amPosts: amFront.requests.length, amHook: amHook.requests.length };
}
const hookDeliveries = (from: number) => hook.requests.slice(from).filter((r) => r.status === 200);
const amAlerts = async (test: string) => ((await am.api("/alerts")) as any[]).filter((a) => a.labels.test === test);
async function until<T>(what: () => Promise<T>, ok: (v: T) => boolean, ms = 8_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await what();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function fire(s: ReturnType<typeof sentinel>) {
  await sandbox.incidents.set("health-unhealthy", true);
  await s.probe("health");
  return s.probe("health"); // the second failure fires, and this tick sends
}

describe.runIf(HAVE_AM)("channels, routed, against real receivers", () => {
  it("an incident reaches Slack, PagerDuty, Alertmanager and the webhook once each, and resolves in each", async () => {
    const s = sentinel();
    const m = marks();
    await fire(s);
    // Slack: one message; PagerDuty: one incident, triggered with the alert key; webhook: one signed delivery.
    expect(slack.received.length - m.slack).toBe(1);
    const incident = pd.alerts.slice(m.pd);
    expect(incident).toEqual([expect.objectContaining({ dedupKey: "check/health/runner-health", status: "triggered", severity: "critical", triggers: 1 })]);
    expect(incident[0]!.links).toEqual([{ href: "https://sentinel.example.org/status", text: "Beacon Sentinel status page" }]);
    const delivered = hookDeliveries(m.hook);
    expect(delivered).toHaveLength(1);
    const t = Number(delivered[0]!.headers["x-sentinel-timestamp"]);
    expect(delivered[0]!.headers["x-sentinel-signature"]).toBe(webhookSignature(SECRET, t, delivered[0]!.raw));
    expect(JSON.parse(delivered[0]!.raw).notifications).toEqual([expect.objectContaining({ kind: "firing", alertKey: "check/health/runner-health", stage: "runner-api" })]);
    // Alertmanager: the alert is active with our labels, in the stage's group, and its receiver was notified once.
    const active = await amAlerts(s.test);
    expect(active).toEqual([expect.objectContaining({ labels: expect.objectContaining({ alertname: "SentinelCheckFailing", alert_key: "check/health/runner-health", severity: "page", stage: "runner-api", probe: "health", check: "runner-health" }), status: expect.objectContaining({ state: "active" }) })]);
    const groups = (await am.api("/alerts/groups")) as any[];
    expect(groups.find((g) => g.labels.stage === "runner-api")?.alerts.some((a: any) => a.labels.test === s.test)).toBe(true);
    const firingHook = await until(async () => amHook.requests.slice(m.amHook).map((r) => JSON.parse(r.raw)).filter((b) => b.alerts.some((a: any) => a.labels.test === s.test)), (v) => v.length > 0);
    expect(firingHook.map((b) => b.status)).toEqual(["firing"]);

    // Still failing: nothing new anywhere, but Alertmanager hears the alert again (it would expire otherwise).
    const again = marks();
    await s.probe("health");
    expect(marks()).toMatchObject({ slack: again.slack, pd: again.pd, pdEvents: again.pdEvents, hook: again.hook });
    expect(amFront.requests.length).toBeGreaterThan(again.amPosts);
    expect(await amAlerts(s.test)).toHaveLength(1);

    await sandbox.incidents.set("health-unhealthy", false);
    await s.probe("health");
    await s.probe("health");
    expect(slack.received.length - m.slack).toBe(2);
    expect(pd.alerts.slice(m.pd)).toEqual([expect.objectContaining({ status: "resolved", triggers: 1 })]);
    expect(hookDeliveries(m.hook).map((r) => JSON.parse(r.raw).notifications[0].kind)).toEqual(["firing", "resolved"]);
    expect(await until(() => amAlerts(s.test), (v) => v.length === 0)).toEqual([]);
    const resolvedHook = await until(async () => amHook.requests.slice(m.amHook).map((r) => JSON.parse(r.raw)).filter((b) => b.alerts.some((a: any) => a.labels.test === s.test)), (v) => v.some((b) => b.status === "resolved"));
    expect(resolvedHook.map((b) => b.status)).toEqual(["firing", "resolved"]);
    expect((await storedState(s.rt)).alerts.pending).toEqual([]);
    // The secrets went only where they belong: the routing key to PagerDuty, the HMAC key nowhere.
    const elsewhere = [...slack.received.map((r) => JSON.stringify(r.body)), ...hook.requests.map((r) => r.raw), ...amFront.requests.map((r) => r.raw)].join("\n");
    expect(elsewhere).not.toContain(routingKeyOf(s.test));
    expect(elsewhere).not.toContain(SECRET);
    expect((await storedState(s.rt)).monitoring.channels).toMatchObject({ slack: { delivered: 2 }, pagerduty: { delivered: 2 }, alertmanager: { delivered: 2 }, webhook: { delivered: 2 } });
  }, 60_000);

  it("routes by probe and severity: a health page kept from PagerDuty when only the queue's pages go there", async () => {
    const s = sentinel({ routes: [{ severity: ["page"], probe: ["queue"], channels: ["pagerduty"] }, { channels: ["slack"] }] });
    const m = marks();
    await fire(s);
    expect(slack.received.length - m.slack).toBe(1);
    expect(pd.events.length - m.pdEvents).toBe(0);
    expect(hook.requests.length - m.hook).toBe(0);
    expect(await amAlerts(s.test)).toEqual([]);
  }, 30_000);

  type Channel = "pagerduty" | "alertmanager" | "webhook";
  const receiverOf = (c: Channel): HttpReceiver => (c === "pagerduty" ? pd : c === "alertmanager" ? amFront : hook);
  /** Attempts one send makes per event (channels/pagerduty.ts, alertmanager.ts, webhook.ts). */
  const ATTEMPTS: Record<Channel, number> = { pagerduty: 2, alertmanager: 3, webhook: 3 };
  const variable: Record<Channel, string> = { pagerduty: "", alertmanager: "ALERTMANAGER_URL", webhook: "SENTINEL_WEBHOOK_URL" };
  const delivered = (c: Channel, m: ReturnType<typeof marks>, test: string) =>
    c === "pagerduty" ? pd.alerts.slice(m.pd).length : c === "webhook" ? new Set(hookDeliveries(m.hook).map((r) => r.headers["x-sentinel-delivery"])).size : amAlerts(test).then((a) => a.length);

  it.each<[Channel, "429" | "500" | "refused" | "slow"]>([
    ["pagerduty", "429"], ["pagerduty", "500"], ["pagerduty", "refused"], ["pagerduty", "slow"],
    ["alertmanager", "429"], ["alertmanager", "500"], ["alertmanager", "refused"], ["alertmanager", "slow"],
    ["webhook", "429"], ["webhook", "500"], ["webhook", "refused"], ["webhook", "slow"],
  ])("%s answering %s: the others deliver once, it delivers once when it can, nothing twice", async (channel, fault) => {
    const m = marks();
    const faults: Record<string, Scripted> = {
      429: { status: 429, headers: { "retry-after": "0" }, body: "{}" }, 500: { status: 500, body: "{}" }, slow: { status: 202, slowPass: true, delayMs: 1_500 },
    };
    // Refused: the channel points at a port nobody listens on; it "comes back" as a sentinel with the right URL and the same state.
    const refused = fault === "refused" ? `http://127.0.0.1:${await closedPort()}/x` : undefined;
    const s = sentinel(!refused ? {} : channel === "pagerduty" ? { pdUrl: refused } : { env: { [variable[channel]]: refused } });
    if (fault !== "refused") receiverOf(channel).script(Array.from({ length: fault === "slow" ? 1 : ATTEMPTS[channel] }, () => faults[fault]!));
    await fire(s);
    // The healthy ones delivered, once.
    expect(slack.received.length - m.slack).toBe(1);
    for (const other of (["pagerduty", "alertmanager", "webhook"] as const).filter((c) => c !== channel)) expect(await delivered(other, m, s.test), other).toBe(1);
    const state = await storedState(s.rt);
    if (fault === "slow") {
      // PagerDuty and Alertmanager deduplicate: the unanswered request is repeated; the webhook repeats it once with the same delivery id.
      expect(await delivered(channel, m, s.test)).toBe(1);
      expect(state.alerts.pending).toEqual([]);
      if (channel === "pagerduty") expect(pd.alerts.slice(m.pd)[0]!.triggers).toBe(2);
      return;
    }
    expect(await delivered(channel, m, s.test)).toBe(0);
    expect(state.alerts.pending.map((n) => n.channels)).toEqual([[channel]]);
    expect(state.monitoring.channels[channel]).toMatchObject({ failed: 1 });
    expect(state.monitoring.channels[channel]!.lastError).toMatch(fault === "refused" ? /ECONNREFUSED/ : new RegExp(`HTTP ${fault}`));

    // It comes back: the next tick delivers it, once, and nobody else hears it again.
    const healed = fault === "refused" ? sentinel({ prefix: s.prefix, test: s.test }) : s;
    const before = marks();
    await healed.evaluate();
    expect(await delivered(channel, m, s.test)).toBe(1);
    expect(slack.received.length).toBe(before.slack);
    for (const other of (["pagerduty", "alertmanager", "webhook"] as const).filter((c) => c !== channel)) expect(await delivered(other, m, s.test), other).toBe(1);
    expect((await storedState(s.rt)).alerts.pending).toEqual([]);
  }, 60_000);
});
