import { describe, expect, it } from "vitest";
import { judgeRegions, regionEvent } from "../shared/probes/regions/judge.ts";
import { judgeRestartLost } from "../shared/probes/regions/restart.ts";
import { routerCheck } from "../shared/probes/regions/providers.ts";
import { RegionsSettings } from "../shared/probes/regions/settings.ts";
import type { RegionRow } from "../shared/probes/regions/query.ts";
import { regionsSection } from "../shared/status/page-regions.ts";
import { StatusDocument } from "../shared/status/schema.ts";

/** Pure parts of the regions probe: named rows, exact results. */
const S = RegionsSettings.parse({ minExecutions: 4 });
const NOW = new Date("2026-11-30T12:00:00Z");

const blank: RegionRow = {
  kind: "cell", region: null, model: "m1", outcome: null, code: null, stage: null, component: null, transient: null,
  n_grid: 0, n_window: 0, n_new: 0, technical: 0, refusals: 0, max_id: null, ids: null, value: null,
};
const ok = (region: string, n: number, ids: number[] = [], extra: Partial<RegionRow> = {}): RegionRow =>
  ({ ...blank, region, outcome: "completed", n_grid: n, n_window: n, n_new: n, max_id: Math.max(0, ...ids), ids, ...extra });
const bad = (region: string, n: number, code: string, ids: number[], extra: Partial<RegionRow> = {}): RegionRow =>
  ({ ...blank, region, outcome: code === "ROUTER_TIMEOUT" ? "timeout" : "failed", code, stage: "inference", component: "hybrid_router", transient: true,
    n_grid: n, n_window: n, n_new: n, technical: n, max_id: Math.max(...ids), ids, ...extra });

describe("judgeRegions", () => {
  it.each([
    ["fails-the-one-region-below-threshold-while-others-succeed", [ok("us-east", 5), bad("eu-west", 5, "ROUTER_HTTP_502", [9, 8]), ok("eu-west", 1)],
      { "region:us-east": "pass", "region:eu-west": "fail" }, /^eu-west: 1 of 6 finished executions completed \(16\.7%\) in the last 60 min, while us-east succeed; dominant cause ROUTER_HTTP_502/],
    ["says-not-regional-when-every-region-fails", [bad("us-east", 5, "ROUTER_TIMEOUT", [1]), bad("eu-west", 5, "ROUTER_TIMEOUT", [2])],
      { "region:us-east": "fail", "region:eu-west": "fail" }, /as do the other regions \(not regional\)/],
    ["does-not-judge-a-ratio-under-minExecutions", [ok("us-east", 5), bad("eu-west", 3, "ROUTER_HTTP_502", [3])],
      { "region:us-east": "pass", "region:eu-west": "pass" }, /^eu-west: 0 of 3 finished executions completed \(0%\) in the last 60 min, too few to judge \(4\)/],
    ["fails-a-region-jobs-asked-for-and-never-got", [ok("us-east", 5), { ...blank, kind: "ask", region: "asia-pacific", model: null, value: 3, n_window: 3, ids: ["job-a", "job-b", "job-c"] as string[] }],
      { "region:us-east": "pass", "region:asia-pacific": "fail" }, /^asia-pacific: 3 of 3 jobs that asked for asia-pacific in the last 60 min have no execution there/],
    ["reports-an-expected-region-with-nothing-yet-without-failing", [ok("us-east", 5)],
      { "region:us-east": "pass", "region:ca-central": "pass" }, /^ca-central: no finished execution in the last 60 min$/m],
  ] as const)("%s", (_rule, rows, statuses, message) => {
    const out = judgeRegions([...rows], null, { ...S, expectedRegions: ["ca-central"].filter(() => _rule.startsWith("reports")) }, NOW);
    expect(Object.fromEntries(out.checks.map((c) => [c.name, c.status]))).toEqual(statuses);
    expect(out.checks.map((c) => c.message).join("\n")).toMatch(message);
  });

  it("evidence names the model, then the dominant cause's executions; events count past the mark; the mark moves to the newest finished id", () => {
    const rows = [ok("us-east", 5, [1, 2, 3, 4, 5]), bad("eu-west", 4, "ROUTER_HTTP_502", [9, 7, 6, 5], { n_new: 2 }), { ...blank, region: "eu-west", outcome: "started", n_grid: 1, n_window: 1, max_id: 99, ids: [99] }];
    const out = judgeRegions(rows, 4, S, NOW);
    expect(out.checks.find((c) => c.name === "region:eu-west")!.evidence).toEqual([
      "eu-west/m1: 4 of 4 failed, mostly ROUTER_HTTP_502 (inference/hybrid_router, transient) ×4",
      ...[9, 7, 6, 5].map((id) => `execution ${id}: eu-west/m1 ROUTER_HTTP_502 (inference/hybrid_router, transient)`),
    ]);
    expect(out.events).toEqual({ "executions-us-east": { good: 5, total: 5 }, "executions-eu-west": { good: 0, total: 2 } });
    expect(out.mark).toBe(9); // a running execution (99) is not past the mark yet
    expect(out.grid.cells.find((c) => c.region === "eu-west")).toMatchObject({ started: 5, failed: 4, technicalErrors: 4, successRatio: 0, state: "fail" });
  });

  it.each([
    ["router-network-after-the-client-timeout-is-a-timeout-with-its-wait",
      { ...bad("eu-west", 5, "ROUTER_NETWORK", [1, 2]), outcome: "timeout", stage: "router_network", max_wait_s: 1201.6 },
      "dominant cause ROUTER_NETWORK after up to 1202 s: the router or provider did not answer within the runner's HTTP client timeout (router_network/hybrid_router, transient) ×5"],
    ["a-portal-failed-row-says-where-its-cause-is",
      { ...bad("eu-west", 5, "x", [1, 2]), code: null, stage: null, component: null, transient: null },
      "dominant cause no failure code in the row (output_data NULL: the portal path keeps the cause in region_results) ×5"],
  ] as const)("%s", (_rule, row, cause) => {
    const eu = judgeRegions([ok("us-east", 5), row as RegionRow], null, S, NOW).checks.find((c) => c.name === "region:eu-west")!;
    expect(eu).toMatchObject({ status: "fail", message: expect.stringContaining(cause) });
  });

  it("groups every failure cause of a failing region, transient or not, most frequent first", () => {
    const rows = [ok("us-east", 5), bad("eu-west", 3, "ROUTER_HTTP_502", [1, 2, 3]), bad("eu-west", 2, "ROUTER_TIMEOUT", [4, 5]),
      { ...bad("eu-west", 1, "MODEL_NOT_FOUND", [6]), stage: "routing", component: "modal", transient: false }];
    const eu = judgeRegions(rows, null, S, NOW).checks.find((c) => c.name === "region:eu-west")!;
    expect(eu.message).toContain("all causes: ROUTER_HTTP_502 (inference/hybrid_router, transient) ×3, ROUTER_TIMEOUT (inference/hybrid_router, transient) ×2, MODEL_NOT_FOUND (routing/modal, not transient) ×1");
  });

  it.each([["us-east", "executions-us-east"], ["EU West", "executions-eu-west"], ["ap_south/1", "executions-ap-south-1"]])("event name of %s is %s", (region, name) => {
    expect(regionEvent(region)).toBe(name);
  });
});

describe("judgeRestartLost", () => {
  const queued = (id: string, created: number): RegionRow => ({ ...blank, kind: "queued", region: null, model: null, ids: [id], value: created });
  it.each([
    ["no-queued-job-passes-even-without-a-start-time", [], { error: "HTTP 404" }, undefined, "pass", /^no job in queued/],
    ["queued-jobs-and-no-start-time-is-blind", [queued("j1", 100)], { error: "HTTP 404" }, undefined, "error", /could not be read: HTTP 404/],
    ["jobs-queued-since-the-start-are-not-lost", [queued("j1", 200)], { startSeconds: 150 }, 100, "pass", /restarted at .*1 jobs in queued, all created since/],
    ["a-job-queued-before-the-start-is-lost", [queued("j1", 120), queued("j2", 200)], { startSeconds: 150 }, 100, "fail", /restarted at 1970-01-01T00:02:30Z \(previous start 1970-01-01T00:01:40Z\); 1 cross-region jobs created before it are still queued.*Beacon has no remediation/],
    ["first-run-still-names-lost-jobs-by-the-current-start", [queued("j1", 120)], { startSeconds: 150 }, undefined, "fail", /^the runner started at 1970-01-01T00:02:30Z; 1 cross-region/],
  ] as const)("%s", (_rule, rows, start, previous, status, message) => {
    const c = judgeRestartLost([...rows], start, previous);
    expect(c.status).toBe(status);
    expect(c.message).toMatch(message);
    if (status === "fail") expect(c.evidence[0]).toBe("job j1: queued since 1970-01-01T00:02:00Z, 30 s before the runner's start");
  });
});

describe("routerCheck", () => {
  const answer = (status: number, body: unknown) => (async () => new Response(JSON.stringify(body), { status })) as unknown as typeof fetch;
  const f = (fetcher: typeof globalThis.fetch) => ({ fetch: fetcher, now: () => new Date(), timeoutMs: 1_000, maxBytes: 10_000 });
  it.each([
    ["healthy", 200, { status: "healthy", providers_total: 3, providers_healthy: 3, regions: ["us-east", "eu-west", "asia-pacific"] }, "pass", []],
    ["a-region-in-use-the-router-does-not-serve", 200, { status: "healthy", providers_total: 2, providers_healthy: 2, regions: ["us-east", "eu-west"] }, "fail", ["asia-pacific: in use, not among the router's regions"]],
    ["no-healthy-provider", 200, { status: "unhealthy", providers_total: 3, providers_healthy: 0, regions: ["us-east", "eu-west", "asia-pacific"] }, "fail", ["https://router.example/health: 0 of 3 providers healthy", "https://router.example/health: status unhealthy"]],
    ["http-503", 503, { error: "down" }, "fail", ["https://router.example/health"]],
  ] as const)("%s", async (_rule, code, body, status, evidence) => {
    const c = await routerCheck("https://router.example/", ["us-east", "eu-west", "asia-pacific"], f(answer(code, body)));
    expect(c.status).toBe(status);
    expect(c.evidence).toEqual(evidence);
  });

  it("never shows the router URL's credentials", async () => {
    const c = await routerCheck("https://user:s3cret@router.example", [], f((async () => { throw new Error("connect ECONNREFUSED"); }) as unknown as typeof fetch));
    expect(c.status).toBe("fail");
    expect(JSON.stringify(c)).not.toContain("s3cret");
  });
});

describe("the status page's region grid", () => {
  it("escapes what Beacon wrote and says what a cell holds in words", () => {
    const base = { version: 1, generatedAt: NOW.toISOString(), overall: { state: "pass", message: "" }, stages: [], probes: [], slos: { evaluatedAt: null, items: [] }, alerts: { firing: [], silences: [] } };
    const doc = StatusDocument.parse({
      ...base,
      regions: { evaluatedAt: NOW.toISOString(), windowHours: 24, regions: ["<script>x</script>"], models: ["m1", "m2"],
        cells: [{ region: "<script>x</script>", model: "m1", started: 4, completed: 2, failed: 2, timedOut: 0, technicalErrors: 2, refusals: 0, successRatio: 0.5, state: "fail", dominantCause: "<b>502</b> ×2" }] },
    });
    const html = regionsSection(doc);
    expect(html).not.toContain("<script>");
    expect(html).toContain("&lt;script&gt;x&lt;/script&gt;");
    expect(html).toContain("50% succeeded");
    expect(html).toContain("cause: &lt;b&gt;502&lt;/b&gt; ×2");
    expect(html).toContain("no execution"); // m2 has no cell
    expect(regionsSection(StatusDocument.parse(base))).toBe("");
  });
});
