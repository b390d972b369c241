import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { generateKeyPair } from "../shared/beacon/signing.ts";
import { junitReport } from "../netlify/cli/junit.ts";
import { check, type ProbeResult } from "../shared/result.ts";
import { checkTimings, measure } from "../shared/runner.ts";
import { silentLogger } from "../shared/log.ts";
import { z } from "zod";
import type { AnyProbe } from "../shared/probes/types.ts";
import { createHarness, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { sentinelEnv } from "./support/sentinel.ts";
import { onPath } from "./support/processes.ts";
import { INCIDENT_NAMES } from "./sandbox/incidents.ts";

/**
 * The deploy gate as Beacon's CI would run it: the real `sentinel` binary against the sandbox.
 * `run all --reporter junit` must be valid JUnit (our schema, test/fixtures/junit.xsd, checked by
 * xmllint from libxml2-utils) and fail naming the check and its evidence during an incident;
 * `canary --wait` follows one canary stage by stage and fails naming the stage.
 */

const exec = promisify(execFile);
const XSD = new URL("./fixtures/junit.xsd", import.meta.url).pathname;
const XMLLINT = onPath("xmllint");
if (!XMLLINT && process.env.CI === "true") throw new Error("xmllint is not installed: CI must run it (apt-get install libxml2-utils)");
if (!XMLLINT) console.warn("\n*** xmllint not found: skipping the JUnit schema checks (apt-get install libxml2-utils) ***\n");

let h: Harness;
let sandbox: Sandbox;
let dir: string;
const keys = generateKeyPair();

beforeAll(async () => {
  h = await createHarness();
  sandbox = await h.start({ trustedKeys: [{ kid: "sentinel-canary", public_key: keys.publicKey, status: "active" }] });
  dir = await mkdtemp(join(tmpdir(), "sentinel-junit-"));
}, 60_000);
afterAll(async () => {
  await h?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Small canary budgets, so a stuck stage is judged in seconds; the queue path, where these incidents live (outbox, queue, worker). */
const FAST_CANARY = { path: "queue", budgetsSeconds: { created: 3, outbox: 3, published: 4, queued: 4, processing: 5, completed: 20, receipt: 25 }, startLatencySeconds: 8, leftCreatedSeconds: 8 };

async function sentinel(args: string[], settings: Record<string, unknown> = {}, override: Record<string, string | undefined> = {}) {
  const env: Record<string, string | undefined> = { ...process.env, ...sentinelEnv(h, sandbox, settings, { SENTINEL_KEY_PREFIX: `${h.prefix}g${Math.random().toString(16).slice(2, 8)}:`, CANARY_SIGNING_KEY: keys.privateKey }), ...override };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  try {
    const { stdout, stderr } = await exec(process.execPath, ["netlify/bin/sentinel.mjs", ...args], { env, timeout: 90_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function xmllint(xml: string): Promise<{ ok: boolean; out: string }> {
  const file = join(dir, `report-${Math.random().toString(16).slice(2)}.xml`);
  await writeFile(file, xml);
  try {
    const { stderr } = await exec(XMLLINT!, ["--noout", "--schema", XSD, file]);
    return { ok: true, out: stderr };
  } catch (error) {
    return { ok: false, out: (error as { stderr: string }).stderr };
  }
}

const result = (probe: string, checks: ReturnType<typeof check>[], over: Partial<ProbeResult> = {}): ProbeResult => ({
  version: 1, probe, status: "pass", startedAt: "2026-11-30T11:00:00.000Z", durationMs: 1234, checks, ...over,
});

describe.runIf(XMLLINT)("JUnit report", () => {
  it("every outcome is valid against the schema; fail is a failure, error an error, with the evidence in the text", async () => {
    const xml = junitReport([
      result("health", [
        check({ name: "runner-health", status: "fail", observed: 503, threshold: 200, message: 'GET /health answered 503 "unhealthy" <b>&', evidence: ["http://beacon/health: 503", "ctl\u0001char"] }),
        check({ name: "redis", status: "error", observed: null, threshold: null, message: "no answer within 5000 ms" }),
        check({ name: "database", status: "warn", observed: 1.2, threshold: 1, message: "slow" }),
        check({ name: "runner-ready", status: "pass", observed: true, threshold: true, message: "ready" }),
      ]),
      result("queue", [], { status: "error", error: "crashed: TypeError", startedAt: "2026-11-30T11:00:00.500Z" }),
    ]);
    expect(await xmllint(xml)).toMatchObject({ ok: true });
    // The report's time is the wall time the two concurrent probes spanned (11:00:00.000 to 11:00:01.734), not their sum.
    expect(xml).toContain('<testsuites name="beacon-sentinel" tests="5" failures="1" errors="2" time="1.734">');
    // Results this process did not measure (read back, or built here) have no per-check times: each case carries its probe's run.
    expect(xml).toContain('<testcase name="runner-ready" classname="sentinel.health" time="1.234"/>');
    expect(xml).toContain('<failure message="GET /health answered 503 &quot;unhealthy&quot; &lt;b&gt;&amp;" type="fail">observed: 503\nthreshold: 200\nevidence (2 of 2):\n  - http://beacon/health: 503\n  - ctl\uFFFDchar</failure>');
    expect(xml).toContain('<testcase name="queue" classname="sentinel.queue" time="1.234">');
  });

  it("each case's time is when its check was decided in the probe's run, the suite's the run: measured on the runner's clock", async () => {
    // A clock that moves only when the probe waits: checks decided at 100 and 250 ms, the run over at 400.
    let ms = Date.parse("2026-11-30T11:00:00.000Z");
    const wait = async (step: number) => { await new Promise((r) => setImmediate(r)); ms += step; };
    const probe: AnyProbe = {
      id: "timed", title: "timed", stage: "runner-api", schedule: "* * * * *", settings: z.object({ timeoutMs: z.number() }),
      async run() {
        await wait(100);
        const slow = check({ name: "first", status: "pass", observed: 1, threshold: 1, message: "after 100 ms" });
        await wait(150);
        const amended = { ...check({ name: "second", status: "fail", observed: 2, threshold: 1, message: "after 250 ms" }), message: "amended by copy" };
        await wait(150);
        return { checks: [slow, amended, { name: "literal", status: "pass", observed: null, threshold: null, message: "not built by check()", evidence: [], evidenceTotal: 0 }] };
      },
    };
    const { result } = await measure(probe, {
      deps: { now: () => new Date(ms), fetch, log: silentLogger },
      settings: { probes: { timed: { timeoutMs: 5_000 } }, beacon: {} as never },
      targets: { healthUrls: [] }, redact: (t) => t,
    });
    expect(result.durationMs).toBe(400);
    expect(checkTimings(result)).toEqual([100, 250, 400]);
    // Not stored in the document: a result read back has none, and the document's checks have no time field.
    expect(checkTimings(JSON.parse(JSON.stringify(result)) as ProbeResult)).toBeUndefined();
    expect(Object.keys(result.checks[0]!).sort()).toEqual(["evidence", "evidenceTotal", "message", "name", "observed", "status", "threshold"]);
    const xml = junitReport([result]);
    expect(await xmllint(xml)).toMatchObject({ ok: true });
    expect(xml).toContain('<testsuite name="timed" tests="3" failures="1" errors="0" skipped="0" time="0.400" timestamp="2026-11-30T11:00:00.000">');
    expect(xml).toContain('<testcase name="first" classname="sentinel.timed" time="0.100"/>');
    expect(xml).toContain('<testcase name="second" classname="sentinel.timed" time="0.250">');
    expect(xml).toContain('<testcase name="literal" classname="sentinel.timed" time="0.400"/>');
  });

  it("the schema is not a rubber stamp: a report missing what CI needs is refused", async () => {
    expect((await xmllint('<?xml version="1.0"?><testsuites><testsuite name="x"><testcase name="y"/></testsuite></testsuites>')).ok).toBe(false);
    expect((await xmllint(junitReport([])))).toMatchObject({ ok: true });
  });
});

describe.runIf(XMLLINT)("the deploy gate against the sandbox", () => {
  it("run all --reporter junit: healthy passes; during an incident it exits 1 with the failing check and its evidence", async () => {
    const healthy = await sentinel(["run", "all", "--reporter", "junit"]);
    expect(healthy.code, healthy.stderr).toBe(0);
    expect(await xmllint(healthy.stdout)).toMatchObject({ ok: true });
    expect(healthy.stdout).toMatch(/<testcase name="runner-health" classname="sentinel.health" time="\d+\.\d{3}"\/>/);
    // Real times: no case outlasts its suite, no suite the report, and the canary's stages (a job's
    // round trip through the sandbox) took measurable time.
    const report = Number(/<testsuites [^>]*time="([\d.]+)"/.exec(healthy.stdout)![1]);
    const suites = [...healthy.stdout.matchAll(/<testsuite name="([^"]+)"[^>]* time="([\d.]+)"[^>]*>([\s\S]*?)<\/testsuite>/g)];
    expect(suites).toHaveLength(7);
    for (const [, name, time, body] of suites) {
      expect(Number(time), name).toBeLessThanOrEqual(report);
      const cases = [...body!.matchAll(/<testcase [^>]*time="([\d.]+)"/g)].map((m) => Number(m[1]));
      expect(cases.length, name).toBeGreaterThan(0);
      for (const c of cases) expect(c, name).toBeLessThanOrEqual(Number(time));
    }
    const canary = suites.find((m) => m[1] === "canary")!;
    expect(Number(canary[2])).toBeGreaterThan(0);
    expect(Math.max(...[...canary[3]!.matchAll(/<testcase [^>]*time="([\d.]+)"/g)].map((m) => Number(m[1])))).toBeGreaterThan(0);

    await sandbox.incidents.set("health-unhealthy", true);
    try {
      const broken = await sentinel(["run", "all", "--reporter", "junit"], { probes: { canary: FAST_CANARY } });
      expect(broken.code).toBe(1);
      expect(await xmllint(broken.stdout)).toMatchObject({ ok: true });
      const suites = [...broken.stdout.matchAll(/<testsuite name="([^"]+)"/g)].map((m) => m[1]);
      expect(suites.sort()).toEqual(["canary", "health", "outbox", "queue", "receipts", "regions", "traffic"]);
      expect(broken.stdout).toMatch(/<testcase name="runner-health" classname="sentinel.health" time="\d+\.\d{3}">\n\s*<failure message="[^"]*503[^"]*" type="fail">[^<]*evidence \(\d+ of \d+\):\n\s*- [^<]*\/health/);
    } finally {
      await sandbox.incidents.set("health-unhealthy", false);
    }
    expect((await sentinel(["run", "all", "--reporter", "nunit"])).code).toBe(64);
  }, 120_000);

  it("run all --dry-run is a gate where CI runs: the canary, which needs the store, is skipped with the reason; healthy exits 0", async () => {
    const text = await sentinel(["run", "all", "--dry-run"]);
    expect(text.code, text.stdout + text.stderr).toBe(0);
    expect(text.stdout).toContain("skipped canary: the canary follows its one job across runs through claims in the sentinel's store, which a dry run does not write\n");
    expect(text.stdout).not.toMatch(/^canary /m);
    expect([...text.stdout.matchAll(/^(\w+)\s+(ok|WARN|FAIL|ERR)/gm)].map((m) => m[1]).sort()).toEqual(["health", "outbox", "queue", "receipts", "regions", "traffic"]);

    const junit = await sentinel(["run", "all", "--dry-run", "--reporter", "junit"]);
    expect(junit.code, junit.stderr).toBe(0);
    expect(await xmllint(junit.stdout)).toMatchObject({ ok: true });
    expect(junit.stdout).toContain('<testsuite name="canary" tests="1" failures="0" errors="0" skipped="1" time="0.000">\n    <testcase name="canary" classname="sentinel.canary" time="0">\n      <skipped message="the canary follows');
    expect(junit.stderr).toContain("sentinel run: skipped canary: ");

    // Asked for by name, the canary still runs and says it cannot: a dry run is no way to pass it.
    const named = await sentinel(["run", "canary", "--dry-run"]);
    expect(named.code).toBe(2);
    expect(named.stdout).toMatch(/ERR\s+canary\s+not run: the canary needs the sentinel's store/);

    // No Redis at all (no store, no queue): still no store error; what cannot be measured says so.
    const bare = await sentinel(["run", "all", "--dry-run"], {}, { BEACON_REDIS_REST_URL: undefined, BEACON_REDIS_REST_TOKEN: undefined });
    expect(bare.stderr).toBe("");
    expect(bare.stdout).toContain("skipped canary: ");
    expect(bare.stdout).toMatch(/ERR\s+redis\s+not measured: BEACON_REDIS_REST_URL is not set/);
  }, 120_000);

  it("canary --wait follows a canary to its receipt, stage by stage, and exits 0", async () => {
    const r = await sentinel(["canary", "--wait", "--timeout", "60", "--poll", "0.5"], { probes: { canary: FAST_CANARY } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const stages = [...r.stdout.matchAll(/^pass\s+(stage:\S+)/gm)].map((m) => m[1]);
    expect(stages).toEqual(["stage:accepted", "stage:created", "stage:outbox", "stage:published", "stage:queued", "stage:processing", "stage:started", "stage:completed", "stage:receipt"]);
    expect(r.stdout).toMatch(/settled: the pipeline carried it to its receipt/);
  }, 90_000);

  it("canary --wait on the portal's path (the default) follows that path's stages only, and names the stage a provider-less region stops at", async () => {
    const portal = { ...FAST_CANARY, path: "cross-region" };
    const r = await sentinel(["canary", "--wait", "--timeout", "60", "--poll", "0.5"], { probes: { canary: portal } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect([...r.stdout.matchAll(/^pass\s+(stage:\S+)/gm)].map((m) => m[1])).toEqual(["stage:accepted", "stage:created", "stage:started", "stage:completed", "stage:receipt"]);
    expect(r.stdout).toMatch(/on POST \/api\/v1\/jobs\/cross-region/);
    await sandbox.incidents.set("provider-missing:us-east", true);
    try {
      const stuck = await sentinel(["canary", "--wait", "--timeout", "60", "--poll", "0.5"], { probes: { canary: portal } });
      expect(stuck.code, stuck.stdout).toBe(1);
      expect(stuck.stdout).toMatch(/^FAILED at stage:started: \d+ s in queued: no execution row written by the in-process run/m);
    } finally {
      await sandbox.incidents.reset();
    }
  }, 150_000);

  it("canary --wait fails naming the stage while the worker is stopped, and passes again once it runs", async () => {
    await sandbox.incidents.set("worker-stopped", true);
    try {
      const r = await sentinel(["canary", "--wait", "--timeout", "60", "--poll", "0.5"], { probes: { canary: FAST_CANARY } });
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stdout).toMatch(/^FAILED at stage:processing: /m);
      expect(r.stdout).toMatch(/^pass\s+stage:queued/m);
    } finally {
      await sandbox.incidents.reset();
    }
    const again = await sentinel(["canary", "--wait", "--timeout", "60", "--poll", "0.5"], { probes: { canary: FAST_CANARY } });
    expect(again.code, again.stdout).toBe(0);
  }, 150_000);

  it("canary --wait times out naming the stage it waited for", async () => {
    await sandbox.incidents.set("worker-stopped", true);
    try {
      const r = await sentinel(["canary", "--wait", "--timeout", "2", "--poll", "0.5"], { probes: { canary: { ...FAST_CANARY, budgetsSeconds: { ...FAST_CANARY.budgetsSeconds, processing: 60 } } } });
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^TIMED OUT after \d+ s waiting for stage:processing/m);
    } finally {
      await sandbox.incidents.reset();
    }
  }, 60_000);
});

/** Every failing check the JUnit report names, as probe/check. */
const failuresIn = (xml: string) => [...xml.matchAll(/<testcase name="([^"]+)" classname="sentinel\.([^"]+)"[^>]*>\n\s*<failure/g)].map((m) => `${m[2]}/${m[1]}`);

/** The sandbox back to green: incidents off and the damage they wrote deleted (`sentinel sandbox --reset`). */
async function greenSandbox() {
  const response = await fetch(`${sandbox.url}/__sandbox/reset`, { method: "POST" });
  if (!response.ok) throw new Error(`sandbox reset: HTTP ${response.status}`);
}

describe.runIf(XMLLINT)("the deploy gate during each sandbox incident", () => {
  const gate = async () => {
    const canary = await sentinel(["canary", "--wait", "--timeout", "45", "--poll", "0.5"], { probes: { canary: FAST_CANARY } });
    const run = await sentinel(["run", "all", "--reporter", "junit"], { probes: { canary: FAST_CANARY } });
    return { canary, run, failed: [...new Set([...failuresIn(run.stdout), ...[...canary.stdout.matchAll(/^FAILED at (\S+):/gm)].map((m) => `canary/${m[1]}`)])] };
  };

  /** What the gate must name for each incident (README: the sandbox's incident table, and the canary's stages). */
  // The per-region switches (region-down:<r>, router-timeout:<r>) are judged by the regions probe, which needs several
  // finished executions per region before it judges: test/probe-regions.test.ts covers them.
  const NAMED: Record<Exclude<(typeof INCIDENT_NAMES)[number], `${string}:${string}`>, string> = {
    "no-outbox-row": "canary/stage:outbox", "payload-mismatch": "queue/message-contract", "legacy-text-output": "receipts/receipts",
    "executions-500": "receipts/executions-api", "empty-id": "receipts/id-mapping", "worker-stopped": "canary/stage:processing",
    "slow-worker": "canary/stage:started", "publisher-stopped": "canary/stage:published", "health-unhealthy": "health/runner-health", "lost-answer": "receipts/job-answers",
    "duplicate-executions": "receipts/job-answers", "undecodable-receipt": "receipts/receipts", "database-down": "health/runner-ready",
    "database-less": "health/runner-db", // /ready answers 200 there, as on the real runner
  };

  it.each(Object.keys(NAMED).map((n) => [n as keyof typeof NAMED] as const))("%s: the gate fails naming where, and passes once it is cleared", async (incident) => {
    await greenSandbox();
    await sandbox.incidents.set(incident, true);
    let during;
    try {
      during = await gate();
    } finally {
      await greenSandbox();
    }
    expect(Math.max(during.canary.code, during.run.code), `${incident}: ${during.canary.stdout}`).toBe(1);
    expect(during.failed, incident).toContain(NAMED[incident]);
    console.info(`${incident}: gate failed at ${during.failed.join(", ")}`);
    // Cleared (the sandbox back to green, its damage deleted): what failed passes again.
    const probes = [...new Set(during.failed.map((f) => f.split("/")[0]!).filter((p) => p !== "canary"))];
    if (during.failed.some((f) => f.startsWith("canary/"))) {
      const canary = await sentinel(["canary", "--wait", "--timeout", "45", "--poll", "0.5"], { probes: { canary: FAST_CANARY } });
      expect(canary.code, `${incident} cleared: ${canary.stdout}`).toBe(0);
    }
    for (const probe of probes) {
      const run = await sentinel(["run", probe, "--reporter", "junit"], { probes: { canary: FAST_CANARY } });
      expect(failuresIn(run.stdout), `${incident} cleared: ${probe}`).toEqual([]);
    }
  }, 240_000);
});
