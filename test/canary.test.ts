import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Check } from "../shared/result.ts";
import { generateKeyPair } from "../shared/beacon/signing.ts";
import { CANARY_STAGES, REGRESSION_CHECKS } from "../shared/probes/canary/settings.ts";
import { createHarness, waitForStatus, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { canaryRig, statuses, type CanaryRig } from "./support/canary.ts";

let h: Harness;
let sandbox: Sandbox;
const keys = generateKeyPair();
const rigs: CanaryRig[] = [];
// The queue path (POST /api/v1/jobs), kept as the canary's second path: the portal path's own tests are in canary-portal.test.ts.
const QUEUE = { path: "queue" };
const rig = (key: string | null = keys.privateKey, settings: Record<string, unknown> = {}) => {
  const r = canaryRig(h, sandbox, key ?? undefined, { ...QUEUE, ...settings });
  rigs.push(r);
  return r;
};
const ALL = ["canary", ...CANARY_STAGES.map((s) => `stage:${s}`), ...REGRESSION_CHECKS];

async function canaryJobs(): Promise<number> {
  const { rows } = await sandbox.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM jobs WHERE jobspec_id LIKE 'sentinel-canary-%'");
  return rows[0]!.n;
}

beforeAll(async () => {
  h = await createHarness();
  // Trust enforced with only the canary's key: the recipe is checked by the sandbox's real security pipeline.
  sandbox = await h.start({ trustedKeys: [{ kid: "sentinel-canary", public_key: keys.publicKey, status: "active" }] });
});
afterAll(async () => {
  await Promise.all(rigs.map((r) => r.close()));
  await h?.close();
});

describe("canary against the sandbox", () => {
  it("reports itself disabled without CANARY_SIGNING_KEY, alerting nobody and submitting nothing", async () => {
    const before = await canaryJobs();
    const { result, by } = await rig(null).invoke();
    expect(result.status).toBe("pass");
    expect(Object.keys(by)).toEqual(["canary"]);
    expect(by["canary"]!.message).toMatch(/^disabled: CANARY_SIGNING_KEY is not set/);
    expect(result.events).toBeUndefined();
    expect(await canaryJobs()).toBe(before);
  });

  it("follows a signed canary through every stage across invocations, then counts its events once", async () => {
    const r = rig();
    const first = await r.invoke();
    expect(first.by["canary"]!.message).toMatch(/^submitted canary sentinel-canary-\d+-[0-9a-f]{8}/);
    expect(first.by["stage:accepted"]).toMatchObject({ status: "pass", threshold: "<= 8 s" });
    expect(first.by["stage:outbox"]!.message).toMatch(/^pending/);
    expect(first.result.events).toBeUndefined();
    const id = (await r.state()).inFlight!.id;
    expect(await h.redis.get(`${r.prefix}claim:canary`)).toBe(id);

    await waitForStatus(sandbox, id, "completed");
    r.advance(60);
    const second = await r.invoke();
    expect(Object.keys(second.by)).toEqual(ALL);
    expect(second.result.status).toBe("pass");
    for (const stage of CANARY_STAGES) expect(second.by[`stage:${stage}`]!.observed, stage).toEqual(expect.any(Number));
    expect(second.by["stage:started"]!.observed as number).toBeLessThan(5);
    expect(second.by["canary"]!.message).toContain(`canary ${id} settled after 60 s: passed every stage`);
    expect(second.result.events).toEqual({ jobs: { good: 1, total: 1 }, "start-latency": { good: 1, total: 1 } });
    expect(await h.redis.get(`${r.prefix}claim:canary`)).toBeNull();
    expect((await r.state()).inFlight).toBeUndefined();

    // Idle runs repeat the verdicts (so alerts see them) but submit nothing and count nothing.
    r.advance(60);
    const idle = await r.invoke();
    expect(idle.by["canary"]!.message).toMatch(/^idle: last canary .* passed every stage.*; next in 13 min$/);
    expect(idle.by["stage:receipt"]!.message).toMatch(new RegExp(`^canary ${id}: `));
    expect(idle.result.events).toBeUndefined();
    expect((await r.state()).lastSubmittedAt).toBeDefined();
  });

  it("submits one canary when two invocations run at once (the second waits for the tick's lock, then follows it)", async () => {
    const r = rig();
    const before = await canaryJobs();
    const [a, b] = await Promise.all([r.invoke(), r.invoke()]);
    const lines = [a, b].map((x) => x.by["canary"]!.message);
    expect(lines.filter((l) => /^submitted canary /.test(l))).toHaveLength(1);
    expect(await canaryJobs()).toBe(before + 1);
  });

  it("fails the accepted stage with the fix when Beacon does not trust the key, and frees the slot", async () => {
    const r = rig(generateKeyPair().privateKey);
    const { result, by } = await r.invoke();
    expect(result.status).toBe("fail");
    expect(by["stage:accepted"]!.message).toContain("trust_violation:unknown");
    expect(by["stage:accepted"]!.message).toContain("TRUSTED_KEYS_JSON");
    expect(by["stage:accepted"]!.evidence[1]).toMatch(/^public key [A-Za-z0-9+/]{43}=$/);
    expect(statuses(by)).toMatchObject({ "stage:created": "error", "stage:receipt": "error" });
    expect(by["stage:created"]!.message).toMatch(/^canary sentinel-canary-\S+: not reached: the canary was held at accepted$/);
    expect(result.events).toBeUndefined();
    expect(await h.redis.get(`${r.prefix}claim:canary`)).toBeNull();
    r.advance(60);
    expect((await r.invoke()).by["canary"]!.message).toMatch(/^idle: .*next in 14 min$/);
  });

  it("follows the job through the API alone without Beacon's database and Redis, inferring what it cannot see", async () => {
    const r = canaryRig(h, sandbox, keys.privateKey, QUEUE, ({ BEACON_DATABASE_URL, NEON_WS_PROXY, BEACON_REDIS_REST_URL, BEACON_REDIS_REST_TOKEN, ...rest }) => ({
      ...rest, SENTINEL_REDIS_REST_URL: BEACON_REDIS_REST_URL!, SENTINEL_REDIS_REST_TOKEN: BEACON_REDIS_REST_TOKEN!,
    }));
    rigs.push(r);
    await r.invoke();
    await waitForStatus(sandbox, (await r.state()).inFlight!.id, "completed");
    r.advance(60);
    const { result, by } = await r.invoke();
    expect(result.status).toBe("pass");
    expect(by["stage:outbox"]!.message).toMatch(/not observable here; inferred from the later stages$/);
    expect(by["stage:started"]!.message).toMatch(/by 60 s \(first seen then\)$/);
    expect(by["canary"]!.message).toContain("BEACON_DATABASE_URL is not set");
    expect(result.events).toEqual({ jobs: { good: 1, total: 1 } }); // no exact start: no start-latency event
  });

  it("says it cannot run without the store's claims (a dry run)", async () => {
    const r = rig();
    const { canaryProbe } = await import("../shared/probes/canary/index.ts");
    const { runProbe } = await import("../shared/runner.ts");
    const result = await runProbe(canaryProbe, { deps: { ...r.rt.deps, claims: undefined }, settings: r.rt.config.settings, targets: r.rt.targets, redact: r.rt.redact });
    expect(result.checks).toEqual([expect.objectContaining({ name: "canary", status: "error", message: expect.stringContaining("dry run") })]);
  });
});

describe("canary on the hybrid path with an older Modal (no receipts: the answer is in output_data)", () => {
  let hh: Harness;
  let hybrid: Sandbox;
  const hybridRigs: CanaryRig[] = [];
  beforeAll(async () => {
    hh = await createHarness();
    hybrid = await hh.start({ hybridPath: true, hybridReceipt: "none", trustedKeys: [{ kid: "sentinel-canary", public_key: keys.publicKey, status: "active" }] });
  });
  afterAll(async () => {
    await Promise.all(hybridRigs.map((r) => r.close()));
    await hh?.close();
  });

  it("passes its receipt stage from output_data, fails it naming the canary when the answer is empty, passes again after", async () => {
    const r = canaryRig(hh, hybrid, keys.privateKey, QUEUE);
    hybridRigs.push(r);
    await r.invoke();
    const first = (await r.state()).inFlight!.id;
    await waitForStatus(hybrid, first, "completed");
    r.advance(60);
    const ok = await r.invoke();
    expect(statuses(ok.by)).toMatchObject({ "stage:receipt": "pass", "regression:questions-answered": "pass" });

    r.advance(15 * 60);
    await r.invoke();
    const second = (await r.state()).inFlight!.id;
    await waitForStatus(hybrid, second, "completed");
    await hybrid.pool.query(
      "UPDATE executions e SET output_data = jsonb_set(e.output_data, '{response}', '\"\"') FROM jobs j WHERE e.job_id = j.id AND j.jobspec_id = $1", [second]);
    r.advance(60);
    const bad = await r.invoke();
    expect(bad.by["stage:receipt"]).toMatchObject({ status: "fail", message: expect.stringContaining(second) });
    expect(JSON.stringify(bad.by["stage:receipt"]!.evidence)).toMatch(/output_data.response is empty \(no receipt: hybrid path\)/);

    r.advance(15 * 60);
    await r.invoke();
    const third = (await r.state()).inFlight!.id;
    await waitForStatus(hybrid, third, "completed");
    r.advance(60);
    expect((await r.invoke()).by["stage:receipt"]?.status).toBe("pass");
  });
});

describe("canary through the portal's /api/v1 proxy (BEACON_PORTAL_URL)", () => {
  type Mode = "proxy" | "details-502" | "empty-id";
  let mode: Mode = "proxy";
  let posts = 0;
  let portal: Server;
  let portalUrl: string;
  const portalRigs: CanaryRig[] = [];

  beforeAll(async () => {
    // A stand-in for the portal's Netlify redirect: /api/* forwarded to the runner, answers passed back.
    portal = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      if (req.method === "POST") posts++;
      if (mode === "details-502" && req.method === "GET") {
        res.writeHead(502, { "content-type": "text/html" });
        return res.end("<html>502 Bad Gateway</html>");
      }
      const upstream = await fetch(`${sandbox.url}${req.url}`, {
        method: req.method, headers: { "content-type": String(req.headers["content-type"] ?? "application/json") },
        ...(req.method === "POST" ? { body: Buffer.concat(chunks) } : {}),
      });
      let body = await upstream.text();
      if (mode === "empty-id" && req.method === "POST" && upstream.status === 202) body = JSON.stringify({ ...JSON.parse(body), id: "" });
      res.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "application/json" });
      res.end(body);
    });
    await new Promise<void>((resolve) => portal.listen(0, "127.0.0.1", resolve));
    portalUrl = `http://127.0.0.1:${(portal.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await Promise.all(portalRigs.map((r) => r.close()));
    portal.closeAllConnections();
    await new Promise((resolve) => portal.close(resolve));
  });

  /** Submits one canary (through the portal) and returns the checks once its job has completed. */
  async function oneCanary(r: CanaryRig): Promise<Record<string, Check>> {
    r.advance(15 * 60);
    const submitted = await r.invoke();
    expect(submitted.by["canary"]!.message).toMatch(/^submitted canary/);
    const id = (await r.state()).inFlight!.id;
    await waitForStatus(sandbox, id, "completed");
    r.advance(60);
    return (await r.invoke()).by;
  }

  it("submits through the portal, reads back through both, and fails naming the portal and the canary when either breaks", async () => {
    const r = canaryRig(h, sandbox, keys.privateKey, QUEUE, (e) => e, portalUrl);
    portalRigs.push(r);
    mode = "proxy";
    const before = posts;
    const ok = await oneCanary(r);
    expect(posts - before).toBe(1);
    expect(ok["stage:accepted"]!.message).toMatch(/: HTTP 202 on POST \/api\/v1\/jobs through the portal in \d+ ms, id "sentinel-canary-/);
    expect(ok["regression:both-apis"]).toMatchObject({ status: "pass", message: expect.stringContaining(`${portalUrl}/api/v1/jobs/`) });

    mode = "details-502";
    const broken = await oneCanary(r);
    const id502 = (await r.state()).last!.id;
    expect(broken["regression:both-apis"]).toMatchObject({ status: "fail", message: expect.stringMatching(/^canary .*: the portal does not serve the job: .* -> HTTP 502/) });
    expect(broken["regression:both-apis"]!.evidence).toContain(`job ${id502}`);

    mode = "empty-id";
    const empty = await oneCanary(r);
    expect(empty["regression:id-populated"]).toMatchObject({ status: "fail", message: expect.stringMatching(/the submit answered id "" for jobspec_id/) });

    mode = "proxy";
    const again = await oneCanary(r);
    expect(statuses(again)).toMatchObject({ "regression:both-apis": "pass", "regression:id-populated": "pass" });
  });
});
