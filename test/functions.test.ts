import { afterAll, beforeAll, describe, expect, it } from "vitest";
import path from "node:path";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { listFunctions, zipFunctions } from "@netlify/zip-it-and-ship-it";
import { CATALOG, PROBES, findDefinition } from "../shared/probes/catalog.ts";
import { measureBundles, probeImplementation } from "./bench/bundles.ts";
import { intervalOf } from "../shared/schedule.ts";
import { ProbeResult } from "../shared/result.ts";
import { startLocalNetlify, type LocalNetlify } from "../netlify/local/netlify-dev.ts";
import { createHarness, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { sentinelEnv, sentinelRuntime, storedLatest } from "./support/sentinel.ts";
import { TICK_SCHEDULE } from "../netlify/tick.ts";
import { perProbeSchedulesFrom } from "../netlify/cli/cost.ts";

const root = path.resolve(import.meta.dirname, "..");
const functionsDir = path.join(root, "functions");

describe("deployable functions, as Netlify's own tooling sees them", () => {
  // With the default topology the probe functions are deployed but fired by nothing: zero invocations more.
  it("the tick is the one scheduled function, every minute, and only the tick file names it", async () => {
    const functions = await listFunctions([functionsDir], { parseISC: true });
    const scheduled = Object.fromEntries(functions.filter((f) => f.schedule).map((f) => [f.name, f.schedule]));
    expect(scheduled).toEqual({ tick: TICK_SCHEDULE });
  });

  it("the bundler's manifest carries the tick's schedule (what a deploy registers)", async () => {
    const out = await mkdtemp(path.join(tmpdir(), "sentinel-zip-"));
    try {
      await zipFunctions([functionsDir], out, { manifest: path.join(out, "manifest.json"), archiveFormat: "none", basePath: root, repositoryRoot: root });
      const manifest = JSON.parse(await readFile(path.join(out, "manifest.json"), "utf8")) as { functions: { name: string; schedule?: string }[] };
      const schedules = Object.fromEntries(manifest.functions.filter((f) => f.schedule).map((f) => [f.name, f.schedule]));
      expect(schedules).toEqual({ tick: TICK_SCHEDULE });
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 120_000);

  it("with netlify.toml's per-probe block uncommented, the bundler's manifest schedules each probe's own function at its probe's cadence", async () => {
    const crons = await perProbeSchedulesFrom(path.join(root, "netlify.toml"));
    expect(crons).toEqual(Object.fromEntries(PROBES.map((p) => [p.id, p.schedule])));
    const config = Object.fromEntries(Object.entries(crons).map(([id, schedule]) => [`probe-${id}`, { schedule }]));
    const listed = await listFunctions([functionsDir], { parseISC: true, config });
    expect(listed.filter((f) => f.name.startsWith("probe-")).map((f) => f.name).sort()).toEqual(PROBES.map((p) => `probe-${p.id}`).sort());
    const out = await mkdtemp(path.join(tmpdir(), "sentinel-zip-"));
    try {
      await zipFunctions([functionsDir], out, { manifest: path.join(out, "manifest.json"), archiveFormat: "none", basePath: root, repositoryRoot: root, config });
      const manifest = JSON.parse(await readFile(path.join(out, "manifest.json"), "utf8")) as { functions: { name: string; schedule?: string }[] };
      const schedules = Object.fromEntries(manifest.functions.filter((f) => f.schedule).map((f) => [f.name, f.schedule]));
      expect(schedules).toEqual({ tick: TICK_SCHEDULE, ...Object.fromEntries(PROBES.map((p) => [`probe-${p.id}`, p.schedule])) });
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 120_000);

  it("every function is bundled by Netlify's tooling; the tick carries every probe, and what the status functions carry for the one catalog is measured", async () => {
    const bundles = await measureBundles(root);
    const carrying = Object.fromEntries(bundles.map((b) => [b.name, b.ownFiles.filter(probeImplementation).length]));
    // One catalog lists each probe once, with its code: the status functions bundle it without running it
    // (the README's "Adding a probe" states the trade). The tick must carry every probe's implementation.
    for (const p of PROBES) expect(bundles.find((b) => b.name === "tick")!.ownFiles, p.id).toContain(`shared/probes/${p.id}/index.ts`);
    // Each probe's own function carries its probe (and, through the one catalog, the others: it measures what it names only).
    for (const p of PROBES) expect(bundles.find((b) => b.name === `probe-${p.id}`)?.ownFiles, `probe-${p.id}`).toContain(`shared/probes/${p.id}/index.ts`);
    const status = bundles.find((b) => b.name === "api-status")!;
    const tick = bundles.find((b) => b.name === "tick")!;
    console.info(`own code bundled: api-status ${status.ownBytes} B (${carrying["api-status"]} probe files), tick ${tick.ownBytes} B`);
    expect(status.ownBytes).toBeLessThanOrEqual(tick.ownBytes);
  }, 120_000);

  it("the catalog lists each probe once, each with the definition it spreads", () => {
    expect(new Set(PROBES.map((p) => p.id)).size).toBe(PROBES.length);
    expect(PROBES.map((p) => p.id)).toEqual(CATALOG.map((p) => p.id));
    for (const p of PROBES) expect(findDefinition(p.id)).toMatchObject({ title: p.title, stage: p.stage, schedule: p.schedule });
  });

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

describe("the scheduled tick under @netlify/dev", () => {
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

  it("runs when invoked the way the scheduler does, and stores its results", async () => {
    const response = await netlify.invoke("tick");
    expect(response.status).toBe(200);
    const report = (await response.json()) as { results: unknown[] };
    const results = report.results.map((r) => ProbeResult.parse(r));
    // A first tick finds every probe due.
    expect(results.map((r) => r.probe).sort()).toEqual(PROBES.map((p) => p.id).sort());
    const rt = sentinelRuntime(env);
    try {
      const health = results.find((r) => r.probe === "health")!;
      expect((await storedLatest(rt, "health"))?.startedAt).toBe(health.startedAt);
    } finally {
      await rt.close();
    }
  }, 60_000);

  it("lists the scheduled functions it will fire locally", () => {
    expect(netlify.scheduled).toEqual([{ name: "tick", schedule: TICK_SCHEDULE }]);
  });
});
