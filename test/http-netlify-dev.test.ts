import { afterAll, beforeAll, describe, expect, it } from "vitest";
import path from "node:path";
import { cp, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { listFunctions } from "@netlify/zip-it-and-ship-it";
import { startLocalNetlify, type LocalNetlify } from "../netlify/local/netlify-dev.ts";
import { StatusDocument } from "../shared/status/schema.ts";
import { ProbeResult } from "../shared/result.ts";
import { createHarness, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { sentinelEnv } from "./support/sentinel.ts";

/**
 * The HTTP functions as Netlify serves them: each `config.path` declared right (Netlify's bundler reads
 * it statically), and each route answering through @netlify/dev's own request handling.
 */
const root = path.resolve(import.meta.dirname, "..");
const ADMIN = "netlify-dev-admin-token-000001";

const ROUTES: Record<string, string> = {
  "api-status": "/api/status",
  "api-status-badge": "/api/status/badge",
  "api-metrics": "/api/metrics",
  "status-page": "/status",
  "api-history": "/api/history",
  "api-probe-run": "/api/probes/:id/run",
  "api-remediate-republish": "/api/remediate/republish",
};

it("every HTTP function declares its path, as Netlify's bundler reads it", async () => {
  const functions = await listFunctions([path.join(root, "functions")], { parseISC: true });
  const paths = Object.fromEntries(functions.filter((f) => f.routes?.length).map((f) => [f.name, f.routes!.map((r) => r.pattern)]));
  for (const [name, pattern] of Object.entries(ROUTES)) expect(paths[name], `functions/${name}.ts`).toEqual([pattern]);
  for (const name of Object.keys(ROUTES)) expect(functions.find((f) => f.name === name)?.schedule, name).toBeUndefined();
});

/**
 * @netlify/dev builds every function of the project on start (esbuild) and runs each request in a
 * fresh worker (seconds each on a small machine), so this suite makes one request per route, concurrently. It runs from a
 * private copy of the project's sources with only the HTTP functions, so its build directory (.netlify/functions-serve) is not
 * shared with another suite's @netlify/dev.
 */
describe("the routes under @netlify/dev", () => {
  let h: Harness;
  let sandbox: Sandbox;
  let netlify: LocalNetlify;
  let env: Record<string, string>;
  let projectRoot: string;

  beforeAll(async () => {
    h = await createHarness();
    sandbox = await h.start();
    env = sentinelEnv(h, sandbox, {}, { SENTINEL_ADMIN_TOKEN: ADMIN });
    Object.assign(process.env, env);
    projectRoot = await mkdtemp(path.join(tmpdir(), "sentinel-netlify-dev-"));
    // Sources are copied (zip-it-and-ship-it mirrors symlinked sources into its build tree and trips on
    // them); node_modules is linked.
    for (const entry of ["netlify", "shared", "package.json", "netlify.toml", "tsconfig.json"]) {
      await cp(path.join(root, entry), path.join(projectRoot, entry), { recursive: true });
    }
    // Only the HTTP functions: the scheduled ones are another suite's, and each costs a build.
    for (const name of Object.keys(ROUTES)) await cp(path.join(root, "functions", `${name}.ts`), path.join(projectRoot, "functions", `${name}.ts`));
    // And one probe function, unscheduled (the per-probe topology's block is commented out): reachable over HTTP.
    await cp(path.join(root, "functions", "probe-health.ts"), path.join(projectRoot, "functions", "probe-health.ts"));
    await symlink(path.join(root, "node_modules"), path.join(projectRoot, "node_modules"));
    netlify = await startLocalNetlify({ projectRoot, port: 0 });
  }, 60_000);
  afterAll(async () => {
    await netlify?.close();
    for (const key of Object.keys(env ?? {})) delete process.env[key];
    await h?.close();
    if (projectRoot) await rm(projectRoot, { recursive: true, force: true });
  });

  const request = (p: string, init: RequestInit = {}) => fetch(`${netlify.url}${p}`, init);
  const admin = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };

  it("routes every path to its function, which answers in its format", async () => {
    const [status, badge, metrics, page, run, remediation] = await Promise.all([
      request("/api/status"), request("/api/status/badge"), request("/api/metrics"), request("/status"),
      request("/api/probes/nope/run", { method: "POST", headers: admin }),
      request("/api/remediate/republish", { method: "POST", headers: admin, body: "{}" }),
    ]);
    expect(StatusDocument.parse(await status.json()).version).toBe(1);
    expect(await badge.json()).toMatchObject({ schemaVersion: 1 });
    expect(await metrics.text()).toContain("# TYPE sentinel_probe_state gauge");
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await page.text()).toContain("Beacon pipeline status");
    // The :id segment reaches the function: an unknown probe is named back, with the known ones.
    expect(run.status).toBe(404);
    expect((await run.json()).message).toMatch(/no probe "nope"; known probes: health/);
    expect(remediation.status).toBe(200);
    expect(await remediation.json()).toMatchObject({ dryRun: true, plan: { blocked: null } });
  }, 120_000);

  it("runs a probe through POST /api/probes/:id/run with the admin token, and refuses a wrong one", async () => {
    const [ran, wrong] = await Promise.all([
      request("/api/probes/health/run?dry_run=true", { method: "POST", headers: admin }),
      request("/api/probes/health/run", { method: "POST", headers: { authorization: "Bearer wrong-token-0000000000000" } }),
    ]);
    expect(ran.status).toBe(200);
    expect(ProbeResult.parse((await ran.json()).result).probe).toBe("health");
    expect(wrong.status).toBe(403);
  }, 60_000);

  it("a probe function is reachable at its default URL, and with the default topology answers 404 at once, whoever asks", async () => {
    const [plain, forged] = await Promise.all([
      request("/.netlify/functions/probe-health", { method: "POST" }),
      request("/.netlify/functions/probe-health", { method: "POST", headers: { ...admin, "x-nf-event": "schedule" } }),
    ]);
    for (const response of [plain, forged]) {
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: "topology_off" });
    }
    expect(netlify.scheduled).toEqual([]);
  }, 60_000);
});
