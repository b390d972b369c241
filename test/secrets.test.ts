import { evaluateNow, recordRun } from "./support/sentinel.ts";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { httpFunction, type Route } from "../netlify/http/handler.ts";
import { badgeRoute, metricsRoute, pageRoute, statusRoute } from "../netlify/http/status-routes.ts";
import { probeRunRoute } from "../netlify/http/probe-run.ts";
import { remediateRoute } from "../netlify/http/remediate.ts";
import { createRuntime, type Runtime } from "../netlify/runtime.ts";
import { PROBES } from "../shared/probes/catalog.ts";
import { runProbe } from "../shared/runner.ts";
import { createHarness, jobSpec, submit, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { sentinelEnv, sentinelRuntime } from "./support/sentinel.ts";
import { startSlackReceiver, type SlackReceiver } from "./support/slack-receiver.ts";
import { startPagerDutyReceiver, type PagerDutyReceiver } from "./support/pagerduty-receiver.ts";
import { capturingLogger } from "./support/http-handlers.ts";
import { closedPort } from "./support/hostile.ts";
import { testServices } from "./support/env.ts";

/**
 * A full run with distinctive secret values configured: probes, the fan-in with Slack, every HTTP
 * route (good and bad requests), manual runs, remediation (dry run, execution, refusal), the CLI and a
 * configuration failure. Every output is captured (response bodies and headers, log lines before any
 * redaction, console output, Slack requests, CLI output, and what was written to the store) and must
 * contain none of the secrets, in plain or URL-encoded form.
 */
const SECRETS = {
  SENTINEL_ADMIN_TOKEN: "sentinel-admin-SECRET-a1b2c3d4e5",
  SENTINEL_STATUS_TOKEN: "sentinel-status-SECRET-f6a7b8c9d0",
  BEACON_ADMIN_TOKEN: "beacon-admin-SECRET-1a2b3c4d5e",
  CANARY_SIGNING_KEY: Buffer.alloc(32, 0x5c).toString("base64"),
  PAGERDUTY_ROUTING_KEY: "PdRoutingKeySECRET0123456789abcd",
  SENTINEL_WEBHOOK_SECRET: "webhook-hmac-SECRET-77aa88bb",
};
const DB_PASSWORD = "dbpass-SECRET-9f8e7d";

let h: Harness;
let sandbox: Sandbox;
let slack: SlackReceiver;
let pagerduty: PagerDutyReceiver;
let env: Record<string, string>;
let rt: Runtime;
const log = capturingLogger();
const captured: { where: string; text: string }[] = [];
const keep = (where: string, value: unknown) => void captured.push({ where, text: typeof value === "string" ? value : JSON.stringify(value) });

async function keepResponse(where: string, response: Response): Promise<Response> {
  const text = await response.text();
  keep(`${where} (HTTP ${response.status})`, `${JSON.stringify([...response.headers])}\n${text}`);
  return new Response(text, { status: response.status, headers: response.headers });
}

beforeAll(async () => {
  for (const method of ["log", "info", "warn", "error"] as const) {
    const original = console[method].bind(console);
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      keep(`console.${method}`, args.map(String).join(" "));
      original(...args);
    });
  }
  h = await createHarness();
  sandbox = await h.start({ sigBypass: true, adminToken: SECRETS.BEACON_ADMIN_TOKEN, adminRateLimitMs: 200 });
  slack = await startSlackReceiver();
  pagerduty = await startPagerDutyReceiver();
  const db = new URL(h.db.connectionString);
  db.password = DB_PASSWORD;
  env = sentinelEnv(h, sandbox, {
    alerting: { defaults: { failuresToTrigger: 1, window: 1 } },
    probes: { outbox: { createdMaxSeconds: 60 }, health: { requestTimeoutMs: 2_000 } },
    remediation: { adminIntervalMs: 200 },
    // Every channel at a local receiver, so their requests are captured too and nothing leaves the machine.
    channels: { pagerduty: { eventsUrl: pagerduty.eventsUrl } },
  }, { ...SECRETS, SLACK_WEBHOOK_URL: slack.url, SENTINEL_WEBHOOK_URL: `${slack.url}/webhook`, BEACON_DATABASE_URL: db.toString(), SENTINEL_PUBLIC_STATUS: "false" });
  rt = sentinelRuntime(env, { log });
}, 60_000);
afterAll(async () => {
  vi.restoreAllMocks();
  await rt?.close();
  await slack?.close();
  await pagerduty?.close();
  await h?.close();
});

const secretValues = () => {
  const values = [...Object.values(SECRETS), DB_PASSWORD, env.BEACON_DATABASE_URL!, slack.url, slack.token, testServices().redis.restToken];
  return [...new Set(values.flatMap((v) => [v, encodeURIComponent(v)]))];
};

let ip = 0;
async function call(route: Route, path: string, init: RequestInit = {}, token: string | null = SECRETS.SENTINEL_ADMIN_TOKEN, r: Runtime = rt) {
  const headers = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.body ? { "content-type": "application/json" } : {}) };
  const response = await httpFunction(route, () => r)(new Request(`http://sentinel.test${path}`, { ...init, headers }), { ip: `10.7.0.${++ip}` });
  return keepResponse(`${init.method ?? "GET"} ${path}`, response);
}

describe("no secret leaves the sentinel", () => {
  it("through a full run: probes, fan-in and Slack, every route, remediation, the CLI, a config failure", async () => {
    // Something to report: an unhealthy runner and a job stuck without an outbox row.
    sandbox.incidents.set("health-unhealthy", true);
    sandbox.incidents.set("no-outbox-row", true);
    const stuck = jobSpec();
    await submit(sandbox, stuck);
    await sandbox.drain();
    await sandbox.pool.query("UPDATE jobs SET created_at = created_at - interval '600 seconds', updated_at = updated_at - interval '600 seconds' WHERE jobspec_id = $1", [stuck["jobspec_id"]]);
    sandbox.incidents.set("no-outbox-row", false);

    for (const probe of PROBES) keep(`probe ${probe.id}`, await recordRun(rt, probe.id));
    slack.script([{ status: 500, body: "upstream broke" }]); // the first send fails: the error path is logged
    keep("fan-in (send fails)", await evaluateNow(rt));
    keep("fan-in (retried)", await evaluateNow(rt));

    for (const [route, path] of [[statusRoute, "/api/status"], [badgeRoute, "/api/status/badge"], [metricsRoute, "/api/metrics"], [pageRoute, "/status"]] as const) {
      expect((await call(route, path, {}, SECRETS.SENTINEL_STATUS_TOKEN)).status).toBe(200);
      expect((await call(route, path, {}, null)).status).toBe(401);
      expect((await call(route, path, {}, "wrong-token-0000000000000000")).status).toBe(403);
    }
    expect((await call(probeRunRoute(), "/api/probes/health/run?notify=true", { method: "POST" })).status).toBe(200);
    expect((await call(probeRunRoute(), "/api/probes/outbox/run?dry_run=true", { method: "POST" })).status).toBe(200);
    expect((await call(probeRunRoute(), "/api/probes/nope/run?x=1", { method: "POST" })).status).toBe(400);
    expect((await call(probeRunRoute(), "/api/probes/nope/run", { method: "POST" })).status).toBe(404);
    expect((await call(probeRunRoute(), "/api/probes/health/run", { method: "POST" }, SECRETS.BEACON_ADMIN_TOKEN)).status).toBe(403);
    expect((await call(remediateRoute(), "/api/remediate/republish", { method: "POST", body: "{}" })).status).toBe(200);
    const executed = await call(remediateRoute(), "/api/remediate/republish", { method: "POST", body: '{"execute":true}' });
    expect(executed.status).toBe(200);
    expect((await executed.json()).results).toEqual([expect.objectContaining({ outcome: "republished" })]);

    // Beacon's database unreachable, with the password in its connection string.
    const port = await closedPort();
    const deadDb = new URL(`postgres://postgres@127.0.0.1:${port}/none`);
    deadDb.password = DB_PASSWORD;
    const down = sentinelRuntime({ ...env, BEACON_DATABASE_URL: deadDb.toString() }, { log });
    try {
      const outbox = PROBES.find((p) => p.id === "outbox")!;
      keep("outbox probe, database down", await runProbe(outbox, { deps: down.deps, settings: down.config.settings, targets: down.targets, redact: down.redact }));
      expect((await call(remediateRoute(), "/api/remediate/republish", { method: "POST", body: '{"execute":true}' }, SECRETS.SENTINEL_ADMIN_TOKEN, down)).status).toBe(503);
    } finally {
      await down.close();
    }

    // A configuration failure, with every secret set.
    const broken = { ...env, SENTINEL_KEY_PREFIX: "not valid!", BEACON_API_URL: "ftp://runner" };
    expect((await keepResponse("config failure", await httpFunction(statusRoute, () => createRuntime(broken))(new Request("http://x/api/status")))).status).toBe(500);

    const exec = promisify(execFile);
    for (const args of [["status"], ["republish-stuck", "--json"], ["run", "outbox", "--dry-run"]]) {
      const out = await exec(process.execPath, ["netlify/bin/sentinel.mjs", ...args], { env: { ...process.env, ...env }, timeout: 60_000 })
        .catch((e: { stdout: string; stderr: string }) => e);
      keep(`sentinel ${args.join(" ")}`, `${out.stdout}\n${out.stderr}`);
    }

    for (const r of slack.requests) keep("slack and webhook", r.body);
    // PagerDuty's protocol carries the routing key in each event: there, and nowhere else.
    expect(pagerduty.events.length).toBeGreaterThanOrEqual(1);
    expect(pagerduty.events.every((e) => e.routing_key === SECRETS.PAGERDUTY_ROUTING_KEY)).toBe(true);
    for (const e of pagerduty.events) keep("pagerduty (without its routing key)", { ...e, routing_key: undefined });
    for (const line of log.lines) keep("log", line);
    const keys = await rt.storeRedis!.keys(`${env.SENTINEL_KEY_PREFIX}*`);
    for (const key of keys) {
      const type = await rt.storeRedis!.type(key);
      const value = type === "string" ? await rt.storeRedis!.get(key) : type === "list" ? await rt.storeRedis!.lrange(key, 0, -1)
        : type === "hash" ? await rt.storeRedis!.hgetall(key) : await rt.storeRedis!.xrange(key, "-", "+").catch(() => null);
      keep(`store ${key}`, value);
    }

    // The run exercised what it claims to.
    expect(slack.received.length).toBeGreaterThanOrEqual(2); // an alert and the remediation audit
    expect(slack.requests.some((r) => r.status === 500)).toBe(true);
    expect(captured.some((c) => c.where === "sentinel status" && c.text.includes("Beacon pipeline: FAILING"))).toBe(true);
    expect(captured.some((c) => c.text.includes("database-unreachable"))).toBe(true);
    expect(captured.some((c) => c.where.startsWith("store") && c.text.includes("republish-job"))).toBe(true);
    expect(captured.length).toBeGreaterThan(50);

    const leaks = captured.flatMap((c) => secretValues().filter((s) => c.text.includes(s)).map((s) => `${c.where}: contains ${s.slice(0, 12)}…`));
    expect(leaks).toEqual([]);
  }, 180_000);
});
