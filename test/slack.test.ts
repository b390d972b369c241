import { createServer } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Notification } from "../shared/alerting/notification.ts";
import { createRedactor } from "../shared/redact.ts";
import { buildSlackMessage, formatDuration, SLACK_MAX_BLOCKS, SLACK_MAX_SECTION_CHARS } from "../shared/channels/slack/message.ts";
import { createSlackSender, type SendOutcome, type SlackSenderOptions } from "../shared/channels/slack/sender.ts";
import { startSlackReceiver, type SlackReceiver } from "./support/slack-receiver.ts";

const now = new Date("2025-11-23T23:54:00Z");

const checkFiring = Notification.parse({
  id: "check/outbox/created-jobs:firing:1",
  kind: "firing",
  alertKey: "check/outbox/created-jobs",
  alertType: "check",
  stage: "outbox",
  probe: "outbox",
  check: "created-jobs",
  severity: "page",
  title: "Outbox rows are not being published",
  message: "25 outbox rows are older than 300 s",
  observed: 25,
  threshold: "<= 0",
  evidence: ["job-01 created 2025-11-23T23:30:00Z", "job-02", "job-03", "job-04", "job-05", "job-06", "job-07"],
  evidenceTotal: 25,
  since: "2025-11-23T23:40:00Z",
  nextStep: "sentinel replay outbox --older-than 300s",
});

const sloPage = Notification.parse({
  id: "slo/error-rate:firing:1",
  kind: "firing",
  alertKey: "slo/error-rate",
  alertType: "slo",
  stage: "runner-api",
  slo: "error-rate",
  severity: "page",
  title: "5xx error rate is burning the budget",
  message: "1.72% of API requests failed in the last hour",
  observed: 0.0172,
  threshold: 0.0144,
  evidence: [],
  evidenceTotal: 0,
  since: "2025-11-23T23:40:00Z",
  budget: { burnRate: 17.2, remaining: 0.625, remainingMinutes: 27, windows: "1h and 5m" },
  nextStep: "Check the runner logs: `sentinel logs runner-api --since 1h`",
});

const checkResolved = Notification.parse({
  ...checkFiring,
  id: "check/outbox/created-jobs:resolved:2",
  kind: "resolved",
  message: "No outbox row is older than 300 s",
  observed: 0,
  evidence: [],
  evidenceTotal: 0,
  durationMs: 14 * 60_000,
  nextStep: undefined,
});

const footer = { type: "context", elements: [{ type: "mrkdwn", text: "Evaluated 2025-11-23 23:54 UTC" }] };
const header = (text: string) => ({ type: "header", text: { type: "plain_text", text, emoji: true } });
const section = (text: string) => ({ type: "section", text: { type: "mrkdwn", text } });

const checkFiringText = [
  ":rotating_light: *FIRING* · page · *Outbox rows are not being published*",
  "Stage `outbox` · check `outbox/created-jobs`",
  "25 outbox rows are older than 300 s",
  "Observed `25` · threshold `&lt;= 0`",
  "Evidence (5 of 25):",
  "• `job-01 created 2025-11-23T23:30:00Z`",
  "• `job-02`",
  "• `job-03`",
  "• `job-04`",
  "• `job-05`",
  "_…and 20 more_",
  "Since 2025-11-23 23:40 UTC (14 min ago)",
  "Next step: `sentinel replay outbox --older-than 300s`",
].join("\n");

const sloPageText = [
  ":rotating_light: *FIRING* · page · *5xx error rate is burning the budget*",
  "Stage `runner-api` · SLO `error-rate`",
  "1.72% of API requests failed in the last hour",
  "Observed `0.0172` · threshold `0.0144`",
  "Burn rate *17.2x* over 1h and 5m · *62.5%* of the error budget left (27 min)",
  "Since 2025-11-23 23:40 UTC (14 min ago)",
  "Next step: Check the runner logs: `sentinel logs runner-api --since 1h`",
].join("\n");

const checkResolvedText = [
  ":white_check_mark: *RESOLVED* · page · *Outbox rows are not being published*",
  "Stage `outbox` · check `outbox/created-jobs`",
  "No outbox row is older than 300 s",
  "Observed `0` · threshold `&lt;= 0`",
  "Resolved, lasted 14 min (since 2025-11-23 23:40 UTC)",
].join("\n");

describe("buildSlackMessage: exact bodies", () => {
  it("firing check alert with capped evidence, next step and status link", () => {
    const message = buildSlackMessage([checkFiring], { now, statusUrl: "https://sentinel.example/status?env=prod&v=1" });
    expect(message).toEqual({
      text: [
        "Beacon Sentinel: 1 firing",
        "• FIRING [page] Outbox rows are not being published (outbox)",
        "Status page: https://sentinel.example/status?env=prod&amp;v=1",
      ].join("\n"),
      blocks: [
        header(":red_circle: Beacon Sentinel: 1 firing"),
        section(checkFiringText),
        { type: "context", elements: [{ type: "mrkdwn", text: "<https://sentinel.example/status?env=prod&amp;v=1|Status page> · Evaluated 2025-11-23 23:54 UTC" }] },
      ],
    });
  });

  it("SLO page with burn rate, budget left and windows", () => {
    expect(buildSlackMessage([sloPage], { now })).toEqual({
      text: "Beacon Sentinel: 1 firing\n• FIRING [page] 5xx error rate is burning the budget (runner-api)",
      blocks: [header(":red_circle: Beacon Sentinel: 1 firing"), section(sloPageText), footer],
    });
  });

  it("an overspent budget says by how much, never as a negative percentage", () => {
    const over = Notification.parse({ ...sloPage, budget: { burnRate: 171.4, remaining: -170.429, remainingMinutes: -7362, windows: "1h and 5m" } });
    const text = JSON.stringify(buildSlackMessage([over], { now }));
    expect(text).toContain("Burn rate *171.4x* over 1h and 5m · budget exhausted, overspent by *17042.9%*");
    expect(text).not.toContain("*-");
    const spent = Notification.parse({ ...sloPage, budget: { burnRate: 1, remaining: 0, remainingMinutes: 0, windows: "1h and 5m" } });
    expect(JSON.stringify(buildSlackMessage([spent], { now }))).toContain("over 1h and 5m · budget exhausted\\n");
  });

  it("a root cause's page lists what is held behind it, and its resolution what recovered with it", () => {
    const root = Notification.parse({ ...checkFiring, affected: ["regions: provider:yagna", "receipts: executions-api"] });
    expect(JSON.stringify(buildSlackMessage([root], { now }))).toContain("Also affected (held behind this): regions: provider:yagna; receipts: executions-api");
    const done = Notification.parse({ ...checkResolved, affected: ["regions: provider:yagna"] });
    expect(JSON.stringify(buildSlackMessage([done], { now }))).toContain("Resolved with it: regions: provider:yagna");
  });

  it("resolved alert says how long it lasted", () => {
    expect(buildSlackMessage([checkResolved], { now })).toEqual({
      text: "Beacon Sentinel: 1 resolved\n• RESOLVED [page] Outbox rows are not being published (outbox), lasted 14 min",
      blocks: [header(":white_check_mark: Beacon Sentinel: 1 resolved"), section(checkResolvedText), footer],
    });
  });

  it("groups three notifications into one message: firing, then reminders, then resolved", () => {
    const reminder = Notification.parse({ ...checkFiring, kind: "reminder", severity: "ticket", since: "2025-11-23T21:40:00Z", evidence: ["job-09"], evidenceTotal: 1 });
    const message = buildSlackMessage([checkResolved, reminder, sloPage], { now });
    expect(message).toEqual({
      text: [
        "Beacon Sentinel: 1 firing, 1 still firing, 1 resolved",
        "• FIRING [page] 5xx error rate is burning the budget (runner-api)",
        "• STILL FIRING [ticket] Outbox rows are not being published (outbox)",
        "• RESOLVED [page] Outbox rows are not being published (outbox), lasted 14 min",
      ].join("\n"),
      blocks: [
        header(":red_circle: Beacon Sentinel: 1 firing, 1 still firing, 1 resolved"),
        section(sloPageText),
        section(
          [
            ":red_circle: *STILL FIRING* · ticket · *Outbox rows are not being published*",
            "Stage `outbox` · check `outbox/created-jobs`",
            "25 outbox rows are older than 300 s",
            "Observed `25` · threshold `&lt;= 0`",
            "Evidence (1 of 1):",
            "• `job-09`",
            "Still firing since 2025-11-23 21:40 UTC (2 h 14 min)",
            "Next step: `sentinel replay outbox --older-than 300s`",
          ].join("\n"),
        ),
        section(checkResolvedText),
        footer,
      ],
    });
  });

  it("60 notifications: 47 shown, the other 13 summarised in one block, 50 blocks in all", () => {
    const many = Array.from({ length: 60 }, (_, i) =>
      Notification.parse({ ...checkFiring, id: `n${i}`, kind: i >= 50 ? "resolved" : "firing", title: `Check ${i}`, durationMs: i >= 50 ? 60_000 : undefined }),
    );
    const message = buildSlackMessage(many, { now });
    expect(message.blocks).toHaveLength(SLACK_MAX_BLOCKS);
    expect(message.blocks[0]).toEqual(header(":red_circle: Beacon Sentinel: 50 firing, 10 resolved"));
    expect(message.blocks[47]).toEqual(section(checkFiringText.replace("Outbox rows are not being published", "Check 46")));
    expect(message.blocks.slice(48)).toEqual([
      section(
        [
          "*…and 13 more not shown* (3 firing, 10 resolved):",
          "• FIRING [page] Check 47 (outbox)",
          "• FIRING [page] Check 48 (outbox)",
          "• FIRING [page] Check 49 (outbox)",
          ...Array.from({ length: 10 }, (_, i) => `• RESOLVED [page] Check ${50 + i} (outbox), lasted 1 min`),
        ].join("\n"),
      ),
      footer,
    ]);
    expect(message.text.split("\n")).toEqual([
      "Beacon Sentinel: 50 firing, 10 resolved",
      ...Array.from({ length: 10 }, (_, i) => `• FIRING [page] Check ${i} (outbox)`),
      "…and 50 more",
    ]);
  });

  it("escapes mrkdwn control characters in untrusted text (no mentions, links or markup get through)", () => {
    const hostile = Notification.parse({
      ...checkFiring,
      title: "<script>&",
      stage: "out<b>ox",
      message: "<!channel> a & b <https://evil.example|click>",
      evidence: ["<script>alert(1)</script>&x", "tick`tock"],
      evidenceTotal: 2,
      nextStep: "run <cmd> && retry",
    });
    expect(buildSlackMessage([hostile], { now })).toEqual({
      text: "Beacon Sentinel: 1 firing\n• FIRING [page] &lt;script&gt;&amp; (out&lt;b&gt;ox)",
      blocks: [
        header(":red_circle: Beacon Sentinel: 1 firing"),
        section(
          [
            ":rotating_light: *FIRING* · page · *&lt;script&gt;&amp;*",
            "Stage `out&lt;b&gt;ox` · check `outbox/created-jobs`",
            "&lt;!channel&gt; a &amp; b &lt;https://evil.example|click&gt;",
            "Observed `25` · threshold `&lt;= 0`",
            "Evidence (2 of 2):",
            "• `&lt;script&gt;alert(1)&lt;/script&gt;&amp;x`",
            "• `tickˋtock`", // a backtick would end the code span early
            "Since 2025-11-23 23:40 UTC (14 min ago)",
            "Next step: `run &lt;cmd&gt; &amp;&amp; retry`",
          ].join("\n"),
        ),
        footer,
      ],
    });
  });
});

describe("buildSlackMessage: limits and redaction", () => {
  it("redacts every string before clipping, so not even half a secret survives", () => {
    const secret = "s3cr3t-token-value";
    const leaky = Notification.parse({
      ...checkFiring,
      title: `token ${secret}`,
      message: "x".repeat(590) + secret, // the clip at 600 would cut the secret in half
      evidence: [`https://u:${secret}@db.example/`, encodeURIComponent(`a/${secret}+`)],
      nextStep: `export TOKEN=${secret}`,
    });
    const message = buildSlackMessage([leaky], { now, statusUrl: `https://status.example/?t=${secret}`, redact: createRedactor([secret]) });
    const json = JSON.stringify(message);
    expect(json).not.toContain("s3cr3t");
    expect(json).toContain("[redacted]");
  });

  it("keeps every section within Slack's 3000 characters without cutting an entity in half", () => {
    const huge = Notification.parse({ ...checkFiring, title: "&".repeat(500), message: "<".repeat(5000), evidence: Array(10).fill("&".repeat(1000)), evidenceTotal: 10 });
    const sections = buildSlackMessage([huge], { now }).blocks.filter((b): b is { text: { text: string } } => (b as { type: string }).type === "section");
    for (const s of sections) {
      expect(s.text.text.length).toBeLessThanOrEqual(SLACK_MAX_SECTION_CHARS);
      expect(s.text.text).not.toMatch(/&[a-z]{0,3}…$/);
    }
  });

  it("refuses an empty group (the caller has nothing to send)", () => {
    expect(() => buildSlackMessage([], { now })).toThrow(RangeError);
  });

  it.each([
    ["seconds", 45_000, "45 s"],
    ["minutes", 14 * 60_000, "14 min"],
    ["rounds to the nearest minute", 14 * 60_000 + 31_000, "15 min"],
    ["hours and minutes", 125 * 60_000, "2 h 5 min"],
    ["whole hours", 3 * 3_600_000, "3 h"],
    ["days and hours", (3 * 24 + 4) * 3_600_000, "3 d 4 h"],
  ])("formatDuration: %s", (_name, ms, expected) => {
    expect(formatDuration(ms)).toBe(expected);
  });
});

/** A fake monotonic clock: sleeping advances it instantly, and records how long each sleep was. */
function fakeClock() {
  let t = 0;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
    sleeps,
  };
}

const message = { text: "Beacon Sentinel: 1 firing", blocks: [{ type: "section", text: { type: "mrkdwn", text: "hello" } }] };

describe("createSlackSender against a local Slack receiver", () => {
  let receiver: SlackReceiver;
  let clock: ReturnType<typeof fakeClock>;
  const outcomes: SendOutcome[] = [];
  const sender = (extra: Partial<SlackSenderOptions> = {}) =>
    createSlackSender({ webhookUrl: receiver.url, sleep: clock.sleep, now: clock.now, ...extra });
  const send = async (s: ReturnType<typeof sender>) => {
    const outcome = await s.send(message);
    outcomes.push(outcome);
    return outcome;
  };

  beforeEach(async () => {
    clock = fakeClock();
    receiver = await startSlackReceiver({ now: clock.now });
  });
  afterEach(async () => {
    // the webhook URL is a secret: no outcome of any test may carry it, or its token
    expect(JSON.stringify(outcomes)).not.toContain(receiver.token);
    outcomes.length = 0;
    await receiver.close();
  });

  it("429 (Retry-After: 1), then 500, then 200 delivers exactly once in 3 attempts", async () => {
    receiver.script([{ status: 429, headers: { "retry-after": "1" }, body: "rate_limited" }, { status: 500, body: "internal_error" }]);
    expect(await send(sender())).toEqual({ ok: true, delivery: "delivered", attempts: 3 });
    expect(receiver.requests.map((r) => r.status)).toEqual([429, 500, 200]);
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]?.body).toEqual(message);
    // waited Retry-After, then backed off (the 500 ms backoff is stretched to the 1 s spacing)
    expect(clock.sleeps).toEqual([1000, 1000]);
  });

  it("a Retry-After beyond maxWaitMs gives up, retryable, and says when to come back", async () => {
    receiver.script([{ status: 429, headers: { "retry-after": "30" }, body: "rate_limited" }]);
    expect(await send(sender({ maxWaitMs: 8000 }))).toEqual({
      ok: false, delivery: "failed", attempts: 1, retryable: true, error: "Slack answered HTTP 429: rate_limited", retryAfterMs: 30_000,
    });
    expect(receiver.received).toHaveLength(0);
    expect(clock.sleeps).toEqual([]);
  });

  it("Retry-After waits add up against maxWaitMs", async () => {
    receiver.script([429, 429].map((status) => ({ status, headers: { "retry-after": "5" }, body: "rate_limited" })));
    expect(await send(sender({ maxWaitMs: 8000 }))).toMatchObject({ ok: false, attempts: 2, retryable: true, retryAfterMs: 5000 });
    expect(clock.sleeps).toEqual([5000]);
  });

  it.each([
    ["404 no_service", 404, "no_service"],
    ["403 invalid_token", 403, "invalid_token"],
    ["400 invalid_payload", 400, "invalid_payload"],
  ])("%s is a configuration problem: one attempt, not retryable", async (_name, status, body) => {
    receiver.script([{ status, body }]);
    expect(await send(sender())).toEqual({ ok: false, delivery: "failed", attempts: 1, retryable: false, error: `Slack answered HTTP ${status}: ${body}` });
    expect(receiver.requests).toHaveLength(1);
  });

  it("persistent 5xx stops after maxAttempts, retryable, with growing backoff", async () => {
    receiver.script(Array(4).fill({ status: 503, body: "service_unavailable" }));
    expect(await send(sender({ minIntervalMs: 0 }))).toEqual({ ok: false, delivery: "failed", attempts: 4, retryable: true, error: "Slack answered HTTP 503: service_unavailable" });
    expect(clock.sleeps).toEqual([500, 1000, 2000]);
  });

  it("a network error (nothing listening) is retryable", async () => {
    const url = `http://127.0.0.1:${await closedPort()}/services/T00000000/B00000000/${receiver.token}`;
    const outcome = await createSlackSender({ webhookUrl: url, sleep: clock.sleep, now: clock.now, maxAttempts: 2 }).send(message);
    outcomes.push(outcome);
    // Refused: nothing went out, so it is "failed", safe to send again.
    expect(outcome).toEqual({ ok: false, delivery: "failed", attempts: 2, retryable: true, error: "request to Slack failed: fetch failed (ECONNREFUSED)" });
  });

  it("a Slack that takes 4.5 s to accept gets ONE copy: the timeout allows for Slack's real latency", async () => {
    receiver.script([{ status: 200, delayMs: 4_500 }]);
    expect(await send(sender())).toEqual({ ok: true, delivery: "delivered", attempts: 1 });
    expect(receiver.received).toHaveLength(1);
  }, 15_000);

  it("a send that goes out and times out is retried once, then reported unknown and never sent again: at most two copies", async () => {
    receiver.script([{ status: 200, delayMs: 1_000 }, { status: 200, delayMs: 1_000 }, { status: 200, delayMs: 1_000 }]);
    const outcome = await send(sender({ requestTimeoutMs: 250 }));
    expect(outcome).toEqual({ ok: true, delivery: "unknown", attempts: 2, error: expect.stringContaining("Slack did not answer within 250 ms") });
    await new Promise((resolve) => setTimeout(resolve, 1_200)); // let the slow receiver finish
    expect(receiver.received).toHaveLength(2);
    expect(receiver.requests).toHaveLength(2);
  }, 15_000);

  it("after an unknown outcome, the one retry's failure does not start more attempts", async () => {
    receiver.script([{ status: 200, delayMs: 800 }, { status: 503, body: "service_unavailable" }]);
    const outcome = await send(sender({ requestTimeoutMs: 250, minIntervalMs: 0 }));
    expect(outcome).toMatchObject({ ok: true, delivery: "unknown", attempts: 2 });
    await new Promise((resolve) => setTimeout(resolve, 900));
    expect(receiver.requests.map((r) => r.status)).toEqual([200, 503]);
  }, 15_000);

  it("no attempt starts that could not finish within the send's budget", async () => {
    receiver.script(Array(4).fill({ status: 500, body: "internal_error" }));
    // Each attempt may take 10 s: after the first, a second (1 s spacing + 10 s) would end past 10.5 s.
    const outcome = await send(sender({ budgetMs: 10_500 }));
    expect(outcome).toMatchObject({ ok: false, delivery: "failed", attempts: 1, retryable: true });
    expect(receiver.requests).toHaveLength(1);
  });

  it("spaces requests at least minIntervalMs apart and delivers queued sends in order", async () => {
    const s = sender({ minIntervalMs: 1000 });
    await send(s);
    await send(s);
    const queued = [s.send({ ...message, text: "a" }), s.send({ ...message, text: "b" })];
    outcomes.push(...(await Promise.all(queued)));
    const at = receiver.received.map((r) => r.at);
    expect(at).toEqual([0, 1000, 2000, 3000]);
    expect(receiver.received.slice(2).map((r) => r.body.text)).toEqual(["a", "b"]);
  });

  it("never puts the webhook URL in an outcome, even when the server echoes it", async () => {
    receiver.script([{ status: 404, body: `no_service for ${receiver.url}` }]);
    const outcome = await send(sender());
    expect(outcome).toMatchObject({ ok: false, retryable: false });
    expect(JSON.stringify(outcome)).not.toContain(receiver.url);
    expect(JSON.stringify(outcome)).toContain("[redacted]");
  });

  it("rejects a malformed webhook URL without repeating it", () => {
    const bad = `hooks.slack.com/services/T0/B0/${receiver.token}`;
    expect(() => createSlackSender({ webhookUrl: bad })).toThrow("Slack webhook URL is not a valid http(s) URL");
    try {
      createSlackSender({ webhookUrl: bad });
    } catch (error) {
      expect(String(error)).not.toContain(receiver.token);
    }
  });
});

/** A port that was just free: bind, read it, close. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
