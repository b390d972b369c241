import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Objectives } from "../shared/slo/objectives.ts";
import { loadConfig } from "../shared/config/index.ts";
import { renderStatusPage } from "../shared/status/page.ts";
import { summaryView } from "../shared/status/public.ts";
import type { Runtime } from "../netlify/runtime.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { call, createHarness, waitFor, type Harness } from "./sandbox/testing.ts";
import { sentinelEnv, sentinelRuntime, storedState, tickRecorder } from "./support/sentinel.ts";

/**
 * Per-region SLOs, through the tick: the `regions` probe's events (`regions:executions-<region>`) feed
 * one objective per region, with the same burn-rate alerting; the alert names the region. The status
 * document carries the region × model grid and the page draws it.
 */
describe("per-region objectives in the SLO configuration", () => {
  it.each([
    ["expands one objective per region, replacing {region} in its sources", [{ id: "region-success", title: "Executions succeed", target: 0.9, sources: ["regions:executions-{region}"], regions: ["us-east", "eu-west"] }],
      [{ id: "region-success-us-east", title: "Executions succeed in us-east", region: "us-east", sources: ["regions:executions-us-east"] },
        { id: "region-success-eu-west", title: "Executions succeed in eu-west", region: "eu-west", sources: ["regions:executions-eu-west"] }]],
    ["leaves an objective without regions as it is", [{ id: "job-success", title: "Jobs", target: 0.99, sources: ["outbox:jobs"] }],
      [{ id: "job-success", title: "Jobs", sources: ["outbox:jobs"] }]],
  ])("%s", (_name, input, expected) => {
    const parsed = Objectives.parse(input);
    expect(parsed).toHaveLength(expected.length);
    expected.forEach((e, i) => expect(parsed[i]).toMatchObject(e));
    expect(parsed.every((o) => !("regions" in o))).toBe(true);
  });

  it("reports every problem of a per-region objective, each naming what to fix", () => {
    const env = { SENTINEL_REDIS_REST_URL: "http://127.0.0.1:1", SENTINEL_REDIS_REST_TOKEN: "t" };
    const settings = { slos: [
      { id: "a", title: "A", target: 0.9, sources: ["regions:executions-us-east"], regions: ["us-east"] },
      { id: "b", title: "B", target: 0.9, sources: ["regions:executions-{region}"] },
      { id: "c", title: "C", target: 0.9, sources: ["regions:executions-{region}"], regions: ["EU West"] },
    ] };
    let message = "";
    try {
      loadConfig({ ...env, SENTINEL_SETTINGS: JSON.stringify(settings) });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('SENTINEL_SETTINGS.slos.0.sources: "a" has regions, so a source must hold {region}');
    expect(message).toContain('SENTINEL_SETTINGS.slos.1.regions: "b" has a {region} source, so it needs regions');
    expect(message).toContain("SENTINEL_SETTINGS.slos.2.regions.0: must be a region name such as eu-west");
  });
});

describe("a per-region SLO burns and resolves naming its region (tick, sandbox, store)", () => {
  let h: Harness;
  let sandbox: Sandbox;
  let rt: Runtime;
  let offsetMs = 0;
  let seq = 0;

  async function runJobs(n: number): Promise<void> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const id = `${h.prefix}slo-${++seq}`;
      const res = await call(`${sandbox.url}/api/v1/jobs`, {
        method: "POST",
        json: { jobspec_id: id, version: "v1", benchmark: { name: "bias-detection", container: { image: "beacon/llama" }, input: { hash: "sha256:1" } },
          constraints: { regions: ["US", "EU", "APAC"], min_regions: 1, min_success_rate: 0.6 }, questions: ["identity_basic", "math_basic"] },
      });
      expect(res.status).toBe(202);
      ids.push(id);
    }
    for (const id of ids) {
      await waitFor(async () => (await sandbox.pool.query("SELECT status FROM jobs WHERE jobspec_id = $1", [id])).rows[0]?.status === "completed", `job ${id} completed`);
    }
  }
  const ageOut = () => new Promise((resolve) => setTimeout(resolve, 3_300));

  beforeAll(async () => {
    h = await createHarness();
    sandbox = await h.start({ sigBypass: true, hybridPath: true });
    // 80%: a window is judged from 6 events (one bad event alone never spends the budget: enoughEvents),
    // so the few executions a test can run are enough; at 90% it would take 11.
    rt = sentinelRuntime(sentinelEnv(h, sandbox, {
      slos: [{ id: "region-success", title: "Executions succeed", target: 0.8, sources: ["regions:executions-{region}"], regions: ["us-east", "eu-west", "asia-pacific"], minEvents: 1 }],
      probes: { regions: { windowSeconds: 3, askedSettleSeconds: 0, minExecutions: 3 } },
    }, { BEACON_ROUTER_URL: `${sandbox.url}/__router` }), { now: () => new Date(Date.now() + offsetMs), log: { info() {}, warn() {}, error() {} } });
  });
  afterAll(async () => {
    await rt?.close();
    await h?.close();
  });

  it("region-down eu-west burns region-success-eu-west only; the alert names eu-west; it resolves once eu-west answers again", async () => {
    const rec = tickRecorder(rt);
    const size = async () => { const json = JSON.stringify(await storedState(rt)); return [json.length, gzipSync(json).length]; };
    const before = await size();
    await runJobs(2);
    await rec.probe("regions");
    let report = await rec.evaluate();
    expect(report.slos.map((s) => [s.id, s.source, s.severity])).toEqual([
      ["region-success-us-east", "regions:executions-us-east", null], ["region-success-eu-west", "regions:executions-eu-west", null],
      ["region-success-asia-pacific", "regions:executions-asia-pacific", null],
    ]);

    await ageOut();
    sandbox.incidents.set("region-down:eu-west", true);
    await runJobs(2);
    await rec.probe("regions");
    report = await rec.evaluate();
    const eu = report.slos.find((s) => s.id === "region-success-eu-west")!;
    expect(eu).toMatchObject({ severity: "ticket", events: 8, period: { good: 4, total: 8 } });
    expect(report.slos.filter((s) => s.severity).map((s) => s.id)).toEqual(["region-success-eu-west"]);
    const firing = report.notifications.filter((n) => n.alertType === "slo");
    expect(firing).toEqual([expect.objectContaining({ kind: "firing", alertKey: "slo/region-success-eu-west", title: expect.stringContaining("Executions succeed in eu-west") })]);

    // The status document carries the grid; the page draws it; the public summary drops the causes.
    const doc = (await rt.store!.readStatus())!;
    expect(doc.regions?.cells.find((c) => c.region === "eu-west")).toMatchObject({ state: "fail", failed: 4, dominantCause: expect.stringContaining("ROUTER_HTTP_502") });
    const html = renderStatusPage(doc);
    expect(html).toContain('<h2 id="regions-h">Regions and models, last 24 h</h2>');
    expect(html).toMatch(/<th scope="row">eu-west<\/th><td><span class="badge s-fail"[^]*?50% succeeded[^]*?cause: ROUTER_HTTP_502/);
    expect(summaryView(doc).regions?.cells.every((c) => c.dominantCause === null)).toBe(true);
    const after = await size();
    console.info(`tick state grew ${after[0]! - before[0]!} B of JSON (${after[1]! - before[1]!} B gzipped) with three regions' counters, the regions probe's memory and its grid`);

    sandbox.incidents.set("region-down:eu-west", false);
    offsetMs += 7 * 3_600_000; // past the longest short window (6 h): only new events decide
    await ageOut();
    await runJobs(2);
    await rec.probe("regions");
    report = await rec.evaluate();
    expect(report.slos.find((s) => s.id === "region-success-eu-west")?.severity).toBeNull();
    expect(report.notifications.filter((n) => n.alertType === "slo")).toEqual([expect.objectContaining({ kind: "resolved", alertKey: "slo/region-success-eu-west" })]);
  }, 60_000);
});
