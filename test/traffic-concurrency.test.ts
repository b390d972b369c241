import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { recordRun, sentinelEnv, sentinelRuntime, storedState } from "./support/sentinel.ts";
import type { Runtime } from "../netlify/runtime.ts";
import { tick } from "../netlify/tick.ts";
import { generateKeyPair } from "../shared/beacon/signing.ts";
import type { ProbeResult } from "../shared/result.ts";

let h: Harness;
let sandbox: Sandbox;
let rt: Runtime;
const keys = generateKeyPair();

beforeAll(async () => {
  h = await createHarness();
  sandbox = await h.start({ trustedKeys: [{ kid: "sentinel-canary", public_key: keys.publicKey, status: "active" }] });
  rt = sentinelRuntime(sentinelEnv(h, sandbox, { probes: { traffic: { minRequests: 1 } } }));
});
afterAll(async () => {
  await rt?.close();
  await h?.close();
});

/** Requests counted for the error-rate SLO so far: the minute buckets of `traffic:requests`. */
async function countedRequests(): Promise<number> {
  const hash = (await storedState(rt)).counters["traffic:requests"] ?? {};
  return Object.entries(hash).filter(([field]) => field.startsWith("m") && field.endsWith("t")).reduce((n, [, v]) => n + v, 0);
}

describe("two traffic runs at once (finding 6: 240 SLO events for 120 requests)", () => {
  it("count the runner's requests once: the second run waits for the first and sees no new delta", async () => {
    await recordRun(rt, "traffic"); // the first scrape only sets the baseline
    const before = await countedRequests();
    const REQUESTS = 120;
    // A user route: health, readiness and /metrics are left out of the SLI (they answer probers, not users).
    for (let i = 0; i < REQUESTS; i++) await (await fetch(`${sandbox.url}/api/v1/jobs?limit=1`)).text();
    const [a, b] = await Promise.all([recordRun(rt, "traffic"), recordRun(rt, "traffic")]);
    const counted = (await countedRequests()) - before;
    // Our own scrapes of /metrics are not counted; double counting would be 240 or more.
    expect(counted).toBeGreaterThanOrEqual(REQUESTS);
    expect(counted).toBe(REQUESTS);
    const deltas = [a, b].map((r) => r.events?.requests?.total ?? 0).sort((x, y) => x - y);
    expect(deltas[0]).toBe(0);
    expect(deltas[1]).toBeGreaterThanOrEqual(REQUESTS);
  });
});

describe("the sentinel's own requests to Beacon are not users' (issue 21: SLIs that measure users, not us)", () => {
  let own: Runtime;
  beforeAll(() => {
    const canary = { path: "queue", budgetsSeconds: { created: 3, outbox: 3, published: 4, queued: 4, processing: 5, completed: 20, receipt: 25 } };
    own = sentinelRuntime(sentinelEnv(h, sandbox, { probes: { traffic: { minRequests: 1 }, canary } }, { SENTINEL_KEY_PREFIX: `${h.prefix}own:`, CANARY_SIGNING_KEY: keys.privateKey }));
  });
  afterAll(async () => {
    sandbox.incidents.set("executions-500", false);
    await own?.close();
  });

  /** A tick of every probe that calls Beacon's user routes (not traffic), as the scheduled tick runs them. */
  async function probesTick(): Promise<ProbeResult[]> {
    const report = await tick(own, { write: true, probes: ["receipts", "health", "canary"], lockWaitMs: 25_000 });
    expect(report.results.map((r) => r.probe).sort()).toEqual(["canary", "health", "receipts"]);
    return report.results;
  }
  const leftOut = (r: ProbeResult) => Number(/; (\d+) of the sentinel's own requests left out/.exec(r.checks.find((c) => c.name === "requests")?.message ?? "")?.[1]);
  const userRequests = (r: ProbeResult) => r.events?.requests;

  it("a tick of receipts, health and canary then traffic counts 0 requests: all of them were ours", async () => {
    await recordRun(own, "traffic"); // baseline
    const results = await probesTick();
    expect(results.find((r) => r.probe === "canary")?.checks.find((c) => c.name === "stage:accepted")?.status).toBe("pass");
    // The tick stored them with the traffic probe's state: a traffic run in another process subtracts them too.
    const carried = ((await storedState(own)).probes["traffic"]?.state as { own?: Record<string, number> }).own ?? {};
    expect(carried).toMatchObject({ "POST /api/v1/jobs 202": 1, "GET /api/v1/jobs 200": expect.any(Number), "GET /api/v1/executions 200": 1 });
    const traffic = await recordRun(own, "traffic");
    expect(userRequests(traffic)).toEqual({ good: 0, total: 0 });
    // Without the subtraction these would have been counted as users' requests (receipts' lists and reads,
    // health's runner-db read, the canary's submit): 4 at least.
    // Health and readiness are left out of the SLI by route already: not subtracted twice.
    const users = Object.entries(carried).filter(([key]) => !key.includes(" /health"));
    expect(users.length).toBeLessThan(Object.keys(carried).length);
    expect(leftOut(traffic)).toBe(users.reduce((n, [, v]) => n + v, 0));
    expect(leftOut(traffic)).toBeGreaterThanOrEqual(4);
  });

  it("counts exactly the users' N requests, and our own 500s are not users' errors", async () => {
    sandbox.incidents.set("executions-500", true);
    const N = 7;
    for (let i = 0; i < N; i++) await (await fetch(`${sandbox.url}/api/v1/jobs?limit=2`)).text();
    const results = await probesTick();
    // The receipts probe read /api/v1/executions and got Beacon's 500.
    expect(results.find((r) => r.probe === "receipts")?.status).not.toBe("pass");
    const traffic = await recordRun(own, "traffic");
    expect(userRequests(traffic)).toEqual({ good: N, total: N });
    expect(traffic.checks.find((c) => c.name === "5xx-ratio")?.message).toMatch(new RegExp(`^0 of ${N} requests answered 5xx`));
    expect(leftOut(traffic)).toBeGreaterThanOrEqual(2);
    sandbox.incidents.set("executions-500", false);
  });
});
