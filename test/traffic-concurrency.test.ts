import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { recordRun, sentinelEnv, sentinelRuntime, storedState } from "./support/sentinel.ts";
import type { Runtime } from "../netlify/runtime.ts";

let h: Harness;
let sandbox: Sandbox;
let rt: Runtime;

beforeAll(async () => {
  h = await createHarness();
  sandbox = await h.start();
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
