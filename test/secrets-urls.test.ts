import { afterAll, beforeAll, describe, expect, it } from "vitest";
import http from "node:http";
import { once } from "node:events";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { collectSecrets, loadConfig } from "../shared/config/index.ts";
import { createRedactor, scrubUrls } from "../shared/redact.ts";
import { healthProbe } from "../shared/probes/health/index.ts";
import { runProbe } from "../shared/runner.ts";
import { check } from "../shared/result.ts";
import { httpFunction, type Route } from "../netlify/http/handler.ts";
import { badgeRoute, metricsRoute, pageRoute, statusRoute } from "../netlify/http/status-routes.ts";
import { StatusDocument } from "../shared/status/schema.ts";
import { createHarness, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { recordRun, sentinelEnv, sentinelRuntime } from "./support/sentinel.ts";
import { capturingLogger } from "./support/http-handlers.ts";
import { closedPort } from "./support/hostile.ts";
import type { Runtime } from "../netlify/runtime.ts";

/**
 * Finding 1 of issue 10: credentials and query values of configured URLs leaked through fetch's own
 * error messages into check messages, the status API and page, the store and the CLI. Every secret
 * below sits in a URL (user info or query string), where no token variable would have named it.
 */

describe("scrubUrls strips credentials and query values from any URL in text", () => {
  it.each([
    ["user and password", "failed: http://u:pw@host/x", "failed: http://[redacted]@host/x"],
    ["a user alone", "GET https://alice@host:8443/", "GET https://[redacted]@host:8443/"],
    ["query values, names kept", "http://h/p?api_key=K&x=1#frag", "http://h/p?api_key=[redacted]&x=[redacted]#frag"],
    ["both, inside fetch's message", "Request cannot be constructed from a URL that includes credentials: http://u:S@h/x?api_key=K",
      "Request cannot be constructed from a URL that includes credentials: http://[redacted]@h/x?api_key=[redacted]"],
    ["a postgres connection string", 'connect "postgres://role:pw@db.internal/beacon?sslmode=require"', 'connect "postgres://[redacted]@db.internal/beacon?sslmode=[redacted]"'],
    ["an @ in the path is not user info", "http://h/users/@me", "http://h/users/@me"],
    ["a URL inside JSON ends at its quote", '{"u":"http://h/?t=abc","v":"x"}', '{"u":"http://h/?t=[redacted]","v":"x"}'],
    ["evidence URLs without secrets are untouched", "http://127.0.0.1:8080/health -> HTTP 503", "http://127.0.0.1:8080/health -> HTTP 503"],
    ["safeUrl's marker is untouched", "http://h/x?…: connection refused", "http://h/x?…: connection refused"],
    ["a URL cut inside its password (issue 20)", "dial postgres://role:Pa55w", "dial postgres://role:[redacted]"],
    ["a URL cut inside its password, then an ellipsis", "dial postgres://role:Pa55w…", "dial postgres://role:[redacted]…"],
    ["a port is not a password", "GET http://127.0.0.1:8080… timed out", "GET http://127.0.0.1:8080… timed out"],
    ["an IPv6 host is not user info", "GET http://[::1]:8080/x", "GET http://[::1]:8080/x"],
  ])("%s", (_name, input, expected) => {
    expect(scrubUrls(input)).toBe(expected);
    expect(scrubUrls(expected)).toBe(expected); // idempotent
  });
});

describe("redact, then cut: a text marked as cut before it reached the redactor keeps no start of a secret (issue 20)", () => {
  const secret = "Zq7-rotating-token-91f0c2";
  const redact = createRedactor([secret]);
  // A credential at character 200 of a long error, cut at every length a probe or Beacon might cut it.
  const long = `${"x".repeat(200)} token=${secret} and more`;
  it.each([120, 206, 208, 212, 220, 231, 240])("cut at %i characters", (at) => {
    for (const cut of [`${long.slice(0, at)}…`, `${long.slice(0, at)}...`]) {
      const out = redact(cut);
      for (let k = 6; k <= secret.length; k++) expect(out).not.toContain(secret.slice(0, k));
    }
  });
  it("leaves text alone that merely ends like an ordinary word", () => {
    expect(redact("plain text that ends with Zq7-r…")).toBe("plain text that ends with Zq7-r…"); // 5 characters: under the floor
    expect(redact("a name that ends like it: Zq7-rotating")).toBe("a name that ends like it: Zq7-rotating"); // not marked as cut
    expect(redact(`${"y".repeat(150)} done`)).toBe(`${"y".repeat(150)} done`);
  });
  it("through the probe runner: a check whose evidence a probe cut mid-secret reaches the result redacted", async () => {
    const probe = { ...healthProbe, id: "health", run: async () => ({ checks: [check({ name: "cut", status: "fail", observed: null, threshold: null, message: `${long.slice(0, 212)}…`, evidence: [`${long.slice(0, 215)}…`] })] }) };
    const env = { BEACON_API_URL: "http://127.0.0.1:9", SENTINEL_REDIS_REST_URL: "http://127.0.0.1:9", SENTINEL_REDIS_REST_TOKEN: secret };
    const config = loadConfig(env);
    const result = await runProbe(probe, { deps: { now: () => new Date(), fetch, log: capturingLogger() } as never, settings: config.settings, targets: {} as never, redact: createRedactor(collectSecrets(env)) });
    const text = JSON.stringify(result);
    for (let k = 6; k <= secret.length; k++) expect(text).not.toContain(secret.slice(0, k));
    expect(text).toContain("[redacted]");
  });
});

describe("collectSecrets names the secrets of every configured URL", () => {
  const env = {
    BEACON_API_URL: "https://api-user-1:api-pass-1@runner.internal/",
    BEACON_HEALTH_URLS: "portal=http://portal-user:portal-pass@portal.internal/x?api_key=portal-key-1,router=https://router.internal/h?token=router-token-1",
    BEACON_REDIS_REST_URL: "https://redis.internal/?key=redis-key-1",
    BEACON_REDIS_REST_TOKEN: "redis-token-abcdef",
    SENTINEL_STATUS_URL: "https://status.example.org/?view=status-view-1",
  };
  it("passwords, http user names, Basic credentials and query values, each URL included", () => {
    const secrets = collectSecrets(env);
    for (const value of ["api-user-1", "api-pass-1", "portal-user", "portal-pass", "portal-key-1", "router-token-1", "redis-key-1", "status-view-1",
      Buffer.from("portal-user:portal-pass").toString("base64"), "redis-token-abcdef"]) {
      expect(secrets).toContain(value);
    }
    const redact = createRedactor(secrets);
    // Out of URL context too (a driver may quote a value on its own).
    expect(redact("user portal-user said portal-key-1")).toBe("user [redacted] said [redacted]");
  });
  it("a bad BEACON_HEALTH_URLS entry is reported without its credentials or query", () => {
    let message = "";
    try {
      loadConfig({ ...env, BEACON_HEALTH_URLS: "bad=ftp://who:Pass-Word-1@h/x?k=Query-Val-1" });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("BEACON_HEALTH_URLS");
    expect(message).not.toMatch(/Pass-Word-1|Query-Val-1|who:/);
  });
});

const PORTAL = { user: "portal-USER-7e1", pass: "portal-PASS-9c2", key: "portal-KEY-3b4" };
const GONE = { user: "gone-USER-5d6", pass: "gone-PASS-8a9", token: "gone-TOKEN-1f2" };
const API = { user: "api-USER-4c7", pass: "api-PASS-6e3" };
const DB = { pass: "db-PASS-2b8", app: "db-APP-0d5" };
const ALL = [...Object.values(PORTAL), ...Object.values(GONE), ...Object.values(API), ...Object.values(DB)];

let h: Harness;
let sandbox: Sandbox;
let portal: http.Server;
let portalUrl: string;
const authSeen: string[] = [];

beforeAll(async () => {
  h = await createHarness();
  sandbox = await h.start();
  // An endpoint behind Basic auth: it answers 200 only to the credentials of its configured URL.
  portal = http.createServer((req, res) => {
    authSeen.push(req.headers.authorization ?? "");
    const ok = req.headers.authorization === `Basic ${Buffer.from(`${PORTAL.user}:${PORTAL.pass}`).toString("base64")}`;
    res.writeHead(ok ? 200 : 401, { "content-type": "application/json" }).end(JSON.stringify({ status: ok ? "ok" : "denied" }));
  });
  portal.listen(0, "127.0.0.1");
  await once(portal, "listening");
  portalUrl = `127.0.0.1:${(portal.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => portal?.close(() => resolve()));
  await h?.close();
});

async function secretEnv(extra: Record<string, string> = {}) {
  const closed = await closedPort();
  const api = new URL(sandbox.url);
  api.username = API.user;
  api.password = API.pass;
  return sentinelEnv(h, sandbox, { probes: { health: { requestTimeoutMs: 2_000 } } }, {
    BEACON_API_URL: api.href,
    BEACON_HEALTH_URLS: `portal=http://${PORTAL.user}:${PORTAL.pass}@${portalUrl}/x?api_key=${PORTAL.key},` +
      `gone=http://${GONE.user}:${GONE.pass}@127.0.0.1:${closed}/?token=${GONE.token}`,
    BEACON_DATABASE_URL: `postgres://nobody:${DB.pass}@127.0.0.1:${closed}/beacondb?application_name=${DB.app}`,
    ...extra,
  });
}

const call = (route: Route, rt: Runtime, path: string) => httpFunction(route, () => rt)(new Request(`http://sentinel.test${path}`), { ip: "10.9.0.1" });
const leaks = (text: string) => ALL.filter((s) => text.includes(s) || text.includes(encodeURIComponent(s)));

describe("no URL secret leaves through a probe, the status routes, the log or the CLI", () => {
  it("the health probe sends a URL's credentials as Basic auth and reports failures without them", async () => {
    const log = capturingLogger();
    const rt = sentinelRuntime(await secretEnv(), { log });
    try {
      const result = await recordRun(rt, "health");
      const byName = Object.fromEntries(result.checks.map((c) => [c.name, c]));
      expect(byName["url:portal"]).toMatchObject({ status: "pass", observed: 200 }); // the credentials worked
      expect(byName["url:gone"]).toMatchObject({ status: "fail", observed: "refused" });
      expect(byName["runner-health"]!.status).toBe("pass"); // Basic auth towards the runner is harmless
      expect(byName.database!.status).toBe("fail");
      expect(authSeen.at(-1)).toMatch(/^Basic /);

      const outputs: string[] = [JSON.stringify(result), ...log.lines];
      for (const [route, path] of [[statusRoute, "/api/status"], [pageRoute, "/status"], [badgeRoute, "/api/status/badge"], [metricsRoute, "/api/metrics"]] as const) {
        const response = await call(route, rt, path);
        expect(response.status).toBe(200);
        outputs.push(await response.text());
      }
      expect(outputs.flatMap(leaks)).toEqual([]);
    } finally {
      await rt.close();
    }
  });

  it("sentinel run health and a configuration failure print none of them", async () => {
    const env = await secretEnv();
    const exec = promisify(execFile);
    const run = (args: string[], e: Record<string, string>) =>
      exec(process.execPath, ["netlify/bin/sentinel.mjs", ...args], { env: { ...process.env, ...e }, timeout: 60_000 })
        .then((r) => `${r.stdout}\n${r.stderr}`, (r: { stdout: string; stderr: string }) => `${r.stdout}\n${r.stderr}`);
    const ran = await run(["run", "health", "--json", "--dry-run"], env);
    expect(ran).toContain('"url:gone"');
    const broken = await run(["run", "health"], { ...env, BEACON_HEALTH_URLS: `${env.BEACON_HEALTH_URLS},bad=ftp://${GONE.user}:${GONE.pass}@h/?t=${GONE.token}` });
    expect(broken).toContain("BEACON_HEALTH_URLS");
    expect(leaks(ran)).toEqual([]);
    expect(leaks(broken)).toEqual([]);
  }, 60_000);
});

describe("SENTINEL_PUBLIC_STATUS=summary hides internal hosts and the database name", () => {
  it("is validated: true, false or summary", () => {
    expect(() => loadConfig({ BEACON_API_URL: "http://x", BEACON_REDIS_REST_URL: "http://r", BEACON_REDIS_REST_TOKEN: "t", SENTINEL_PUBLIC_STATUS: "sometimes" }))
      .toThrow(/SENTINEL_PUBLIC_STATUS: must be "true", "false" or "summary"/);
    const config = loadConfig({ BEACON_API_URL: "http://x", BEACON_REDIS_REST_URL: "http://r", BEACON_REDIS_REST_TOKEN: "t", SENTINEL_PUBLIC_STATUS: "summary" });
    expect(config).toMatchObject({ publicStatus: true, statusView: "summary" });
  });

  it("the full view names them; the summary keeps states, names and numbers and drops the text", async () => {
    const full = sentinelRuntime(await secretEnv());
    const summary = sentinelRuntime({ ...(await secretEnv()), SENTINEL_PUBLIC_STATUS: "summary" });
    try {
      await recordRun(full, "health");
      const host = new URL(sandbox.url).host;
      const internal = [host, portalUrl, "beacondb", "127.0.0.1"];

      const fullText = await (await call(statusRoute, full, "/api/status")).text();
      expect(internal.filter((s) => fullText.includes(s)).length).toBeGreaterThan(0); // what summary must hide is really there

      for (const [route, path] of [[statusRoute, "/api/status"], [pageRoute, "/status"], [badgeRoute, "/api/status/badge"], [metricsRoute, "/api/metrics"]] as const) {
        const response = await call(route, summary, path);
        expect(response.status).toBe(200);
        const text = await response.text();
        expect(internal.filter((s) => text.includes(s)), path).toEqual([]);
      }
      const fullDoc = StatusDocument.parse(JSON.parse(fullText));
      const doc = StatusDocument.parse(await (await call(statusRoute, summary, "/api/status")).json());
      const health = doc.probes.find((p) => p.id === "health")!;
      const fullHealth = fullDoc.probes.find((p) => p.id === "health")!;
      expect(health.latest!.checks.map((c) => [c.name, c.status])).toEqual(fullHealth.latest!.checks.map((c) => [c.name, c.status]));
      expect(health.latest!.checks.every((c) => c.evidence.length === 0)).toBe(true);
      expect(health.latest!.checks.find((c) => c.name === "url:portal")).toMatchObject({ observed: 200, message: "passing" });
      expect(doc.overall).toEqual(fullDoc.overall);
      expect(doc.stages.find((s) => s.id === "runner-api")!.message).toContain("url:gone failing");
    } finally {
      await full.close();
      await summary.close();
    }
  });
});
