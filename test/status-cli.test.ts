import { recordRun } from "./support/sentinel.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { healthProbe } from "../shared/probes/health/index.ts";
import { PROBES } from "../shared/probes/catalog.ts";
import { runProbe } from "../shared/runner.ts";
import { StatusDocument } from "../shared/status/schema.ts";
import type { Runtime } from "../netlify/runtime.ts";
import { createHarness, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { sentinelEnv, sentinelRuntime } from "./support/sentinel.ts";

const exec = promisify(execFile);

let h: Harness;
let sandbox: Sandbox;
let env: Record<string, string>;
let rt: Runtime;

beforeAll(async () => {
  h = await createHarness();
  sandbox = await h.start();
  env = sentinelEnv(h, sandbox);
  rt = sentinelRuntime(env);
});
afterAll(async () => {
  await rt?.close();
  await h?.close();
});

async function sentinel(args: string[], extra: Record<string, string> = {}) {
  try {
    const { stdout } = await exec(process.execPath, ["netlify/bin/sentinel.mjs", ...args], { env: { ...process.env, ...env, ...extra }, timeout: 60_000 });
    return { code: 0, stdout, stderr: "" };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const runHealth = () => recordRun(rt, "health");

describe("npx beacon-sentinel status", () => {
  it("exits 2 before any probe has reported: nothing to go on", async () => {
    const out = await sentinel(["status"]);
    expect(out.code).toBe(2);
    expect(out.stdout).toMatch(/^Beacon pipeline: UNKNOWN {2}no probe results yet/);
  }, 30_000);

  it("prints the document with --json, and exits 0 while every stage passes", async () => {
    for (const probe of PROBES) await recordRun(rt, probe.id);
    const out = await sentinel(["status", "--json"]);
    expect(out.code, out.stderr).toBe(0);
    const doc = StatusDocument.parse(JSON.parse(out.stdout));
    expect(doc.overall).toMatchObject({ state: "pass" });
    expect(doc.stages.find((s) => s.id === "runner-api")?.state).toBe("pass");
  }, 30_000);

  it("exits 1 naming the failing stage and check while /health is unhealthy", async () => {
    sandbox.incidents.set("health-unhealthy", true);
    try {
      await runHealth();
    } finally {
      sandbox.incidents.set("health-unhealthy", false);
    }
    const out = await sentinel(["status"]);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/FAIL runner-api {2}Service health: runner-health failing/);
    expect(out.stdout).toMatch(/FAIL runner-health: .*HTTP 503/);
  }, 30_000);

  it("exits 64 without a store to read", async () => {
    const out = await sentinel(["status"], { BEACON_REDIS_REST_URL: "", BEACON_REDIS_REST_TOKEN: "" });
    expect(out.code).toBe(64);
    expect(out.stderr).toContain("SENTINEL_REDIS_REST_URL");
  }, 30_000);
});
