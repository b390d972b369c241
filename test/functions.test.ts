import { afterAll, beforeAll, describe, expect, it } from "vitest";
import path from "node:path";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { listFunctions, zipFunctions } from "@netlify/zip-it-and-ship-it";
import { PROBES } from "../shared/probes/registry.ts";
import { intervalOf } from "../shared/fanin/policy.ts";
import { ProbeResult } from "../shared/result.ts";
import { startLocalNetlify, type LocalNetlify } from "../netlify/local/netlify-dev.ts";
import { createHarness, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { sentinelEnv, sentinelRuntime } from "./support/sentinel.ts";

const root = path.resolve(import.meta.dirname, "..");
const functionsDir = path.join(root, "functions");

describe("deployable functions, as Netlify's own tooling sees them", () => {
  it("every registered probe has a scheduled function with the schedule it declares", async () => {
    const functions = await listFunctions([functionsDir], { parseISC: true });
    const scheduled = Object.fromEntries(functions.filter((f) => f.schedule).map((f) => [f.name, f.schedule]));
    for (const probe of PROBES) expect(scheduled[`probe-${probe.id}`], `functions/probe-${probe.id}.ts`).toBe(probe.schedule);
    expect(scheduled["fan-in"]).toBe("* * * * *");
    const strays = Object.keys(scheduled).filter((name) => name !== "fan-in" && !PROBES.some((p) => `probe-${p.id}` === name));
    expect(strays).toEqual([]);
  });

  it("the bundler's manifest carries every schedule (what a deploy registers)", async () => {
    const out = await mkdtemp(path.join(tmpdir(), "sentinel-zip-"));
    try {
      await zipFunctions([functionsDir], out, { manifest: path.join(out, "manifest.json"), archiveFormat: "none", basePath: root, repositoryRoot: root, config: { "*": { nodeBundler: "esbuild" } } });
      const manifest = JSON.parse(await readFile(path.join(out, "manifest.json"), "utf8")) as { functions: { name: string; schedule?: string }[] };
      const schedules = Object.fromEntries(manifest.functions.map((f) => [f.name, f.schedule]));
      for (const probe of PROBES) expect(schedules[`probe-${probe.id}`]).toBe(probe.schedule);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 120_000);

  it.each([
    ["* * * * *", 60_000],
    ["*/2 * * * *", 120_000],
    ["*/5 * * * *", 300_000],
    ["0 * * * *", 3_600_000],
    ["0 9 * * 1-5", 72 * 3_600_000], // weekdays only: the longest gap, Friday to Monday, is what staleness needs
  ])("the interval the fan-in expects between runs of %s is %i ms", (schedule, ms) => {
    expect(intervalOf(schedule)).toBe(ms);
  });
});

describe("a scheduled probe function under @netlify/dev", () => {
  let h: Harness;
  let sandbox: Sandbox;
  let netlify: LocalNetlify;
  let env: Record<string, string>;

  beforeAll(async () => {
    h = await createHarness();
    sandbox = await h.start();
    env = sentinelEnv(h, sandbox);
    Object.assign(process.env, env);
    netlify = await startLocalNetlify({ projectRoot: root, port: 0 });
  }, 60_000);
  afterAll(async () => {
    await netlify?.close();
    for (const key of Object.keys(env ?? {})) delete process.env[key];
    await h?.close();
  });

  it("runs when invoked the way the scheduler does, and stores its result", async () => {
    const response = await netlify.invoke("probe-health");
    expect(response.status).toBe(200);
    const result = ProbeResult.parse(await response.json());
    expect(result.probe).toBe("health");
    const rt = sentinelRuntime(env);
    try {
      expect((await rt.store!.latest(["health"])).health?.startedAt).toBe(result.startedAt);
    } finally {
      await rt.close();
    }
  }, 60_000);

  it("lists the scheduled functions it will fire locally", () => {
    expect(netlify.scheduled.map((f) => f.name).sort()).toEqual(["fan-in", ...PROBES.map((p) => `probe-${p.id}`)].sort());
  });
});
