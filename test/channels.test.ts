import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import * as crypto from "node:crypto";
import { routeOf, DEFAULT_ROUTES, Routes, type Route } from "../shared/channels/routes.ts";
import { CHANNELS, type ChannelName } from "../shared/channels/catalog.ts";
import { EnvSchema, SECRET_VARIABLES } from "../shared/config/env.ts";
import { assignChannels, settle } from "../shared/channels/dispatch.ts";
import { pagerDutyEvent, dedupKey } from "../shared/channels/pagerduty.ts";
import { alertmanagerAlerts } from "../shared/channels/alertmanager.ts";
import { webhookBody, webhookSignature } from "../shared/channels/webhook.ts";
import { collapsePending } from "../shared/tick/pending.ts";
import { validateEvent } from "./support/pagerduty-receiver.ts";
import { loadConfig, ConfigError } from "../shared/config/index.ts";
import type { Notification } from "../shared/alerting/notification.ts";

const ALL: ChannelName[] = ["slack", "pagerduty", "alertmanager", "webhook"];

const note = (over: Partial<Notification> = {}): Notification => ({
  id: "check/queue/queue-depth/firing/2026-11-30T10:00:00.000Z", kind: "firing", alertKey: "check/queue/queue-depth", alertType: "check",
  stage: "queue", probe: "queue", check: "queue-depth", severity: "page", title: "Queue depth over 1000", message: "1500 waiting in jobs",
  observed: 1500, threshold: "<= 1000", evidence: ["jobs: 1500"], evidenceTotal: 1, since: "2026-11-30T10:00:00.000Z", ...over,
});

describe("routes", () => {
  const custom: Route[] = Routes.parse([
    { severity: ["page"], channels: ["pagerduty"] },
    { probe: ["canary"], channels: ["webhook"] },
    { type: ["slo"], channels: ["alertmanager"] },
    { channels: ["slack"] },
  ]);
  it.each<[string, Partial<Notification>, Route[], ChannelName[], ChannelName[]]>([
    ["default: a page goes everywhere", {}, DEFAULT_ROUTES, ALL, ["slack", "pagerduty", "alertmanager", "webhook"]],
    ["default: a ticket does not page", { severity: "ticket" }, DEFAULT_ROUTES, ALL, ["slack", "alertmanager", "webhook"]],
    ["default: unconfigured channels are skipped", {}, DEFAULT_ROUTES, ["slack"], ["slack"]],
    ["by probe: canary to the webhook", { probe: "canary", severity: "warning" }, custom, ALL, ["slack", "webhook"]],
    ["by probe: an SLO alert has no probe", { probe: undefined, alertType: "slo", severity: "ticket" }, custom, ALL, ["slack", "alertmanager"]],
    ["by severity: a page adds PagerDuty", { severity: "page" }, custom, ALL, ["slack", "pagerduty"]],
    ["no route matches", { severity: "warning" }, [{ severity: ["page"], channels: ["pagerduty"] }], ALL, []],
  ])("%s", (_, over, routes, configured, expected) => {
    expect(routeOf(note(over), routes, configured)).toEqual(expected);
  });

  it("configuration: routes naming unconfigured channels or unknown names are refused, each named", () => {
    const env = {
      BEACON_API_URL: "https://beacon.example.org", SENTINEL_REDIS_REST_URL: "https://r.example.org", SENTINEL_REDIS_REST_TOKEN: "t".repeat(20),
      SENTINEL_WEBHOOK_URL: "https://hooks.example.org/x",
      SENTINEL_SETTINGS: JSON.stringify({ routes: [{ channels: ["pagerduty"] }, { severity: ["urgent"], channels: ["sms"] }] }),
    };
    let error: ConfigError | undefined;
    try {
      loadConfig(env);
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = error!.problems.join("\n");
    expect(text).toMatch(/SENTINEL_SETTINGS\.routes\.1\.severity\.0/);
    expect(text).toMatch(/SENTINEL_SETTINGS\.routes\.1\.channels\.0/);
    expect(text).toMatch(/SENTINEL_WEBHOOK_SECRET: required when SENTINEL_WEBHOOK_URL is set/);
  });

  it("configuration: a bad routing key is refused without echoing it; good values configure every channel", () => {
    const base = { BEACON_API_URL: "https://beacon.example.org", SENTINEL_REDIS_REST_URL: "https://r.example.org", SENTINEL_REDIS_REST_TOKEN: "t".repeat(20) };
    expect(() => loadConfig({ ...base, PAGERDUTY_ROUTING_KEY: "short-secret-value" })).toThrow(/PAGERDUTY_ROUTING_KEY: must be the 32-character/);
    try {
      loadConfig({ ...base, PAGERDUTY_ROUTING_KEY: "short-secret-value" });
    } catch (e) {
      expect(String(e)).not.toContain("short-secret-value");
    }
    const config = loadConfig({
      ...base, PAGERDUTY_ROUTING_KEY: "a".repeat(32), ALERTMANAGER_URL: "https://am:pw-secret@am.example.org/",
      SENTINEL_WEBHOOK_URL: "https://hooks.example.org/abc", SENTINEL_WEBHOOK_SECRET: "s".repeat(24),
      SENTINEL_SETTINGS: JSON.stringify({ routes: [{ channels: ["pagerduty", "alertmanager", "webhook"] }] }),
    });
    expect(Object.keys(config.channels)).toEqual(["pagerduty", "alertmanager", "webhook"]);
    expect(config.secrets).toEqual(expect.arrayContaining(["a".repeat(32), "s".repeat(24), "https://hooks.example.org/abc", "pw-secret"]));
  });
});

describe("each channel declares its own variables", () => {
  it("the configuration validates, redacts and pairs them from the catalog alone", () => {
    for (const c of CHANNELS) {
      expect(Object.keys(c.env), c.name).toContain(c.variable);
      for (const [name, v] of Object.entries(c.env)) {
        expect(Object.keys(EnvSchema.shape), name).toContain(name);
        expect(SECRET_VARIABLES.includes(name), name).toBe(v.secret === "value" || v.secret === "url");
      }
    }
    const base = { BEACON_API_URL: "https://beacon.example.org", SENTINEL_REDIS_REST_URL: "https://r.example.org", SENTINEL_REDIS_REST_TOKEN: "t".repeat(20) };
    // A pair the webhook declares: one alone is a problem naming the other; both configure it.
    expect(() => loadConfig({ ...base, SENTINEL_WEBHOOK_SECRET: "s".repeat(24) })).toThrow(/SENTINEL_WEBHOOK_URL: required when SENTINEL_WEBHOOK_SECRET is set/);
    expect(loadConfig({ ...base, SENTINEL_WEBHOOK_URL: "https://hooks.example.org/x", SENTINEL_WEBHOOK_SECRET: "s".repeat(24) }).channels).toEqual({
      webhook: { SENTINEL_WEBHOOK_URL: "https://hooks.example.org/x", SENTINEL_WEBHOOK_SECRET: "s".repeat(24) },
    });
  });
});

describe("per-channel bookkeeping", () => {
  it("each channel settles only its own; a notification leaves once no channel is owed it", () => {
    const a = note({ id: "a" });
    const b = note({ id: "b", severity: "ticket" });
    const pending = assignChannels([a, b], DEFAULT_ROUTES, ["slack", "pagerduty"]);
    expect(pending.map((n) => n.channels)).toEqual([["slack", "pagerduty"], ["slack"]]);
    const afterSlack = settle(pending, new Map([["slack", { delivered: ["a", "b"], abandoned: [] }], ["pagerduty", { delivered: [], abandoned: [], error: "down" }]]));
    expect(afterSlack.map((n) => [n.id, n.channels])).toEqual([["a", ["pagerduty"]]]);
    // A notification already stamped is not routed again (Slack would get it twice).
    expect(assignChannels(afterSlack, DEFAULT_ROUTES, ["slack", "pagerduty"])[0]!.channels).toEqual(["pagerduty"]);
    expect(settle(afterSlack, new Map([["pagerduty", { delivered: ["a"], abandoned: [] }]]))).toEqual([]);
  });

  it("over the cap, a fired-and-resolved pair is dropped only for the channels owed both", () => {
    const fired = note({ id: "f", channels: ["pagerduty"] }); // Slack already has it
    const resolved = note({ id: "r", kind: "resolved", channels: ["slack", "pagerduty"] });
    const filler = Array.from({ length: 5 }, (_, i) => note({ id: `x${i}`, alertKey: `check/x/${i}`, channels: ["slack"] }));
    const { pending } = collapsePending([fired, resolved, ...filler], 5, new Date("2026-11-30T11:00:00Z"));
    // Kept (then folded, being oldest): Slack is still owed the resolution, so the summary goes to Slack too.
    expect(pending[0]).toMatchObject({ alertKey: "sentinel/collapsed", channels: ["pagerduty", "slack"] });
    expect(pending[0]!.evidence).toContain("check/queue/queue-depth: resolved since 2026-11-30T10:00:00.000Z");
    const both = collapsePending([note({ id: "f", channels: ["slack"] }), note({ id: "r", kind: "resolved", channels: ["slack"] }), ...filler], 5, new Date());
    expect(both.pending.map((n) => n.id)).toEqual(filler.map((n) => n.id));
  });
});

describe("PagerDuty events", () => {
  const o = { routingKey: "k".repeat(32), source: "beacon-pipeline", statusUrl: "https://sentinel.example.org/status" };
  it("a firing alert triggers with the alert key as dedup_key, severity mapped and the status page linked; valid by the contract", () => {
    const e = pagerDutyEvent(note(), o)!;
    expect(e).toMatchObject({ event_action: "trigger", dedup_key: "check/queue/queue-depth", payload: { severity: "critical", source: "beacon-pipeline", component: "queue", group: "queue" }, links: [{ href: o.statusUrl }] });
    expect(validateEvent(e)).toEqual([]);
    expect(pagerDutyEvent(note({ severity: "ticket" }), o)!.payload!.severity).toBe("error");
    expect(pagerDutyEvent(note({ severity: "warning" }), o)!.payload!.severity).toBe("warning");
  });
  it("resolved resolves the same key; a reminder sends nothing; long keys and summaries fit PagerDuty's limits", () => {
    expect(pagerDutyEvent(note({ kind: "resolved" }), o)).toEqual({ routing_key: o.routingKey, dedup_key: "check/queue/queue-depth", event_action: "resolve" });
    expect(pagerDutyEvent(note({ kind: "reminder" }), o)).toBeUndefined();
    const long = pagerDutyEvent(note({ alertKey: "k/".repeat(200), title: "t".repeat(2000) }), o)!;
    expect(long.dedup_key.length).toBeLessThanOrEqual(255);
    expect(dedupKey("k/".repeat(200))).not.toBe(dedupKey("k/".repeat(199) + "x/"));
    expect(validateEvent(long)).toEqual([]);
  });
  it("the receiver refuses what PagerDuty refuses", () => {
    expect(validateEvent({ event_action: "trigger", routing_key: "short", payload: { summary: "", source: "x", severity: "fatal" } })).toEqual([
      "Length of 'routing_key' is incorrect (should be 32 characters)", "'payload.summary' is missing or blank", "'payload.severity' must be one of critical, error, warning, info",
    ]);
  });
});

describe("Alertmanager alerts", () => {
  const now = new Date("2026-11-30T10:30:00.000Z");
  it("firing ends endsAfterMinutes ahead; resolved ends when it resolved; what fires now overrides an older pending resolution", () => {
    const resolved = note({ kind: "resolved", alertKey: "check/outbox/outbox-lag", probe: "outbox", check: "outbox-lag", stage: "outbox", durationMs: 600_000 });
    const alerts = alertmanagerAlerts([note(), resolved], [], { now, endsAfterMinutes: 4, labels: { team: "beacon" } });
    expect(alerts).toEqual([
      expect.objectContaining({ startsAt: "2026-11-30T10:00:00.000Z", endsAt: "2026-11-30T10:34:00.000Z", labels: expect.objectContaining({ alertname: "SentinelCheckFailing", alert_key: "check/queue/queue-depth", severity: "page", team: "beacon", probe: "queue" }) }),
      expect.objectContaining({ endsAt: "2026-11-30T10:10:00.000Z" }),
    ]);
    const refiring = { key: "check/outbox/outbox-lag", type: "check" as const, stage: "outbox", probe: "outbox", check: "outbox-lag", recent: "", passesInRow: 0, firing: true, since: "2026-11-30T10:20:00.000Z", notified: true, severity: "page" as const, snapshot: { title: "lag", message: "m", observed: 1, threshold: 2, evidence: [], evidenceTotal: 0 } };
    expect(alertmanagerAlerts([resolved], [refiring], { now, endsAfterMinutes: 4, labels: {} })).toEqual([expect.objectContaining({ startsAt: "2026-11-30T10:20:00.000Z", endsAt: "2026-11-30T10:34:00.000Z" })]);
  });
});

describe("webhook", () => {
  it("the body is stable for the same notifications, and the README's verification snippet accepts it and refuses a forgery", () => {
    const body = JSON.stringify(webhookBody([note()], "https://sentinel.example.org/status"));
    expect(JSON.stringify(webhookBody([note()], "https://sentinel.example.org/status"))).toBe(body);
    expect(Object.keys(JSON.parse(body))).toEqual(["version", "id", "source", "statusUrl", "notifications"]);
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const snippet = /<!-- webhook-verify -->\s*```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(snippet, "README has the webhook verification snippet").toBeTruthy();
    const verify = new Function("require", `${snippet}; return verifySentinelWebhook;`)((m: string) => (m === "node:crypto" ? crypto : undefined)) as
      (secret: string, headers: Record<string, string>, rawBody: string, nowSeconds: number) => boolean;
    const secret = "s".repeat(32);
    const t = 1_800_000_000;
    const headers = { "x-sentinel-timestamp": String(t), "x-sentinel-signature": webhookSignature(secret, t, body) };
    expect(verify(secret, headers, body, t + 10)).toBe(true);
    expect(verify(secret, headers, body.replace("page", "warning"), t + 10)).toBe(false);
    expect(verify("x".repeat(32), headers, body, t + 10)).toBe(false);
    expect(verify(secret, headers, body, t + 3600)).toBe(false); // replayed an hour later
  });
});
