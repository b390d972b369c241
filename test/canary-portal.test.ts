import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPair } from "../shared/beacon/signing.ts";
import { crossRegionRequest, newJobspecId, signedJobSpec } from "../shared/probes/canary/spec.ts";
import { submitJob } from "../shared/probes/canary/submit.ts";
import { CanarySettings } from "../shared/probes/canary/settings.ts";
import { call, createHarness, waitFor, waitForStatus, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { canaryRig, statuses, type CanaryRig } from "./support/canary.ts";

/**
 * The canary on the users' path: `POST /api/v1/jobs/cross-region`, as the portal submits
 * (`useBiasDetection.js`), the default path. The sandbox serves the route as Beacon's handler does
 * (`cross_region_handlers.go`): the struct's signature checked before Validate, the job `queued` with
 * no outbox row, an in-process run writing raw regions and the status only at the end.
 */
let h: Harness;
let sandbox: Sandbox;
const keys = generateKeyPair();
const rigs: CanaryRig[] = [];
const rig = (settings: Record<string, unknown> = {}) => {
  const r = canaryRig(h, sandbox, keys.privateKey, settings);
  rigs.push(r);
  return r;
};
const PORTAL_CHECKS = ["canary", "stage:accepted", "stage:created", "stage:started", "stage:completed", "stage:receipt",
  "regression:id-populated", "regression:questions-answered", "regression:both-apis"];

beforeAll(async () => {
  h = await createHarness();
  // No trust list and no bypass: the cross-region route checks the signature whatever they say.
  sandbox = await h.start({});
});
afterEach(() => sandbox.incidents.reset());
afterAll(async () => {
  await Promise.all(rigs.map((r) => r.close()));
  await h?.close();
});

/** Submits a canary (the interval passed) and returns its id and the submitting run's checks. */
async function submit(r: CanaryRig) {
  r.advance(15 * 60);
  const run = await r.invoke();
  const id = (await r.state()).inFlight?.id ?? (await r.state()).last!.id;
  return { id, ...run };
}

async function rowsOf(id: string) {
  const { rows } = await sandbox.pool.query<{ status: string; outbox: number; regions: string[] | null }>(
    `SELECT j.status, (SELECT count(*)::int FROM outbox o WHERE o.payload->>'id' = j.jobspec_id) AS outbox,
       (SELECT array_agg(DISTINCT e.region) FROM executions e WHERE e.job_id = j.id) AS regions
     FROM jobs j WHERE j.jobspec_id = $1`, [id]);
  return rows[0];
}

describe("canary through the portal's cross-region route (the default path)", () => {
  it("passes its path's stages on a healthy sandbox: a queued job, no outbox row, raw regions, the signature on path A", async () => {
    const r = rig();
    const { id, by: first } = await submit(r);
    expect(first["stage:accepted"]!.message).toMatch(/HTTP 202 on POST \/api\/v1\/jobs\/cross-region in \d+ ms, id "sentinel-canary-.*signature verified on the struct \(path A/);
    expect(Object.keys(first)).not.toContain("stage:outbox");
    await waitForStatus(sandbox, id, "completed");
    expect(await rowsOf(id)).toEqual({ status: "completed", outbox: 0, regions: ["US"] });
    r.advance(60);
    const { result, by } = await r.invoke();
    expect(Object.keys(by)).toEqual(PORTAL_CHECKS);
    expect(result.status, JSON.stringify(statuses(by))).toBe("pass");
    expect(by["stage:started"]!.message).toMatch(/: at \d/); // exact, from Beacon's started_at
    expect(by["stage:started"]!.threshold).toBe("<= 120 s");
    expect(by["canary"]!.message).toContain(`canary ${id} settled after 60 s: passed every stage`);
    expect(result.events).toEqual({ jobs: { good: 1, total: 1 }, "start-latency": { good: 1, total: 1 } });
  });

  it("database-less runner: the route is not registered (404); the accepted stage names database-less mode, then a canary passes once the database is back", async () => {
    const r = rig();
    sandbox.incidents.set("database-less", true);
    const refused = await submit(r);
    expect(refused.result.status).toBe("fail");
    expect(refused.by["stage:accepted"]!.message).toMatch(/refused on POST \/api\/v1\/jobs\/cross-region: HTTP 404 404 page not found: the route is not registered: the runner runs without its database \(database-less mode/);
    expect(statuses(refused.by)).toMatchObject({ "stage:created": "error", "stage:receipt": "error" });
    sandbox.incidents.set("database-less", false);
    const { id } = await submit(r);
    await waitForStatus(sandbox, id, "completed");
    r.advance(60);
    expect((await r.invoke()).result.status).toBe("pass");
  });

  it("the router failing the region: the job fails, the completed stage says so with the portal path's record of the cause", async () => {
    const r = rig();
    sandbox.incidents.set("region-down:us-east", true);
    const { id } = await submit(r);
    await waitForStatus(sandbox, id, "failed");
    r.advance(30);
    const { result, by } = await r.invoke();
    expect(statuses(by)).toMatchObject({ "stage:created": "pass", "stage:started": "pass", "stage:completed": "fail", "stage:receipt": "error" });
    expect(by["stage:completed"]!.message).toBe(`canary ${id}: job failed: 1 of 1 executions failed (the runner's record: run failed; region_results US failed "all executions failed")`);
    expect(result.events).toEqual({ jobs: { good: 0, total: 1 }, "start-latency": { good: 1, total: 1 } });
  });

  it("on the queue path the same router failure names the runner's own cause (output_data.error_code)", async () => {
    const r = rig({ path: "queue" });
    sandbox.incidents.set("region-down:us-east", true);
    const { id } = await submit(r);
    await waitForStatus(sandbox, id, "failed");
    r.advance(30);
    const { by } = await r.invoke();
    expect(by["stage:completed"]!.message).toBe(`canary ${id}: job failed: 1 of 1 executions failed, the runner's cause: ROUTER_HTTP_502`);
  });

  it("no provider for the region: no row and no status; the started stage fails once the job had time to complete, naming the silent run", async () => {
    const r = rig();
    sandbox.incidents.set("provider-missing:us-east", true);
    const { id } = await submit(r);
    await waitFor(async () => sandbox.crossRegionInFlight() === 0, "the portal run ended");
    r.advance(121); // past startLatencySeconds: not yet missed, its rows are written only when the region ends
    expect((await r.invoke()).by["stage:started"]!.message).toMatch(/^pending/);
    r.advance(300);
    const { result, by } = await r.invoke();
    expect(result.status).toBe("fail");
    expect(by["stage:started"]).toMatchObject({ status: "fail", threshold: "<= 120 s" });
    expect(by["stage:started"]!.message).toMatch(/^\d+ s in queued: no execution row written by the in-process run .*no provider for the region, or a runner restart/);
    expect(by["stage:completed"]!.message).toBe(`not reached yet: canary ${id} is held at started`);
    expect((await rowsOf(id))!.status).toBe("queued");
  });

  it("Modal without an answer: the job completes, the receipt stage and the questions check fail naming the canary", async () => {
    const r = rig();
    sandbox.incidents.set("modal-no-answer:us-east", true);
    const { id } = await submit(r);
    await waitForStatus(sandbox, id, "completed");
    r.advance(60);
    const { by } = await r.invoke();
    expect(statuses(by)).toMatchObject({ "stage:completed": "pass", "stage:receipt": "fail", "regression:questions-answered": "fail" });
    expect(by["stage:receipt"]!.evidence[0]).toBe(`job ${id}`);
  });

  it("healthy again after the faults: the next canary passes every stage", async () => {
    const r = rig();
    const { id } = await submit(r);
    await waitForStatus(sandbox, id, "completed");
    r.advance(60);
    const { result, by } = await r.invoke();
    expect(result.status, JSON.stringify(statuses(by))).toBe("pass");
  });
});

describe("the sandbox's cross-region route checks the signature as Beacon's handler does", () => {
  const shape = CanarySettings.parse({});
  const body = (tamper: boolean) => {
    const spec = signedJobSpec(newJobspecId(`${h.prefix}sig-`, new Date()), new Date(), shape, "canary", keys.privateKey, "cross-region");
    if (tamper) (spec["metadata"] as Record<string, unknown>)["nonce"] = "0".repeat(32);
    return crossRegionRequest(spec, shape);
  };

  it("accepts the canary's request, refuses it tampered with 400 Invalid JobSpec signature, and accepts an unsigned spec (the check runs only with both fields)", async () => {
    const ok = await call(`${sandbox.url}/api/v1/jobs/cross-region`, { method: "POST", json: body(false) });
    expect(ok).toMatchObject({ status: 202, body: { status: "submitted", total_regions: 1, min_regions: 1 } });
    const bad = await call(`${sandbox.url}/api/v1/jobs/cross-region`, { method: "POST", json: body(true) });
    expect(bad).toMatchObject({ status: 400, body: { error: "Invalid JobSpec signature", details: "signature verification failed" } });
    const unsigned = body(false);
    const { signature: _s, public_key: _p, created_at: _c, ...spec } = unsigned["jobspec"] as Record<string, unknown>;
    expect((await call(`${sandbox.url}/api/v1/jobs/cross-region`, { method: "POST", json: { ...unsigned, jobspec: spec } })).status).toBe(202);
    await waitFor(async () => sandbox.crossRegionInFlight() === 0, "the runs ended");
    // jobs.created_at is the spec's own: the canary's is its submit time; a spec without one reads year 1 (as on the real runner).
    const years = async (id: unknown) => (await sandbox.pool.query<{ y: number }>("SELECT extract(year FROM created_at)::int AS y FROM jobs WHERE jobspec_id = $1", [id])).rows[0]!.y;
    expect(await years((ok.body as { id: string }).id)).toBe(new Date().getUTCFullYear());
    expect(await years(spec["jobspec_id"])).toBe(1);
  });
});

describe("what the real runner answered that the sandbox does not serve", () => {
  const answer = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    (async () => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } })) as unknown as typeof fetch;
  const submitWith = (f: typeof fetch) =>
    submitJob("http://127.0.0.1:1/api/v1/jobs/cross-region", { jobspec: { jobspec_id: "sentinel-canary-1" } }, { fetch: f, now: () => new Date(), timeoutMs: 1000, route: "cross-region" });

  it("Beacon's per-IP rate limit (its error is an object) is named as such, not quoted twice", async () => {
    // The body the real runner sent after a burst of sentinel reads from one address (middleware/security.go:117-180).
    const limited = await submitWith(answer(429, { error: { code: "RATE_LIMIT_EXCEEDED", message: "Too many requests. Please slow down.", type: "rate_limited" }, request_id: "r1" }));
    expect(limited).toMatchObject({ accepted: false, status: 429, code: "RATE_LIMIT_EXCEEDED" });
    expect((limited as { cause: string }).cause).toBe("HTTP 429 RATE_LIMIT_EXCEEDED: Beacon's per-IP limit on every route (60 requests a minute) ran out: the sentinel's own reads from this address count against it");
  });

  it("a 202 with status queued and X-Warning (no executor started) is not an accepted canary", async () => {
    const stored = await submitWith(answer(202, { id: "sentinel-canary-1", status: "queued" }, { "x-warning": "Cross-region executor is not configured; execution was not started" }));
    expect(stored).toMatchObject({ accepted: false, status: 202, cause: 'HTTP 202 status "queued": the job was stored but will not run (Cross-region executor is not configured; execution was not started)' });
  });
});
