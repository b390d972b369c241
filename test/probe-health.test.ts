import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import net from "node:net";
import { once } from "node:events";
import { promisify } from "node:util";
import { createHarness, type Harness } from "../test/sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { healthProbe } from "../shared/probes/health/index.ts";
import { runProbe } from "../shared/runner.ts";
import { tick } from "../netlify/tick.ts";
import { ProbeResult, type Check } from "../shared/result.ts";
import { recordRun, sentinelEnv, sentinelRuntime, storedLatest, storedState } from "./support/sentinel.ts";
import { closedPort, startHostileServer, type HostileServer } from "./support/hostile.ts";
import { testServices } from "./support/env.ts";
import { errorText } from "../shared/error-text.ts";

let h: Harness;
let sandbox: Sandbox;
let hostile: HostileServer;

beforeAll(async () => {
  h = await createHarness();
  sandbox = await h.start();
  hostile = await startHostileServer({
    "/hang": { kind: "hang" },
    "/garbage": { kind: "body", status: 200, body: Buffer.from([0xff, 0xfe, 0x00, 0x41]) },
    "/huge": { kind: "huge", status: 200, bytes: 10 * 1024 * 1024 },
    "/router": { kind: "body", status: 200, body: JSON.stringify({ status: "degraded", providers_total: 3, providers_healthy: 1 }) },
    "/html": { kind: "body", status: 500, body: "<html>Internal Server Error</html>", contentType: "text/html" },
  });
});
afterAll(async () => {
  await hostile?.close();
  await h?.close();
});

async function runHealth(settings: Record<string, unknown> = {}, extra: Record<string, string> = {}) {
  const rt = sentinelRuntime(sentinelEnv(h, sandbox, { probes: { health: { requestTimeoutMs: 1_500, ...settings } } }, extra));
  try {
    const result = await recordRun(rt, "health");
    return { result, byName: Object.fromEntries(result.checks.map((c) => [c.name, c])) as Record<string, Check> };
  } finally {
    await rt.close();
  }
}

describe("errorText: a readable reason from whatever was thrown", () => {
  const refused = Object.assign(new Error("connect ECONNREFUSED 10.0.0.5:5432"), { code: "ECONNREFUSED" });
  it.each([
    ["an Error with a coded cause", new TypeError("fetch failed", { cause: refused }), "fetch failed (ECONNREFUSED)"],
    ["a WebSocket ErrorEvent-like object wrapping the error", { type: "error", message: "", error: refused }, "connect ECONNREFUSED 10.0.0.5:5432"],
    ["an event with its own message", { type: "error", message: "Received network error or non-101 status code." }, "Received network error or non-101 status code."],
    ["an event that says nothing", { type: "error" }, "error event without a message"],
    ["an AggregateError", new AggregateError([refused], ""), "connect ECONNREFUSED 10.0.0.5:5432"],
    ["a string", "  boom  ", "boom"],
    ["an empty object", {}, "unknown error (nothing was said)"],
  ])("%s", (_name, thrown, expected) => {
    expect(errorText(thrown)).toBe(expected);
  });
});

/** A TCP server that accepts every connection and never says a word. */
async function silentServer() {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => void sockets.add(socket));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("health probe against the sandbox", () => {
  it("passes when the runner, its database and Redis are healthy, and emits an availability sample", async () => {
    const { result, byName } = await runHealth();
    expect(Object.keys(byName).sort()).toEqual(["database", "redis", "runner-db", "runner-health", "runner-ready"]);
    expect(byName["runner-db"]).toMatchObject({ status: "pass", observed: 200, message: expect.stringContaining("/api/v1/jobs?…: the runner reads its database") });
    expect(result.checks.every((c) => c.status === "pass" || c.status === "warn")).toBe(true);
    expect(result.events).toEqual({ availability: { good: 1, total: 1 } });
  });

  it("in a scheduled run sends its Redis PING one minute in 10, and in any run whose runner is not ready; a manual run always", async () => {
    const scheduled = async (iso: string, manual = false) => {
      const rt = sentinelRuntime(sentinelEnv(h, sandbox, { probes: { health: { requestTimeoutMs: 1_500 } } }), { now: () => new Date(iso) });
      const result = await runProbe(healthProbe, { deps: rt.deps, settings: rt.config.settings, targets: rt.targets, redact: rt.redact, manual }).finally(() => rt.close());
      return Object.fromEntries(result.checks.map((c) => [c.name, c])) as Record<string, Check>;
    };
    expect(Object.keys(await scheduled("2026-01-01T12:07:00Z")).sort()).toEqual(["database", "runner-db", "runner-health", "runner-ready"]);
    expect((await scheduled("2026-01-01T12:10:00Z")).redis).toMatchObject({ status: "pass", message: expect.stringContaining("PING") });
    expect((await scheduled("2026-01-01T12:07:00Z", true)).redis).toMatchObject({ status: "pass" });
    await sandbox.incidents.set("database-down", true);
    try {
      const notReady = await scheduled("2026-01-01T12:07:00Z");
      expect(notReady["runner-ready"]!.status).toBe("fail");
      expect(notReady.redis).toMatchObject({ status: "pass" }); // checked at once: Redis is one reason /ready fails
    } finally {
      await sandbox.incidents.set("database-down", false);
    }
  });

  it("under beacon.database.everyMinutes opens its connection on those minutes only, in manual runs, and at once when the runner is not ready", async () => {
    const scheduled = async (iso: string, options: { manual?: boolean; env?: Record<string, string> } = {}) => {
      const rt = sentinelRuntime(sentinelEnv(h, sandbox, { beacon: { database: { everyMinutes: 30 } }, probes: { health: { requestTimeoutMs: 1_500 } } }, options.env ?? {}), { now: () => new Date(iso) });
      const result = await runProbe(healthProbe, { deps: rt.deps, settings: rt.config.settings, targets: rt.targets, redact: rt.redact, manual: options.manual ?? false }).finally(() => rt.close());
      return Object.fromEntries(result.checks.map((c) => [c.name, c])) as Record<string, Check>;
    };
    expect(Object.keys(await scheduled("2026-01-01T12:07:00Z")).sort()).toEqual(["runner-db", "runner-health", "runner-ready"]);
    expect((await scheduled("2026-01-01T12:30:00Z")).database).toMatchObject({ status: "pass" });
    expect((await scheduled("2026-01-01T12:07:00Z", { manual: true })).database).toMatchObject({ status: "pass" });
    // A database only the sentinel cannot reach: unseen off its minutes (the cost in detection time), named on them.
    const port = await closedPort();
    const unreachable = { BEACON_DATABASE_URL: `postgres://nobody@127.0.0.1:${port}/none`, NEON_WS_PROXY: `127.0.0.1:${port}` };
    expect((await scheduled("2026-01-01T12:07:00Z", { env: unreachable })).database).toBeUndefined();
    expect((await scheduled("2026-01-01T13:00:00Z", { env: unreachable })).database).toMatchObject({ status: "fail", threshold: "reachable" });
    await sandbox.incidents.set("database-down", true);
    try {
      const notReady = await scheduled("2026-01-01T12:07:00Z");
      expect(notReady["runner-ready"]!.status).toBe("fail");
      expect(notReady.database).toMatchObject({ status: "pass" }); // checked at once: the database is one reason /ready fails
    } finally {
      await sandbox.incidents.set("database-down", false);
    }
    expect((await scheduled("2026-01-01T12:07:00Z")).database).toBeUndefined();
  });

  it("names the failing endpoint when /health turns unhealthy, and clears when it recovers", async () => {
    await sandbox.incidents.set("health-unhealthy", true);
    try {
      const { result, byName } = await runHealth();
      expect(result.status).toBe("fail");
      expect(byName["runner-health"]).toMatchObject({ status: "fail", observed: 503 });
      expect(byName["runner-health"]!.evidence[0]).toContain(`${sandbox.url}/health -> HTTP 503`);
      expect(result.events).toEqual({ availability: { good: 0, total: 1 } });
    } finally {
      await sandbox.incidents.set("health-unhealthy", false);
    }
    expect((await runHealth()).byName["runner-health"]!.status).toBe("pass");
  });

  it("sees /health/ready fail in database-less mode while /health still claims healthy", async () => {
    await sandbox.incidents.set("database-down", true);
    try {
      const { byName } = await runHealth();
      expect(byName["runner-ready"]).toMatchObject({ status: "fail", observed: 503 });
      expect(byName["runner-ready"]!.message).toContain("/health still claims healthy");
    } finally {
      await sandbox.incidents.set("database-down", false);
    }
    expect((await runHealth()).byName["runner-ready"]!.status).toBe("pass");
  });

  it("does not trust /ready alone: a runner started without its database answers ready, runner-db fails naming database-less mode, availability is bad; green again after", async () => {
    await sandbox.incidents.set("database-less", true);
    try {
      const { result, byName } = await runHealth();
      expect(byName["runner-ready"]).toMatchObject({ status: "pass", observed: 200 }); // what the real runner answers
      expect(byName["runner-ready"]!.message).toContain("yet runner-db fails: /ready pings no database");
      expect(byName["runner-db"]).toMatchObject({ status: "fail", observed: 503 });
      expect(byName["runner-db"]!.message).toMatch(/\/api\/v1\/jobs\?…: HTTP 503 persistence unavailable: the runner runs without its database \(database-less mode\)/);
      expect(byName["runner-db"]!.evidence[1]).toBe('body: {"error":"persistence unavailable"}');
      expect(byName["database"]!.status).toBe("pass"); // the database itself answers the sentinel: the runner is what lacks it
      expect(result.status).toBe("fail");
      expect(result.events).toEqual({ availability: { good: 0, total: 1 } });
    } finally {
      await sandbox.incidents.set("database-less", false);
    }
    const { result, byName } = await runHealth();
    expect([byName["runner-db"]!.status, byName["runner-ready"]!.message]).toEqual(["pass", `${sandbox.url}/health/ready: ready`]);
    expect(result.events).toEqual({ availability: { good: 1, total: 1 } });
  });

  it("a database lost while running: /ready fails and runner-db names the failed read", async () => {
    await sandbox.incidents.set("database-down", true);
    try {
      const { byName } = await runHealth();
      expect(byName["runner-db"]).toMatchObject({ status: "fail", observed: 503 });
      expect(byName["runner-ready"]!.message).not.toContain("yet runner-db fails");
    } finally {
      await sandbox.incidents.set("database-down", false);
    }
  });
});

describe("health probe against hostile endpoints", () => {
  it.each([
    ["a hanging endpoint times out", "hang", "timeout"],
    ["binary garbage claiming to be JSON fails", "garbage", 200],
    ["a 10 MB body is cut off and fails", "huge", 10 * 1024 * 1024],
    ["an HTML 500 fails with the body as evidence", "html", 500],
  ])("%s", async (_name, path, observed) => {
    const settings = path === "huge" ? { maxBodyBytes: 64 * 1024 } : {};
    const { byName } = await runHealth(settings, { BEACON_HEALTH_URLS: `x=${hostile.url}/${path}` });
    const c = byName["url:x"]!;
    expect(c.status).toBe("fail");
    if (path === "huge") expect(c.observed).toBe(64 * 1024);
    else expect(c.observed).toBe(observed);
    expect(c.evidence.join(" ")).toContain(`${hostile.url}/${path}`);
  });

  it("reports a degraded router as warn, with its own words", async () => {
    const { byName } = await runHealth({}, { BEACON_HEALTH_URLS: `router=${hostile.url}/router` });
    expect(byName["url:router"]).toMatchObject({ status: "warn", message: expect.stringContaining("degraded") });
  });

  it("turns a refused connection, an unreachable database and an unreachable Redis into failed checks", async () => {
    const port = await closedPort();
    const info = testServices();
    const { result, byName } = await runHealth({}, {
      BEACON_HEALTH_URLS: `gone=http://127.0.0.1:${port}/health`,
      BEACON_DATABASE_URL: `postgres://nobody@127.0.0.1:${port}/none`,
      BEACON_REDIS_REST_URL: `http://127.0.0.1:${port}`,
      SENTINEL_REDIS_REST_URL: info.redis.restUrl,
      SENTINEL_REDIS_REST_TOKEN: info.redis.restToken,
    });
    expect(byName["url:gone"]).toMatchObject({ status: "fail", observed: "refused" });
    expect(byName.database).toMatchObject({ status: "fail" });
    expect(byName.redis).toMatchObject({ status: "fail" });
    expect(result.status).toBe("fail");
  });

  it("fails the database check, not the whole probe, when the database accepts connections and never answers", async () => {
    const silent = net.createServer(() => {}); // accepts, then says nothing
    silent.listen(0, "127.0.0.1");
    await once(silent, "listening");
    const { port } = silent.address() as { port: number };
    try {
      const rt = sentinelRuntime(sentinelEnv(h, sandbox, { beacon: { database: { connectTimeoutMs: 1_500 } }, probes: { health: { timeoutMs: 15_000 } } },
        { BEACON_DATABASE_URL: `postgres://nobody@127.0.0.1:${port}/db` }));
      const result = await runProbe(healthProbe, { deps: rt.deps, settings: rt.config.settings, targets: rt.targets, redact: rt.redact }).finally(() => rt.close());
      const byName = Object.fromEntries(result.checks.map((c) => [c.name, c])) as Record<string, Check>;
      expect(result.error).toBeUndefined();
      expect(byName.database).toMatchObject({ status: "fail", threshold: "reachable" });
      expect(byName["runner-health"]!.status).toBe("pass");
    } finally {
      silent.close();
    }
  });

  it("gives the real reason for an unreachable database, never [object Object]", async () => {
    const port = await closedPort();
    // Through the WebSocket proxy the Neon driver rejects with an event object, not an Error.
    const { byName } = await runHealth({}, { BEACON_DATABASE_URL: `postgres://nobody@127.0.0.1:${port}/none`, NEON_WS_PROXY: `127.0.0.1:${port}` });
    expect(byName.database).toMatchObject({ status: "fail", threshold: "reachable" });
    expect(byName.database!.message).not.toContain("[object");
    expect(byName.database!.message).toContain("ECONNREFUSED");
  });

  it("a Beacon Redis that accepts and never answers costs only the redis check, within its own budget", async () => {
    const silent = await silentServer();
    const info = testServices();
    try {
      const started = performance.now();
      const { result, byName } = await runHealth({ timeoutMs: 8_000, redisTimeoutMs: 1_000 }, {
        BEACON_REDIS_REST_URL: silent.url, BEACON_REDIS_REST_TOKEN: "t".repeat(20),
        SENTINEL_REDIS_REST_URL: info.redis.restUrl, SENTINEL_REDIS_REST_TOKEN: info.redis.restToken,
      });
      expect(result.error).toBeUndefined();
      expect(byName.redis).toMatchObject({ status: "fail", observed: "timeout", message: expect.stringContaining("no answer within 1000 ms") });
      expect(byName["runner-health"]!.status).toBe("pass");
      expect(byName["runner-ready"]!.status).toBe("pass");
      expect(byName.database!.status).not.toBe("fail");
      expect(performance.now() - started).toBeLessThan(6_000);
    } finally {
      await silent.close();
    }
  });

  it("keeps the secrets of failing connections out of the result", async () => {
    const port = await closedPort();
    const { result } = await runHealth({}, { BEACON_DATABASE_URL: `postgres://u:pa55-w0rd-secret@127.0.0.1:${port}/db` });
    expect(JSON.stringify(result)).not.toContain("pa55-w0rd-secret");
  });
});

describe("the runner and the store", () => {
  it("records the result in the tick's memory and the status document, readable back", async () => {
    const rt = sentinelRuntime(sentinelEnv(h, sandbox, {}, { SENTINEL_KEY_PREFIX: `${h.prefix}own:` }));
    try {
      const result = await recordRun(rt, "health");
      expect(await storedLatest(rt, "health")).toEqual(result);
      const memory = (await storedState(rt)).probes.health!;
      expect(memory.latest).toEqual(result);
      expect(memory.history[0]).toMatchObject({ t: result.startedAt, s: result.status });
      expect(memory.timeline.at(-1)).toMatchObject({ r: 1, s: result.status });
    } finally {
      await rt.close();
    }
  });

  it("with the store unreachable, still measures and writes the whole result to the log, never silently", async () => {
    const port = await closedPort();
    const lines: { message: string; fields: Record<string, unknown> }[] = [];
    const log = { info() {}, warn() {}, error: (message: string, fields: Record<string, unknown> = {}) => void lines.push({ message, fields }) };
    const rt = sentinelRuntime(sentinelEnv(h, sandbox, {}, { SENTINEL_REDIS_REST_URL: `http://127.0.0.1:${port}`, SENTINEL_REDIS_REST_TOKEN: "x-token-value" }), { log });
    try {
      const report = await tick(rt, { write: true, probes: ["health"] });
      expect(report).toMatchObject({ lost: 1, skipped: expect.stringContaining("store unreachable") });
      expect(report.results[0]).toMatchObject({ probe: "health", status: "pass" });
      const logged = lines.find((l) => l.message === "result not stored");
      expect(ProbeResult.parse(logged?.fields.result)).toEqual(report.results[0]);
    } finally {
      await rt.close();
    }
  });

  it("turns a probe that overruns its budget or throws into an error result", async () => {
    const rt = sentinelRuntime(sentinelEnv(h, sandbox, { probes: { health: { timeoutMs: 50 } } }));
    try {
      const slow = { ...healthProbe, run: () => new Promise<never>(() => {}) };
      const crash = { ...healthProbe, run: async () => { throw new Error("boom"); } };
      const opts = { deps: rt.deps, settings: rt.config.settings, targets: rt.targets, redact: rt.redact };
      expect(await runProbe(slow, opts)).toMatchObject({ status: "error", error: "probe did not finish within 50 ms" });
      expect(await runProbe(crash, opts)).toMatchObject({ status: "error", error: "probe crashed: boom" });
    } finally {
      await rt.close();
    }
  });
});

describe("npx beacon-sentinel run health (the command line)", () => {
  const exec = promisify(execFile);
  const sentinel = async (args: string[], env: Record<string, string>) => {
    try {
      const { stdout } = await exec(process.execPath, ["netlify/bin/sentinel.mjs", ...args], { env: { ...process.env, ...env }, timeout: 60_000 });
      return { code: 0, stdout };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  it("exits 1 naming the failing endpoint while /health is unhealthy, 0 once it clears", async () => {
    const env = sentinelEnv(h, sandbox);
    await sandbox.incidents.set("health-unhealthy", true);
    try {
      const failing = await sentinel(["run", "health", "--json"], env);
      expect(failing.code).toBe(1);
      const doc = ProbeResult.parse(JSON.parse(failing.stdout));
      expect(doc.checks.find((c) => c.name === "runner-health")?.evidence[0]).toContain(`${sandbox.url}/health`);
    } finally {
      await sandbox.incidents.set("health-unhealthy", false);
    }
    const ok = await sentinel(["run", "health"], env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/health\s+ok/);
  });

  it("exits, with the redis check failed, while Beacon's Redis accepts connections and never answers", async () => {
    const silent = await silentServer();
    const info = testServices();
    try {
      const env = sentinelEnv(h, sandbox, { probes: { health: { timeoutMs: 5_000, redisTimeoutMs: 1_000 } } }, {
        BEACON_REDIS_REST_URL: silent.url, BEACON_REDIS_REST_TOKEN: "t".repeat(20),
        SENTINEL_REDIS_REST_URL: info.redis.restUrl, SENTINEL_REDIS_REST_TOKEN: info.redis.restToken,
      });
      const started = performance.now();
      const r = await sentinel(["run", "health", "--json"], env);
      expect(r.code).toBe(1);
      expect(performance.now() - started).toBeLessThan(20_000);
      const doc = ProbeResult.parse(JSON.parse(r.stdout));
      expect(doc.checks.find((c) => c.name === "redis")).toMatchObject({ status: "fail", observed: "timeout" });
      expect(doc.checks.find((c) => c.name === "runner-health")?.status).toBe("pass");
    } finally {
      await silent.close();
    }
  }, 40_000);

  it("exits 64 listing every configuration problem", async () => {
    const bad = await sentinel(["run", "health"], { BEACON_API_URL: "nope", SENTINEL_KEY_PREFIX: "bad prefix", BEACON_REDIS_REST_URL: "", SENTINEL_REDIS_REST_URL: "" });
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain("BEACON_API_URL");
    expect(bad.stderr).toContain("SENTINEL_KEY_PREFIX");
    expect(bad.stderr).toContain("SENTINEL_REDIS_REST_URL");
  });

  it("exits 64 for an unknown probe, listing the known ones", async () => {
    const r = await sentinel(["run", "nope"], sentinelEnv(h, sandbox));
    expect(r.code).toBe(64);
    expect(r.stderr).toContain("known: health");
  });
});
