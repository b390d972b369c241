import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPair } from "../shared/beacon/signing.ts";
import { runLoad, type LoadDeps, type LoadOptions } from "../shared/load/run.ts";
import type { LoadReport } from "../shared/load/report.ts";
import { runLoadCommand, type LoadIo } from "../netlify/cli/load.ts";
import type { Runtime } from "../netlify/runtime.ts";
import { createHarness, waitFor, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { sentinelEnv, sentinelRuntime } from "./support/sentinel.ts";

let h: Harness;
let sandbox: Sandbox;
let rt: Runtime;
const keys = generateKeyPair();

beforeAll(async () => {
  h = await createHarness();
  // Trust enforced with the load key; the slow-worker delay is short so a backlog builds in seconds.
  sandbox = await h.start({ trustedKeys: [{ kid: "sentinel-load", public_key: keys.publicKey, status: "active" }], slowWorkerDelayMs: 150 });
  rt = sentinelRuntime(sentinelEnv(h, sandbox));
});
afterAll(async () => {
  await rt?.close();
  await h?.close();
});

function load(jobs: number, concurrency: number, onProgress?: LoadDeps["onProgress"]): Promise<LoadReport> {
  const s = rt.config.settings;
  const options: LoadOptions = {
    apiUrl: sandbox.url, jobs, concurrency, signingKey: keys.privateKey, shape: s.probes.canary, beacon: s.beacon,
    slo: { thresholdSeconds: 120, target: 0.99 }, timeLimitSeconds: 60, pollIntervalMs: 50, requestTimeoutMs: 5_000,
  };
  return runLoad(options, { fetch, now: () => new Date(), sql: rt.deps.sql, beaconRedis: rt.deps.beaconRedis, ...(onProgress ? { onProgress } : {}) });
}

describe("load against the sandbox", () => {
  it("10 concurrent submissions all complete, once each", async () => {
    const report = await load(10, 10);
    expect(report.submitted).toMatchObject({ accepted: 10, rejected: 0 });
    expect(report).toMatchObject({ completed: 10, failed: 0, lost: 0, unfinished: {}, duplicated: { jobs: 0, extraPickups: 0 }, stoppedBy: "done", findings: [] });
    expect(report.startSeconds).toMatchObject({ count: 10 });
    expect(report.startSeconds!.p50).toBeLessThanOrEqual(report.startSeconds!.p99);
    expect(report.memory!.heapAllocBytes.peak).toBeGreaterThan(0);
    expect(report.queue.source).toBe("redis");
  });

  it("a 100-job backlog drains completely, newest first (LIFO), none lost or processed twice", async () => {
    sandbox.incidents.set("worker-stopped", true);
    let seenDepth = 0;
    const running = load(100, 20, (p) => void (seenDepth = Math.max(seenDepth, p.queueDepth ?? 0)));
    try {
      // Until the run itself has sampled the whole backlog, so its peak is the backlog, not a race.
      await waitFor(async () => seenDepth >= 100, "the load run to see a 100-message backlog", 20_000);
    } finally {
      sandbox.incidents.set("worker-stopped", false);
    }
    const report = await running;
    expect(report).toMatchObject({ completed: 100, lost: 0, unfinished: {}, duplicated: { jobs: 0, extraPickups: 0 }, findings: [] });
    expect(report.queue.peakDepth).toBeGreaterThanOrEqual(100);
    expect(report.peakWaiting).toBe(100);
    expect(report.order.verdict).toBe("LIFO");
    // Not 1.0: concurrent submits make creation order itself a little fuzzy.
    expect(report.order.inversions / report.order.pairs).toBeGreaterThan(0.75);
  });
});

describe("sentinel load (the command)", () => {
  const env = () => ({ ...sentinelEnv(h, sandbox, { probes: { canary: { startLatencySeconds: 1 } } }), CANARY_SIGNING_KEY: keys.privateKey });
  function io(over: Partial<LoadIo> = {}): LoadIo & { text: () => string; errors: () => string } {
    let out = "";
    let err = "";
    return { env: env(), out: (t) => void (out += t), err: (t) => void (err += t), interactive: false, progress: false,
      ask: async () => "no", text: () => out, errors: () => err, ...over };
  }

  it("with the slow worker, reports the backlog and the processing-time SLO breach (exit 1)", async () => {
    sandbox.incidents.set("slow-worker", true);
    try {
      const cli = io();
      const code = await runLoadCommand(["--jobs", "20", "--concurrency", "10", "--target", sandbox.url, "--json", "--poll-ms", "50"], cli);
      const report = JSON.parse(cli.text()) as LoadReport;
      expect(code).toBe(1);
      expect(report).toMatchObject({ completed: 20, lost: 0, duplicated: { jobs: 0, extraPickups: 0 } });
      expect(report.queue.peakDepth).toBeGreaterThan(5);
      expect(report.slo).toMatchObject({ thresholdSeconds: 1, breached: true });
      expect(report.startSeconds!.p95).toBeGreaterThan(1);
      expect(report.findings.join("\n")).toMatch(/processing-time SLO breached: .* started within 1 s \(target 99%\)/);
    } finally {
      sandbox.incidents.set("slow-worker", false);
    }
  });

  it("prints a readable report", async () => {
    const cli = io();
    const code = await runLoadCommand(["--jobs", "3", "--concurrency", "3", "--poll-ms", "50"], cli);
    expect(code, cli.text()).toBe(0);
    expect(cli.text()).toMatch(/^load test report\n {2}target +http:\/\/127\.0\.0\.1:\d+ \(run [0-9a-f]{6}, 3 jobs at concurrency 3\)/);
    expect(cli.text()).toMatch(/time to start +p50 .*, p95 .*, p99 /);
    expect(cli.text()).toContain("OK: every accepted job completed once, none lost");
  });

  it("refuses a target other than the sandbox without --yes or a terminal (exit 64), and takes no for an answer", async () => {
    const target = "https://beacon.example.org";
    const count = async () => Number((await sandbox.pool.query("SELECT count(*)::int AS n FROM jobs")).rows[0].n);
    const before = await count();
    const refused = io();
    expect(await runLoadCommand(["--jobs", "2", "--target", target], refused)).toBe(64);
    expect(refused.errors()).toContain("refusing to submit 2 jobs to https://beacon.example.org without confirmation");
    const asked: string[] = [];
    const declined = io({ interactive: true, ask: async (q) => (asked.push(q), "no") });
    expect(await runLoadCommand(["--jobs", "2", "--target", target], declined)).toBe(1);
    expect(asked[0]).toContain("Each one runs real inference");
    expect(await count()).toBe(before);
  });
});
