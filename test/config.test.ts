import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../shared/config/index.ts";

const minimal = {
  BEACON_API_URL: "https://runner.example.org",
  BEACON_REDIS_REST_URL: "https://redis.example.org",
  BEACON_REDIS_REST_TOKEN: "beacon-redis-token",
};

function problemsOf(env: Record<string, string | undefined>, options = {}): string[] {
  try {
    loadConfig(env, options);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("loadConfig", () => {
  it("accepts the minimal configuration and fills Beacon's defaults", () => {
    const config = loadConfig(minimal);
    expect(config.store).toEqual({ url: minimal.BEACON_REDIS_REST_URL, token: minimal.BEACON_REDIS_REST_TOKEN, keyPrefix: "sentinel:" });
    expect(config.settings.beacon.tables).toEqual({ jobs: "jobs", outbox: "outbox", executions: "executions", crossRegionExecutions: "cross_region_executions", regionResults: "region_results" });
    expect(config.settings.beacon.queue.name).toBe("jobs");
    expect(config.settings.probes.health).toMatchObject({ timeoutMs: 20_000, latencyWarnMs: 1_000 });
  });

  it("lists every problem at once, each naming its variable", () => {
    const problems = problemsOf({
      BEACON_API_URL: "ftp://nope",
      BEACON_HEALTH_URLS: "portal=https://portal.example.org,broken",
      BEACON_DATABASE_URL: "mysql://x",
      BEACON_REDIS_REST_URL: "https://redis.example.org",
      SENTINEL_KEY_PREFIX: "has space",
      SENTINEL_ADMIN_TOKEN: "short",
      NEON_WS_PROXY: "localhost",
      SENTINEL_SETTINGS: JSON.stringify({ probes: { health: { latencyWarnMs: -5 } }, beacon: { tables: { jobs: "jobs; drop" } } }),
    });
    const variables = problems.map((p) => p.split(":")[0]);
    expect(variables).toEqual(expect.arrayContaining([
      "BEACON_API_URL", "BEACON_HEALTH_URLS", "BEACON_DATABASE_URL", "BEACON_REDIS_REST_TOKEN", "SENTINEL_KEY_PREFIX",
      "SENTINEL_ADMIN_TOKEN", "NEON_WS_PROXY", "SENTINEL_SETTINGS.probes.health.latencyWarnMs", "SENTINEL_SETTINGS.beacon.tables.jobs",
    ]));
    expect(problems.find((p) => p.startsWith("BEACON_HEALTH_URLS"))).toContain('"broken"');
  });

  it.each([
    ["no Beacon URL", { ...minimal, BEACON_API_URL: "" }, "BEACON_API_URL: required"],
    ["no store anywhere", { BEACON_API_URL: "https://r.example.org" }, "SENTINEL_REDIS_REST_URL: required"],
    ["token without URL", { ...minimal, SENTINEL_REDIS_REST_TOKEN: "t" }, "SENTINEL_REDIS_REST_URL: required when"],
    ["settings not JSON", { ...minimal, SENTINEL_SETTINGS: "{nope" }, "SENTINEL_SETTINGS: not valid JSON at line 1, column 2 (character 2): expected a double-quoted property name"],
    ["settings an array", { ...minimal, SENTINEL_SETTINGS: "[]" }, "SENTINEL_SETTINGS: must be a JSON object ({...}), not an array"],
    ["unknown settings key, without a stray dot", { ...minimal, SENTINEL_SETTINGS: '{"probs":{}}' }, 'SENTINEL_SETTINGS: Unrecognized key: "probs"'],
  ])("rejects %s", (_name, env, expected) => {
    expect(problemsOf(env).join("\n")).toContain(expected);
  });

  it.each([
    ["trailing-comma", '{"probes": {"health": {"latencyWarnMs": 900,}}}', "line 1, column 45 (character 45): expected a double-quoted property name"],
    ["single-quotes", "{'probes': {}}", "line 1, column 2 (character 2): expected a double-quoted property name"],
    ["bare-word-on-line-3", '{\n  "probes": {\n    "health": x\n  }\n}', "line 3, column 15 (character 31): expected a value"],
    ["cut-short", '{"probes": {', "line 1, column 13 (character 13): expected a double-quoted property name, but the text ends"],
    ["text-after-the-object", '{} {}', "line 1, column 4 (character 4): expected nothing after the JSON value"],
  ])("says where SENTINEL_SETTINGS breaks: %s", (_rule, raw, where) => {
    expect(problemsOf({ ...minimal, SENTINEL_SETTINGS: raw })).toEqual([`SENTINEL_SETTINGS: not valid JSON at ${where}`]);
  });

  it("never quotes the settings text in a JSON problem", () => {
    const problems = problemsOf({ ...minimal, SENTINEL_SETTINGS: '{"note": "hunter2-secret" oops}' });
    expect(problems.join("\n")).not.toContain("hunter2");
    expect(problems.join("\n")).toContain("column 27");
  });

  it("lets dry runs go without a store", () => {
    expect(loadConfig({ BEACON_API_URL: "https://r.example.org" }, { requireStore: false }).store).toBeUndefined();
  });

  it("prefers the sentinel's own Redis over Beacon's for the store", () => {
    const config = loadConfig({ ...minimal, SENTINEL_REDIS_REST_URL: "https://own.example.org", SENTINEL_REDIS_REST_TOKEN: "own-token", SENTINEL_KEY_PREFIX: "s2:" });
    expect(config.store).toEqual({ url: "https://own.example.org", token: "own-token", keyPrefix: "s2:" });
  });

  it("parses extra health URLs and overrides thresholds without code changes", () => {
    const config = loadConfig({
      ...minimal,
      BEACON_HEALTH_URLS: "portal=https://portal.example.org/api/v1/health, router=https://router.example.org/health",
      SENTINEL_SETTINGS: JSON.stringify({ probes: { health: { latencyWarnMs: 2500 } }, beacon: { queue: { name: "jobs-eu" } } }),
    });
    expect(config.healthUrls.map((h) => h.name)).toEqual(["portal", "router"]);
    expect(config.settings.probes.health).toMatchObject({ latencyWarnMs: 2500, timeoutMs: 20_000 });
    expect(config.settings.beacon.queue.name).toBe("jobs-eu");
  });

  it("collects secrets, including passwords inside connection strings, for redaction", () => {
    const config = loadConfig({ ...minimal, BEACON_DATABASE_URL: "postgres://u:s3cr%21t@db.example.org/beacon", BEACON_ADMIN_TOKEN: "admin-token-value" });
    expect(config.secrets).toEqual(expect.arrayContaining(["beacon-redis-token", "admin-token-value", "s3cr!t"]));
  });

  it("never echoes a secret in a problem", () => {
    const problems = problemsOf({ ...minimal, BEACON_DATABASE_URL: "mysql://user:hunter2-secret@db" });
    expect(problems.join("\n")).not.toContain("hunter2-secret");
  });
});

describe("SLO and alerting settings", () => {
  it("default objectives are complete, with periods and guards filled in", () => {
    const { slos, alerting } = loadConfig(minimal).settings;
    expect(slos.map((s) => [s.id, s.target, s.periodDays, s.minEvents])).toEqual([
      ["job-success", 0.99, 30, 100], ["api-availability", 0.999, 30, 100], ["processing-time", 0.99, 30, 100], ["error-rate", 0.999, 30, 100],
    ]);
    expect(alerting.defaults).toEqual({ failuresToTrigger: 3, window: 5, successesToResolve: 2, blindToTrigger: 3 });
  });

  it("objectives are configuration: targets, periods and sources", () => {
    const slos = [{ id: "error-rate", title: "5xx", target: 0.995, periodDays: 7, sources: ["traffic:requests"] }];
    const config = loadConfig({ ...minimal, SENTINEL_SETTINGS: JSON.stringify({ slos }) });
    expect(config.settings.slos).toEqual([{ ...slos[0], minEvents: 100 }]);
  });
});

describe("CANARY_SIGNING_KEY", () => {
  it("is optional: without it the canary is disabled", () => {
    expect(loadConfig(minimal).canarySigningKey).toBeUndefined();
  });

  it("accepts a base64 32-byte Ed25519 seed and treats it as a secret", () => {
    const seed = Buffer.alloc(32, 7).toString("base64");
    const config = loadConfig({ ...minimal, CANARY_SIGNING_KEY: seed });
    expect(config.canarySigningKey).toBe(seed);
    expect(config.secrets).toContain(seed);
  });

  it("rejects anything else, naming the variable and how to make a key, never echoing the value", () => {
    const problems = problemsOf({ ...minimal, CANARY_SIGNING_KEY: "not-a-key-hunter2" });
    expect(problems).toEqual(["CANARY_SIGNING_KEY: must be base64 of a 32-byte Ed25519 seed (generate one with: npx beacon-sentinel canary-key)"]);
    expect(problems.join("\n")).not.toContain("hunter2");
  });
});

describe("status API and remediation settings", () => {
  it("defaults to a public status without CORS, and to Beacon's admin pacing", () => {
    const config = loadConfig(minimal);
    expect(config).toMatchObject({ publicStatus: true, corsOrigins: [] });
    expect(config.statusToken).toBeUndefined();
    expect(config.settings.remediation).toMatchObject({ adminIntervalMs: 10_500, maxJobsPerRequest: 3, attemptsPerJob: 3 });
  });

  it("reads the portal origins, the private mode and its token (a secret)", () => {
    const config = loadConfig({
      ...minimal, SENTINEL_CORS_ORIGIN: "https://portal.example.org, http://localhost:5173/", SENTINEL_PUBLIC_STATUS: "false",
      SENTINEL_STATUS_TOKEN: "status-reader-token-0001",
    });
    expect(config).toMatchObject({ publicStatus: false, statusToken: "status-reader-token-0001", corsOrigins: ["https://portal.example.org", "http://localhost:5173"] });
    expect(config.secrets).toContain("status-reader-token-0001");
  });

  it("lists every status problem at once, each naming its variable", () => {
    const problems = problemsOf({
      ...minimal, SENTINEL_CORS_ORIGIN: "https://portal.example.org/app,*", SENTINEL_PUBLIC_STATUS: "no",
      SENTINEL_STATUS_TOKEN: "short", SENTINEL_SETTINGS: JSON.stringify({ remediation: { adminIntervalMs: 0 } }),
    });
    expect(problems.map((p) => p.split(":")[0])).toEqual(expect.arrayContaining([
      "SENTINEL_CORS_ORIGIN", "SENTINEL_PUBLIC_STATUS", "SENTINEL_STATUS_TOKEN", "SENTINEL_SETTINGS.remediation.adminIntervalMs",
    ]));
    expect(problems.join("\n")).toContain('"https://portal.example.org/app" is not an origin');
  });

  it("refuses a private status nobody could read", () => {
    expect(problemsOf({ ...minimal, SENTINEL_PUBLIC_STATUS: "false" }).join("\n")).toContain("SENTINEL_PUBLIC_STATUS: false needs SENTINEL_STATUS_TOKEN");
    expect(problemsOf({ ...minimal, SENTINEL_PUBLIC_STATUS: "false", SENTINEL_ADMIN_TOKEN: "admin-token-0123456789" })).toEqual([]);
  });

  it("reads the topology: one tick by default, per-probe when set; a bad value is listed with every other problem", () => {
    expect(loadConfig(minimal).topology).toBe("tick");
    expect(loadConfig({ ...minimal, SENTINEL_TOPOLOGY: "per-probe" }).topology).toBe("per-probe");
    expect(loadConfig({ ...minimal, SENTINEL_TOPOLOGY: " " }).topology).toBe("tick");
    const problems = problemsOf({ ...minimal, SENTINEL_TOPOLOGY: "per-stage", SENTINEL_KEY_PREFIX: "has space" });
    expect(problems).toEqual(expect.arrayContaining(['SENTINEL_TOPOLOGY: must be "tick" or "per-probe"']));
    expect(problems.map((p) => p.split(":")[0]).sort()).toEqual(["SENTINEL_KEY_PREFIX", "SENTINEL_TOPOLOGY"]);
  });
});
