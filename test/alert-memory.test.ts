import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { Redis } from "@upstash/redis";
import { z } from "zod";
import { check, type CheckStatus, type ProbeResult } from "../shared/result.ts";
import { AlertingSettings } from "../shared/alerting/settings.ts";
import { DEFAULT_ROUTES } from "../shared/channels/routes.ts";
import { ChannelSettings, createChannels, SEND_BUDGET_MS } from "../shared/channels/catalog.ts";
import { emptyLedger, LEDGER_CAP, LEDGER_KEEP_DAYS, pruneLedger, recordIntents, recordOutcomes, RETRY_MARK } from "../shared/alerting/ledger.ts";
import { encodeDocument } from "../shared/store/codec.ts";
import type { Notification } from "../shared/alerting/notification.ts";
import type { AnyProbe } from "../shared/probes/types.ts";
import type { ProbeInfo } from "../shared/status/document.ts";
import { runTick, type TickDeps, type TickReport } from "../shared/tick/run.ts";
import { createTickStore } from "../shared/tick/store.ts";
import { createKeys } from "../shared/store/keys.ts";
import { SEND_EXTRA_COMMANDS, TICK_COMMANDS } from "../shared/cost/model.ts";
import { createDirectRedis, testServices } from "./support/env.ts";
import { startFaultyProxy, type FaultyProxy } from "./support/faults.ts";
import { startSlackReceiver, type SlackReceiver } from "./support/slack-receiver.ts";
import { startPagerDutyReceiver, type PagerDutyReceiver } from "./support/pagerduty-receiver.ts";
import { startHttpReceiver, type HttpReceiver } from "./support/http-receiver.ts";
import { requireAlertmanager, startAlertmanager, type Alertmanager } from "./support/alertmanager.ts";
import { capturingLogger } from "./support/http-handlers.ts";
import { renderStatusPage } from "../shared/status/page.ts";
import { createBlobsLedgerCopy } from "../netlify/ledger-copy.ts";
import { BlobsServer } from "@netlify/blobs/server";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Alert memory that survives (issue 20): a tick built from its real parts (the tick store over the
 * Upstash client and our bridge to the real Redis, behind a fault proxy; every channel at a real
 * receiver: a real Alertmanager, PagerDuty's contract, a webhook receiver, the Slack stand-in), a
 * probe whose failure the test switches, and the store attacked between and inside ticks. Each case
 * counts, at every receiver, what each channel was told about the one alert: one FIRING and one
 * RESOLVED, whatever failed in between.
 */

const HAVE_AM = requireAlertmanager();
const ALERT = "check/health/runner-health";
const INFOS: ProbeInfo[] = [{ id: "health", title: "Health", stage: "runner-api", schedule: "* * * * *", intervalMs: 60_000 }];
const PROBE: AnyProbe = { id: "health", title: "Health", stage: "runner-api", schedule: "* * * * *", settings: z.object({ timeoutMs: z.number() }), run: async () => ({ checks: [] }) };
/** One failure fires, one pass resolves: each tick below is one step of the incident. */
const POLICY = { objectives: [], alerting: AlertingSettings.parse({ defaults: { failuresToTrigger: 1, window: 1, successesToResolve: 1 } }), probes: INFOS };

let slacks: SlackReceiver[] = [];
let pd: PagerDutyReceiver;
let hook: HttpReceiver;
let amHook: HttpReceiver;
let am: Alertmanager;
let proxy: FaultyProxy;
/** Netlify Blobs' own local server (the package's BlobsServer), counting its operations. */
let blobs: { server: BlobsServer; url: string; token: string; dir: string; ops: string[] };

beforeAll(async () => {
  pd = await startPagerDutyReceiver();
  hook = await startHttpReceiver();
  amHook = await startHttpReceiver();
  if (HAVE_AM) am = await startAlertmanager(`${amHook.url}/alertmanager`);
  proxy = await startFaultyProxy(testServices().redis.restUrl);
  const dir = await mkdtemp(join(tmpdir(), "sentinel-blobs-"));
  const token = randomBytes(8).toString("hex");
  const ops: string[] = [];
  const server = new BlobsServer({ directory: dir, token, onRequest: ({ type }) => void ops.push(type) });
  const { port } = await server.start();
  blobs = { server, url: `http://127.0.0.1:${port}`, token, dir, ops };
}, 60_000);
afterAll(async () => {
  await Promise.all([...slacks.map((r) => r.close()), pd?.close(), hook?.close(), amHook?.close(), proxy?.close()]);
  await am?.stop();
  await blobs?.server.stop();
  if (blobs) await rm(blobs.dir, { recursive: true, force: true });
});

function result(status: CheckStatus): ProbeResult {
  return { version: 1, probe: "health", status, startedAt: new Date().toISOString(), durationMs: 3, checks: [check({ name: "runner-health", status, observed: status === "fail" ? 503 : 200, threshold: "200", message: status })] };
}

/** A sentinel on its own key prefix, its store behind the fault proxy, every channel at its receiver (Slack's its own). */
async function sentinel(o: { durableCopy?: boolean } = {}) {
  const slack = await startSlackReceiver();
  slacks.push(slack);
  const test = randomBytes(4).toString("hex");
  const prefix = `memory-test:${test}:`;
  const keys = createKeys(prefix);
  const info = testServices();
  const redis = new Redis({ url: proxy.url, token: info.redis.restToken, automaticDeserialization: false, enableTelemetry: false, retry: false });
  const log = capturingLogger();
  const routingKey = `${test}${"0".repeat(32 - test.length)}`;
  const channels = createChannels({
    statusUrl: "https://sentinel.example.org/status",
    channels: {
      slack: { SLACK_WEBHOOK_URL: slack.url }, pagerduty: { PAGERDUTY_ROUTING_KEY: routingKey },
      alertmanager: { ALERTMANAGER_URL: HAVE_AM ? am.url : "http://127.0.0.1:9" },
      webhook: { SENTINEL_WEBHOOK_URL: `${hook.url}/${test}`, SENTINEL_WEBHOOK_SECRET: "memory-test-secret" },
    },
    settings: { channels: ChannelSettings.parse({ pagerduty: { eventsUrl: pd.eventsUrl, requestTimeoutMs: 600 }, alertmanager: { labels: { test }, requestTimeoutMs: 600 }, webhook: { requestTimeoutMs: 600 } }) },
  }, { fetch: globalThis.fetch, redact: (s) => s, now: () => new Date() });
  const probe = { status: "fail" as CheckStatus, during: undefined as undefined | (() => Promise<void>) };
  const deps: TickDeps = {
    store: createTickStore(redis, keys, { infos: INFOS, staleFactor: 2 }),
    ...(o.durableCopy ? { ledgerCopy: createBlobsLedgerCopy({ prefix, client: { siteID: "sentinel-test", token: blobs.token, edgeURL: blobs.url } }) } : {}),
    probes: [PROBE], infos: INFOS, policy: POLICY, now: () => new Date(), log, channels, routes: DEFAULT_ROUTES,
    measure: async () => {
      const during = probe.during;
      probe.during = undefined;
      await during?.();
      return { result: result(probe.status), state: undefined };
    },
    settings: { budgetMs: 25_000, probeBudgetMs: 12_000, pendingCap: 50, staleFactor: 2, sendBudgetMs: SEND_BUDGET_MS, tickIntervalMs: 60_000 },
  };
  const tick = (): Promise<TickReport> => runTick(deps, { write: true, probes: ["health"] });
  return { test, prefix, keys, log, deps, probe, routingKey, tick, slack };
}

type Sentinel = Awaited<ReturnType<typeof sentinel>>;

/** Deletes every key of the sentinel's prefix: FLUSHDB as this sentinel sees it (the real one would wipe the other tests' data on the shared Redis). */
async function flush(s: Sentinel) {
  const redis = createDirectRedis();
  try {
    const found = await redis.keys(`${s.prefix}*`);
    if (found.length) await redis.del(...found);
  } finally {
    await redis.quit();
  }
}

async function until<T>(what: () => Promise<T> | T, ok: (v: T) => boolean, ms = 8_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await what();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * What Alertmanager notified about this test's alert, in order: its own status in each group
 * notification that carried it (a group shared with another test's alert is re-sent when that one
 * changes: the same status twice in a row is the same announcement).
 */
const amNotices = (s: Sentinel): string[] => amHook.requests.flatMap((r) => (JSON.parse(r.raw).alerts as any[]).filter((a) => a.labels.test === s.test && a.labels.alert_key === ALERT).map((a) => a.status as string))
  .filter((status, i, all) => status !== all[i - 1]);
/** Alertmanager notifies after its group wait: an alert resolved before that was never announced by it. */
const amFired = (s: Sentinel) => until(() => amNotices(s), (v) => v.includes("firing"));

/** A native client on the same Redis, for what the test does to the store behind the sentinel's back. */
async function direct<T>(fn: (r: ReturnType<typeof createDirectRedis>) => Promise<T>): Promise<T> {
  const redis = createDirectRedis();
  try {
    return await fn(redis);
  } finally {
    await redis.quit();
  }
}

/** What each channel's receiver was told about the alert, counted there. */
async function told(s: Sentinel) {
  const slackTexts = s.slack.received.map((r) => JSON.stringify(r.body));
  const hookNotes = hook.requests.filter((r) => r.path === `/${s.test}` && r.status === 200).flatMap((r) => JSON.parse(r.raw).notifications as { id: string; kind: string; alertKey: string }[]).filter((n) => n.alertKey === ALERT);
  const pdEvents = pd.events.filter((e) => e.routing_key === s.routingKey);
  const am = await until(() => amNotices(s), (v) => v.includes("resolved"));
  return {
    slack: {
      firing: slackTexts.filter((t) => t.includes("FIRING") && !t.includes("STILL FIRING") && !t.includes(RETRY_MARK)).length,
      retries: slackTexts.filter((t) => t.includes(RETRY_MARK)).length,
      resolved: slackTexts.filter((t) => t.includes("RESOLVED")).length,
    },
    pagerduty: {
      incidents: pd.alerts.filter((a) => a.routingKey === s.routingKey).map((a) => ({ dedupKey: a.dedupKey, status: a.status })),
      triggers: pdEvents.filter((e) => e.event_action === "trigger").length,
      resolves: pdEvents.filter((e) => e.event_action === "resolve").length,
    },
    // A receiver that deduplicates by idempotency key sees each notification id once.
    webhook: { firing: new Set(hookNotes.filter((n) => n.kind === "firing").map((n) => n.id)).size, resolved: new Set(hookNotes.filter((n) => n.kind === "resolved").map((n) => n.id)).size },
    alertmanager: { firing: am.filter((status) => status === "firing").length, resolved: am.filter((status) => status === "resolved").length },
  };
}

const ONCE_EACH = {
  pagerduty: { incidents: [{ dedupKey: ALERT, status: "resolved" }], resolves: 1 },
  webhook: { firing: 1, resolved: 1 },
  alertmanager: { firing: 1, resolved: 1 },
};

describe.runIf(HAVE_AM)("alert memory that survives: one FIRING and one RESOLVED per alert per channel", () => {
  it("a plain incident: the count every other case is held to, at the store commands the model says", async () => {
    const s = await sentinel();
    const fired = await s.tick();
    expect(fired.notifications.map((n) => n.kind)).toEqual(["firing"]);
    expect(fired.storeCommands).toBe(TICK_COMMANDS + SEND_EXTRA_COMMANDS);
    await amFired(s);
    s.probe.status = "pass";
    expect((await s.tick()).notifications.map((n) => n.kind)).toEqual(["resolved"]);
    expect(await told(s)).toMatchObject({ ...ONCE_EACH, slack: { firing: 1, retries: 0, resolved: 1 }, pagerduty: { ...ONCE_EACH.pagerduty, triggers: 1 } });
    // The ledger says what each channel was told, with its own key.
    const ledger = (await s.deps.store.peek()).ledger.alerts[ALERT]!;
    expect(Object.fromEntries(Object.entries(ledger.channels).map(([c, e]) => [c, [e.state, e.phase]]))).toEqual({
      slack: ["resolved", "sent"], pagerduty: ["resolved", "sent"], alertmanager: ["resolved", "sent"], webhook: ["resolved", "sent"],
    });
    expect(ledger.channels.pagerduty!.key).toBe(ALERT);
    expect(ledger.closedAt).toBeDefined();
  }, 30_000);

  it("a failed write after the send: the next tick sends again with the same keys; Slack gets one marked retry", async () => {
    const s = await sentinel();
    let writes = 0;
    let releases = 0;
    // The tick's second write (the outcome, after the send) is dropped on the way to the store, and so is
    // the HTTP client's own retry of it; the release of the lock on the way out (no documents) passes.
    proxy.behave((_i, body) => {
      if (!body.includes("'MSET'")) return { kind: "pass" };
      if (!body.includes(s.keys.state)) return (releases++, { kind: "pass" });
      return ++writes >= 2 ? { kind: "drop" } : { kind: "pass" };
    });
    await expect(s.tick()).rejects.toThrow();
    proxy.behave(() => ({ kind: "pass" }));
    expect([writes >= 2, releases]).toEqual([true, 1]);
    const intents = (await s.deps.store.peek()).ledger.alerts[ALERT]!.channels;
    expect(Object.values(intents).map((e) => e.phase)).toEqual(["intent", "intent", "intent", "intent"]);

    const again = await s.tick();
    expect(again.notifications).toEqual([]); // nothing new decided: the FIRING owed since the lost write is what is sent
    expect(again.delivered).toBe(4);
    await amFired(s);
    s.probe.status = "pass";
    await s.tick();
    const t = await told(s);
    // PagerDuty: the same dedup_key twice, one incident; the webhook: the same idempotency key; Alertmanager: the same labels.
    expect(t).toMatchObject({ ...ONCE_EACH, slack: { firing: 1, retries: 1, resolved: 1 }, pagerduty: { ...ONCE_EACH.pagerduty, triggers: 2 } });
    const keys = hook.requests.filter((r) => r.path === `/${s.test}`).map((r) => r.headers["idempotency-key"]);
    expect(keys[0]).toBe(keys[1]);
  }, 40_000);

  it("the write after the send lost twice in a row: Slack is retried once, never a third time; the others keep their keys", async () => {
    const s = await sentinel();
    // Every outcome write (the second document write of a tick) is dropped, the HTTP client's retries too.
    let writes = 0;
    proxy.behave((_i, body) => (body.includes("'MSET'") && body.includes(s.keys.state) && ++writes >= 2 ? { kind: "drop" } : { kind: "pass" }));
    try {
      writes = 0;
      await expect(s.tick()).rejects.toThrow();
      writes = 0;
      await expect(s.tick()).rejects.toThrow();
    } finally {
      proxy.behave(() => ({ kind: "pass" }));
    }
    const third = await s.tick();
    expect(third.status?.monitoring?.channels.slack).toMatchObject({ unknown: 1 });
    expect(s.log.lines.filter((l) => l.includes("not sent again (the channel cannot deduplicate)"))).toHaveLength(1);
    await amFired(s);
    s.probe.status = "pass";
    await s.tick();
    expect(await told(s)).toMatchObject({ ...ONCE_EACH, slack: { firing: 1, retries: 1, resolved: 1 }, pagerduty: { ...ONCE_EACH.pagerduty, triggers: 3 } });
  }, 40_000);

  it("PagerDuty answering after the timeout: retried once with the same key, counted unknown, the resolve still goes; no tick runs long", async () => {
    const s = await sentinel();
    // PagerDuty takes each event and answers after 1.5 s, past the 600 ms timeout, for the trigger and its retry.
    pd.script([{ status: 202, slowPass: true, delayMs: 1_500 }, { status: 202, slowPass: true, delayMs: 1_500 }]);
    const t0 = Date.now();
    const fired = await s.tick();
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(fired.status?.monitoring?.channels.pagerduty).toMatchObject({ unknown: 1, failed: 0 });
    expect((await s.deps.store.peek()).ledger.alerts[ALERT]!.channels.pagerduty).toMatchObject({ state: "firing", phase: "unknown", key: ALERT });
    await s.tick(); // still failing: nothing is sent to PagerDuty again
    await amFired(s);
    s.probe.status = "pass";
    await s.tick();
    expect(await told(s)).toMatchObject({ ...ONCE_EACH, slack: { firing: 1, retries: 0, resolved: 1 }, pagerduty: { ...ONCE_EACH.pagerduty, triggers: 2 } });
  }, 40_000);

  it("a flush in the middle of a tick: another tick takes the lock and sends; the first one's write is refused and it sends nothing", async () => {
    const s = await sentinel();
    let second: TickReport | undefined;
    s.probe.during = async () => {
      await flush(s);
      second = await s.tick(); // takes the lock the flush freed, fires and sends
    };
    const first = await s.tick();
    expect(second?.notifications.map((n) => n.kind)).toEqual(["firing"]);
    expect(first).toMatchObject({ skipReason: "fenced", delivered: 0, lost: 1 });
    expect(s.log.lines.some((l) => l.includes("lost its lock"))).toBe(true);
    await amFired(s);
    s.probe.status = "pass";
    await s.tick();
    expect(await told(s)).toMatchObject({ ...ONCE_EACH, slack: { firing: 1, retries: 0, resolved: 1 }, pagerduty: { ...ONCE_EACH.pagerduty, triggers: 1 } });
  }, 40_000);

  it.each([
    ["deleted", async (s: Sentinel): Promise<void> => void (await direct((r) => r.del(s.keys.state)))],
    ["overwritten with garbage", async (s: Sentinel): Promise<void> => void (await direct((r) => r.set(s.keys.state, "gz:not-gzip-at-all")))],
  ] as const)("the state %s mid-incident: rebuilt from the ledger, said once per channel, resolved once", async (how, kill) => {
    const s = await sentinel();
    await s.tick();
    await amFired(s);
    await kill(s);
    const rebuilt = await s.tick();
    expect(rebuilt.notifications).toEqual([]); // not announced again as new
    expect(rebuilt.firing.map((a) => [a.key, a.notified])).toEqual([[ALERT, true]]);
    const lost = rebuilt.status?.monitoring?.memoryLost;
    expect(lost).toMatchObject({ reason: how === "deleted" ? "missing" : "unreadable", from: "ledger", alerts: [ALERT] });
    expect(s.log.lines.filter((l) => l.includes("open alerts rebuilt from the ledger"))).toHaveLength(1);
    // The page says so; Slack and the webhook were told once (PagerDuty and Alertmanager carry no note: it would open an incident, or fire).
    expect(renderStatusPage(rebuilt.status!)).toContain(`Memory lost at`);
    const note = `memory lost at ${lost!.at}, rebuilt from the ledger`;
    const noted = s.slack.received.filter((r) => JSON.stringify(r.body).includes(note));
    expect(noted).toHaveLength(1);
    expect(JSON.stringify(noted[0]!.body)).toContain("*NOTE*");
    expect(hook.requests.filter((r) => r.path === `/${s.test}` && r.raw.includes(note))).toHaveLength(1);
    await s.tick(); // still failing: nothing more
    s.probe.status = "pass";
    expect((await s.tick()).notifications.map((n) => `${n.kind}:${n.alertKey}`)).toEqual([`resolved:${ALERT}`]);
    expect(await told(s)).toMatchObject({ ...ONCE_EACH, slack: { firing: 1, retries: 0, resolved: 1 }, pagerduty: { ...ONCE_EACH.pagerduty, triggers: 1 } });
    expect(s.slack.received.filter((r) => JSON.stringify(r.body).includes("memory lost"))).toHaveLength(1);
  }, 40_000);

  it("the store flushed between ticks (state and ledger gone): rebuilt from the ledger's durable copy in Netlify Blobs", async () => {
    const s = await sentinel({ durableCopy: true });
    const ops = () => ({ set: blobs.ops.filter((t) => t === "set").length, get: blobs.ops.filter((t) => t === "get").length });
    const start = ops();
    await s.tick();
    // The first tick finds neither state nor ledger (it cannot tell a first run from a total loss): one read, empty; one write after it sent.
    expect(ops()).toEqual({ set: start.set + 1, get: start.get + 1 });
    await amFired(s);
    await flush(s);
    const rebuilt = await s.tick();
    expect(rebuilt.notifications).toEqual([]);
    expect(rebuilt.status?.monitoring?.memoryLost).toMatchObject({ reason: "missing", from: "durable copy", alerts: [ALERT] });
    expect(s.slack.received.filter((r) => JSON.stringify(r.body).includes("rebuilt from the ledger's durable copy"))).toHaveLength(1);
    expect(ops()).toEqual({ set: start.set + 2, get: start.get + 2 }); // read once after the loss; written after the note was sent
    s.probe.status = "pass";
    await s.tick();
    expect(ops()).toEqual({ set: start.set + 3, get: start.get + 2 }); // no read while the store holds the ledger
    expect(await told(s)).toMatchObject({ ...ONCE_EACH, slack: { firing: 1, retries: 0, resolved: 1 }, pagerduty: { ...ONCE_EACH.pagerduty, triggers: 1 } });
  }, 40_000);
});

describe.runIf(HAVE_AM)("a store that answers OK without storing", () => {
  it("caught by the write sequence on the next tick: reported, and the alert rebuilt from the ledger's durable copy, never announced twice", async () => {
    const s = await sentinel({ durableCopy: true });
    s.probe.status = "pass";
    const first = await s.tick();
    expect(first.status?.monitoring?.seq).toBe(1);
    // Every write of the next tick is answered "written" (the client pipelines it: one reply in a list) and never reaches Redis; the lock's take and the reads do.
    let lied = 0;
    proxy.behave((_i, body) => (body.includes("'MSET'") && body.includes(s.keys.state) ? (lied++, { kind: "answer", status: 200, body: '[{"result":1}]' }) : { kind: "pass" }));
    s.probe.status = "fail";
    const fired = await s.tick();
    proxy.behave(() => ({ kind: "pass" }));
    expect([fired.notifications.map((n) => n.kind), fired.delivered, lied]).toEqual([["firing"], 4, 2]);
    await amFired(s);
    // Nor did the release reach it: the lock expires 30 s later, before the next minute's tick.
    await direct((r) => r.del(s.keys.lock));
    const caught = await s.tick();
    expect(caught.notifications).toEqual([]); // not announced again as new
    expect(caught.status?.monitoring).toMatchObject({ seq: 3, staleState: { storedSeq: 1, expectedSeq: 2 }, memoryLost: { reason: "stale", from: "durable copy", alerts: [ALERT] } });
    expect(s.log.lines.filter((l) => l.includes("the stored state is behind the write sequence"))).toHaveLength(1);
    expect(renderStatusPage(caught.status!)).toContain("Stored state behind at");
    expect(s.slack.received.filter((r) => JSON.stringify(r.body).includes("memory was stale"))).toHaveLength(1);
    const next = await s.tick(); // in step again: nothing reported twice
    expect(next.status?.monitoring?.staleState?.at).toBe(caught.status?.monitoring?.staleState?.at);
    expect(s.log.lines.filter((l) => l.includes("the stored state is behind the write sequence"))).toHaveLength(1);
    s.probe.status = "pass";
    expect((await s.tick()).notifications.map((n) => n.kind)).toEqual(["resolved"]);
    expect(await told(s)).toMatchObject({ ...ONCE_EACH, slack: { firing: 1, retries: 0, resolved: 1 }, pagerduty: { ...ONCE_EACH.pagerduty, triggers: 1 } });
  }, 40_000);
});

describe("the ledger stays small", () => {
  const NOW = new Date("2026-05-01T10:00:00.000Z");
  const note = (i: number, kind: "firing" | "resolved"): Notification => ({
    id: `check/p${i}/c@${kind}@x`, kind, alertKey: `check/p${i}/c`, alertType: "check", stage: "queue", probe: `p${i}`, check: "c", severity: "page",
    title: `p${i}: c`, message: "m", observed: 1, threshold: 0, evidence: [], evidenceTotal: 0, since: NOW.toISOString(), channels: ["slack", "pagerduty"],
  });
  const channels = [{ name: "slack" }, { name: "pagerduty", deduplicates: true, keyOf: (n: Notification) => n.alertKey }];
  const announce = (ledger: ReturnType<typeof emptyLedger>, n: Notification, at: Date) => {
    recordIntents(ledger, [n], channels, at);
    recordOutcomes(ledger, [n], new Map([["slack", { delivered: [n.id], abandoned: [] }], ["pagerduty", { delivered: [n.id], abandoned: [] }]]), at);
  };

  it(`closed alerts are pruned after ${LEDGER_KEEP_DAYS} days; open ones are kept`, () => {
    const ledger = emptyLedger();
    announce(ledger, note(1, "firing"), NOW);
    announce(ledger, note(1, "resolved"), NOW);
    announce(ledger, note(2, "firing"), NOW);
    expect(ledger.alerts["check/p1/c"]?.closedAt).toBe(NOW.toISOString());
    pruneLedger(ledger, new Date(NOW.getTime() + (LEDGER_KEEP_DAYS - 1) * 86_400_000));
    expect(Object.keys(ledger.alerts)).toEqual(["check/p1/c", "check/p2/c"]);
    pruneLedger(ledger, new Date(NOW.getTime() + (LEDGER_KEEP_DAYS + 1) * 86_400_000));
    expect(Object.keys(ledger.alerts)).toEqual(["check/p2/c"]);
  });

  it(`at most ${LEDGER_CAP} alerts, closed ones dropped first, and its stored size measured`, () => {
    const ledger = emptyLedger();
    for (let i = 0; i < LEDGER_CAP + 50; i++) {
      announce(ledger, note(i, "firing"), NOW);
      if (i < 100) announce(ledger, note(i, "resolved"), NOW);
    }
    pruneLedger(ledger, NOW);
    const kept = Object.keys(ledger.alerts);
    expect(kept).toHaveLength(LEDGER_CAP);
    // The 250 alerts: 100 closed, 150 open; the 50 dropped are closed ones, every open one is kept.
    expect(kept.filter((k) => ledger.alerts[k]!.closedAt)).toHaveLength(50);
    const stored = encodeDocument(ledger).length;
    console.info(`ledger at its cap (${LEDGER_CAP} alerts, 2 channels each): ${stored} bytes stored (gzipped, base64)`);
    expect(stored).toBeLessThan(30_000);
  });
});
