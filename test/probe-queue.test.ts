import { createServer, type AddressInfo } from "node:net";
import http from "node:http";
import { once } from "node:events";
import { checkOf, type StateCarrier } from "./support/results.ts";
import { Redis as UpstashRedis } from "@upstash/redis";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseQueueMessage } from "../shared/beacon/envelope.ts";
import { Settings } from "../shared/config/index.ts";
import { silentLogger } from "../shared/log.ts";
import { queueProbe, type QueueSettings } from "../shared/probes/queue/index.ts";
import type { ProbeResult } from "../shared/result.ts";
import { measure } from "../shared/runner.ts";
import { call, createHarness, jobSpec, submit, waitFor, waitForStatus, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { createDirectRedis, testServices } from "./support/env.ts";
import { randomPrefix } from "./support/isolation.ts";

const services = testServices();

/** Forwards Upstash REST requests to `target` and counts requests and the commands in them (a pipeline's each). */
async function startCommandCounter(target: string) {
  let requests = 0, commands = 0;
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const parsed: unknown = body.length ? JSON.parse(body.toString("utf8")) : [];
      requests++;
      commands += Array.isArray(parsed) && Array.isArray(parsed[0]) ? parsed.length : 1;
      const forward = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstream.host } }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forward.on("error", () => res.writeHead(502).end());
      forward.end(body);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts: () => ({ requests, commands }),
    reset: () => void (requests = commands = 0),
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
const REDIS_LABEL = "https://beacon-redis.test";
const ALL_CHECKS = ["queue-depth", "queue-latency", "message-contract", "retry-overdue", "dead-letter-growth"];

/** The production client's shape: raw values, no retries (so an outage is immediate). */
function upstash(url = services.redis.restUrl, token = services.redis.restToken): UpstashRedis {
  return new UpstashRedis({ url, token, automaticDeserialization: false, retry: false, enableTelemetry: false });
}

interface RunOptions {
  queueName: string;
  now: Date;
  settings?: Partial<QueueSettings>;
  redis?: UpstashRedis | undefined;
  store?: StateCarrier;
}

async function run(o: RunOptions): Promise<ProbeResult> {
  const { result, state } = await measure(queueProbe, {
    deps: { now: () => o.now, fetch, log: silentLogger, ...(o.redis === undefined && "redis" in o ? {} : { beaconRedis: o.redis ?? upstash() }) },
    settings: Settings.parse({ beacon: { queue: { name: o.queueName } }, probes: { queue: o.settings ?? {} } }),
    targets: { healthUrls: [], redisLabel: REDIS_LABEL },
    redact: (text) => text,
    previousState: o.store?.state,
  });
  if (o.store && state !== undefined) o.store.state = state;
  return result;
}


function expectAllPass(result: ProbeResult) {
  expect(result.checks.filter((c) => c.status !== "pass").map((c) => `${c.name}: ${c.message} ${c.evidence.join(" | ")}`)).toEqual([]);
  expect(result.checks.map((c) => c.name)).toEqual(ALL_CHECKS);
}

const iso = (ms: number) => new Date(ms).toISOString();
const envelope = (id: string, enqueuedMs: number) => JSON.stringify({ id, enqueued_at: iso(enqueuedMs), attempt: 0, request_id: "" });
const jobMessage = (jobspecId: string, enqueuedMs: number, extra: Record<string, unknown> = {}) => JSON.stringify({
  id: `${jobspecId}:${enqueuedMs}000000`, jobspec_id: jobspecId, action: "execute", payload: null,
  attempts: 1, max_retries: 3, enqueued_at: iso(enqueuedMs), last_attempt: "0001-01-01T00:00:00Z", ...extra,
});

it("runs every 5 minutes in the tick and keeps state between runs", () => {
  expect(queueProbe.schedule).toBe("*/5 * * * *");
  expect(queueProbe.stateful).toBe(true);
});

describe("parseQueueMessage: what a queue value is, and which job it runs", () => {
  const T = "2025-09-13T10:00:00.123456789Z";
  it.each([
    { rule: "flat-envelope", raw: JSON.stringify({ id: "job-1", enqueued_at: T, attempt: 0, request_id: "" }), kind: "envelope", jobId: "job-1" },
    { rule: "flat-envelope-with-offset-time", raw: JSON.stringify({ id: "job-1", enqueued_at: "2025-09-13T12:00:00+02:00", attempt: 2 }), kind: "envelope", jobId: "job-1" },
    { rule: "job-message", raw: jobMessage("job-2", 0), kind: "job-message", jobId: "job-2" },
    { rule: "dead-lettered-flat-envelope-falls-back-to-id", raw: JSON.stringify({ id: "job-3", jobspec_id: "", action: "", payload: null, attempts: 1, max_retries: 0, enqueued_at: T, last_attempt: T, error: "job not found" }), kind: "job-message", jobId: "job-3" },
    { rule: "job-message-payload-names-the-job", raw: jobMessage("", 0, { id: "job-4:1", payload: { id: "job-4" } }), kind: "job-message", jobId: "job-4" },
    { rule: "payload-mismatch", raw: jobMessage("", 0, { id: "job-5:1", payload: { job_id: "job-5" } }), kind: "invalid", reason: 'JobMessage "job-5:1": empty jobspec_id and a payload without an id (payload mismatch: no job to run)' },
    { rule: "job-message-naming-nothing", raw: jobMessage("", 0, { id: "" }), kind: "invalid", reason: 'JobMessage "": empty jobspec_id and empty id (payload mismatch: no job to run)' },
    { rule: "missing-attempt", raw: JSON.stringify({ id: "job-6", enqueued_at: T }), kind: "invalid", jobId: "job-6", reason: "missing key attempt" },
    { rule: "mistyped-attempt", raw: JSON.stringify({ id: "job-7", enqueued_at: T, attempt: "0" }), kind: "invalid", jobId: "job-7", reason: "attempt: Invalid input: expected number, received string" },
    { rule: "not-json", raw: "\u0000\u00ffgarbage", kind: "invalid", reason: 'not JSON (9 chars, starts "??garbage")' },
    { rule: "json-null", raw: "null", kind: "invalid", reason: "not a JSON object (null)" },
    { rule: "long-id-is-cut", raw: JSON.stringify({ id: "x".repeat(500), enqueued_at: T, attempt: 0 }), kind: "envelope", jobId: `${"x".repeat(120)}…` },
  ])("$rule", ({ raw, kind, jobId, reason }) => {
    const parsed = parseQueueMessage(raw);
    expect(parsed.kind).toBe(kind);
    if (jobId !== undefined) expect(parsed.jobId).toBe(jobId);
    if (reason !== undefined) expect(parsed).toMatchObject({ reason });
  });
});

describe("queue probe on messages injected into Redis", () => {
  /** A fixed clock: every age below is exact. */
  const NOW = Date.parse("2026-01-01T12:00:00Z");
  const now = new Date(NOW);
  let direct: Redis;
  let queueName: string;
  let keys: { main: string; retry: string; dead: string };
  beforeAll(() => {
    direct = createDirectRedis(services);
  });
  afterEach(async () => {
    const left = await direct.keys(`${queueName}*`);
    if (left.length) await direct.del(...left);
  });
  afterAll(() => direct.quit());
  const fresh = () => {
    queueName = `${randomPrefix()}jobs`;
    keys = { main: queueName, retry: `${queueName}:retry`, dead: `${queueName}:dead` };
  };

  it("passes on an empty queue and on a healthy one, and counts processing markers", async () => {
    fresh();
    expectAllPass(await run({ queueName, now }));
    await direct.rpush(keys.main, envelope("job-a", NOW - 5_000), envelope("job-b", NOW - 1_000));
    await direct.lpush(keys.dead, jobMessage("job-z", NOW - 60_000, { attempts: 3, error: "old failure" }));
    for (let i = 0; i < 3; i++) await direct.set(`${queueName}:processing:job-${i}:1`, "{}", "EX", 600);
    await direct.set(`${queueName}-other:processing:x`, "not ours");
    const result = await run({ queueName, now, settings: { maxScanCalls: 5 } });
    expectAllPass(result);
    const depth = checkOf(result, "queue-depth");
    expect(depth.observed).toBe(2);
    expect(depth.message).toBe(`${queueName}: 2 waiting; ${queueName}:retry: 0; ${queueName}:dead: 1; ${queueName}:processing:*: 3 markers`);
    // By default no SCAN: the markers are not counted, and not claimed.
    expect(checkOf(await run({ queueName, now }), "queue-depth").message).toBe(`${queueName}: 2 waiting; ${queueName}:retry: 0; ${queueName}:dead: 1`);
    expect(checkOf(result, "queue-latency")).toMatchObject({ observed: 5, message: "oldest waiting message enqueued 5 s ago" });
  });

  it("reads a healthy queue in one request of 3 commands; a key longer than its sample costs one more request of at most 5", async () => {
    fresh();
    const proxy = await startCommandCounter(services.redis.restUrl);
    const counted = upstash(proxy.url);
    try {
      await direct.rpush(keys.main, envelope("job-a", NOW - 5_000), envelope("job-b", NOW - 1_000));
      await direct.zadd(keys.retry, NOW / 1000 - 600, jobMessage("job-r", NOW - 700_000));
      await direct.lpush(keys.dead, jobMessage("job-z", NOW - 60_000, { attempts: 3, error: "old failure" }));
      const small = await run({ queueName, now, redis: counted, settings: { sampleSize: 5 } });
      expect(proxy.counts()).toEqual({ requests: 1, commands: 3 });
      expect(checkOf(small, "queue-depth").message).toBe(`${queueName}: 2 waiting; ${queueName}:retry: 1; ${queueName}:dead: 1`);
      expect(checkOf(small, "retry-overdue")).toMatchObject({ status: "fail", observed: 1 });
      proxy.reset();
      // Every key as long as the sample or longer: lengths, the main list's tail and the overdue count are asked for.
      await direct.rpush(keys.main, ...Array.from({ length: 7 }, (_, i) => envelope(`m-${i}`, NOW - 1_000)));
      for (let i = 0; i < 6; i++) await direct.zadd(keys.retry, NOW / 1000 + 60, jobMessage(`r-${i}`, NOW));
      for (let i = 0; i < 4; i++) await direct.lpush(keys.dead, jobMessage(`d-${i}`, NOW, { error: "x" }));
      const full = await run({ queueName, now, redis: counted, settings: { sampleSize: 5 } });
      expect(proxy.counts()).toEqual({ requests: 2, commands: 3 + 5 });
      expect(checkOf(full, "queue-depth")).toMatchObject({ observed: 9, message: `${queueName}: 9 waiting; ${queueName}:retry: 7; ${queueName}:dead: 5` });
      expect(checkOf(full, "retry-overdue")).toMatchObject({ observed: 1, message: "1 of 7 retry entries overdue by more than 120 s" });
      expect(checkOf(full, "queue-latency")).toMatchObject({ observed: 5, message: "oldest waiting message enqueued 5 s ago" });
      proxy.reset();
      await run({ queueName, now, redis: counted, settings: { sampleSize: 5, maxScanCalls: 2 } });
      // SCAN walks the whole shared test database, whose size other test files change: at least one
      // page and never more than maxScanCalls, one request each, after the 3 + 5 commands above.
      const { requests, commands } = proxy.counts();
      const scans = commands - 8;
      expect(scans).toBeGreaterThanOrEqual(1);
      expect(scans).toBeLessThanOrEqual(2);
      expect(requests).toBe(2 + scans);
    } finally {
      await proxy.close();
    }
  });

  it("queue-depth fails above its threshold and names the list", async () => {
    fresh();
    await direct.rpush(keys.main, ...Array.from({ length: 4 }, (_, i) => envelope(`d-${i}`, NOW)));
    const c = checkOf(await run({ queueName, now, settings: { depthWarnCount: 1, depthFailCount: 3 } }), "queue-depth");
    expect(c).toMatchObject({ status: "fail", observed: 4, evidence: [`${queueName}: 4 waiting`] });
    await direct.del(keys.main);
    expectAllPass(await run({ queueName, now, settings: { depthWarnCount: 1, depthFailCount: 3 } }));
  });

  it("queue-latency finds the oldest message at index 0, the end BRPOP reaches last (RPUSH + BRPOP is LIFO)", async () => {
    fresh();
    // RPUSH in enqueue order: the oldest sits at index 0, the next popped (newest) at index -1.
    await direct.rpush(keys.main, envelope("oldest", NOW - 900_000), ...Array.from({ length: 8 }, (_, i) => envelope(`mid-${i}`, NOW - 60_000)), envelope("newest", NOW - 1_000));
    const c = checkOf(await run({ queueName, now, settings: { sampleSize: 3, latencyWarnSeconds: 120, latencyFailSeconds: 300 } }), "queue-latency");
    expect(c).toMatchObject({ status: "fail", observed: 900 });
    expect(c.evidence).toEqual([`${queueName}[0] job oldest: waiting 900 s`]);
    expect(c.message).toContain("sampled both ends, 6 of 10");
  });

  it("queue-latency also sees LPUSHed JobMessages, whose oldest is at the tail", async () => {
    fresh();
    await direct.lpush(keys.main, jobMessage("lp-old", NOW - 700_000), jobMessage("lp-new", NOW - 2_000));
    const c = checkOf(await run({ queueName, now, settings: { latencyFailSeconds: 600 } }), "queue-latency");
    expect(c).toMatchObject({ status: "fail", observed: 700, evidence: [`${queueName}[1] job lp-old: waiting 700 s`] });
    await direct.del(keys.main);
    expect(checkOf(await run({ queueName, now, settings: { latencyFailSeconds: 600 } }), "queue-latency").status).toBe("pass");
  });

  it("retry-overdue fails when entries sit past their retry time, naming the job", async () => {
    fresh();
    const late = jobMessage("retry-late", NOW - 900_000);
    await direct.zadd(keys.retry, Math.floor(NOW / 1000) - 600, late, Math.floor(NOW / 1000) + 60, jobMessage("retry-future", NOW));
    const c = checkOf(await run({ queueName, now, settings: { retryOverdueSeconds: 120 } }), "retry-overdue");
    expect(c).toMatchObject({ status: "fail", observed: 1, evidence: [`${queueName}:retry[0] job retry-late: due 600 s ago (attempts 1/3)`] });
    await direct.zrem(keys.retry, late);
    expectAllPass(await run({ queueName, now, settings: { retryOverdueSeconds: 120 } }));
  });

  // Hostile or mismatched messages: each must fail message-contract with its position and reason.
  const hostile: { rule: string; push(): Promise<unknown>; evidence: (q: string) => RegExp }[] = [
    { rule: "binary-garbage", push: () => direct.rpush(keys.main, Buffer.from([0xff, 0xfe, 0x00, 0x9c, 0x41, 0x0a])), evidence: (q) => new RegExp(`^${q}\\[0\\]: not JSON \\(`) },
    { rule: "json-number", push: () => direct.rpush(keys.main, "42"), evidence: (q) => new RegExp(`^${q}\\[0\\]: not a JSON object \\(number\\)$`) },
    { rule: "json-array", push: () => direct.rpush(keys.main, "[1,2]"), evidence: (q) => new RegExp(`^${q}\\[0\\]: not a JSON object \\(array\\)$`) },
    { rule: "envelope-empty-id", push: () => direct.rpush(keys.main, envelope("", NOW)), evidence: (q) => new RegExp(`^${q}\\[0\\]: id: must not be empty$`) },
    { rule: "envelope-missing-attempt", push: () => direct.rpush(keys.main, JSON.stringify({ id: "m-1", enqueued_at: iso(NOW) })), evidence: (q) => new RegExp(`^${q}\\[0\\] job m-1: missing key attempt$`) },
    { rule: "envelope-bad-time", push: () => direct.rpush(keys.main, JSON.stringify({ id: "t-1", enqueued_at: "yesterday", attempt: 0 })), evidence: (q) => new RegExp(`^${q}\\[0\\] job t-1: enqueued_at: not an RFC 3339 time$`) },
    { rule: "huge-message", push: () => direct.rpush(keys.main, `{"id":"h-1","blob":"${"x".repeat(1_000_000)}"}`), evidence: (q) => new RegExp(`^${q}\\[0\\] job h-1: missing key enqueued_at; missing key attempt$`) },
    { rule: "job-message-naming-no-job-in-retry", push: () => direct.zadd(keys.retry, Math.floor(NOW / 1000) + 60, jobMessage("", NOW, { id: "m:1", payload: { job_id: "j-1" } })), evidence: (q) => new RegExp(`^${q}:retry\\[0\\]: JobMessage "m:1": empty jobspec_id and a payload without an id \\(payload mismatch: no job to run\\)$`) },
    { rule: "job-message-missing-fields-in-dead", push: () => direct.lpush(keys.dead, JSON.stringify({ id: "x:1", jobspec_id: "x", error: "boom" })), evidence: (q) => new RegExp(`^${q}:dead\\[0\\] job x: JobMessage: missing key action`) },
  ];

  it.each(hostile)("message-contract fails on $rule, and passes once it is gone", async ({ push, evidence }) => {
    fresh();
    await push();
    const result = await run({ queueName, now });
    const c = checkOf(result, "message-contract");
    expect(c.status, c.message).toBe("fail");
    expect(c.evidence, c.evidence.join("\n")).toEqual([expect.stringMatching(evidence(queueName))]);
    expect(c.evidence[0]!.length).toBeLessThan(300);
    expect(result.checks.map((x) => x.name)).toEqual(ALL_CHECKS);
    await direct.del(keys.main, keys.retry, keys.dead);
    expectAllPass(await run({ queueName, now }));
  });

  it("a key of the wrong type fails its checks with Redis's refusal as evidence", async () => {
    fresh();
    await direct.set(keys.main, "not a list");
    const result = await run({ queueName, now });
    expect(checkOf(result, "queue-depth")).toMatchObject({ status: "fail", observed: null });
    expect(checkOf(result, "queue-depth").evidence[0]).toMatch(new RegExp(`^${queueName}: LRANGE failed: WRONGTYPE`));
    expect(checkOf(result, "queue-latency").status).toBe("fail");
  });

  it("dead-letter-growth: baseline, growth with errors as evidence, purge and refill, then quiet", async () => {
    fresh();
    const store = {} as StateCarrier;
    const first = await run({ queueName, now, store });
    expect(checkOf(first, "dead-letter-growth")).toMatchObject({ status: "pass", observed: null });
    expect(store.state).toEqual({ deadLength: 0, deadHead: null });

    await direct.lpush(keys.dead, jobMessage("dead-1", NOW, { attempts: 3, error: "executor: ROUTER_TIMEOUT" }));
    await direct.lpush(keys.dead, jobMessage("dead-2", NOW, { attempts: 3, error: "job not found" }));
    const grown = checkOf(await run({ queueName, now, store }), "dead-letter-growth");
    expect(grown).toMatchObject({ status: "fail", observed: 2, message: "2 new dead messages since the previous run (0 -> 2): 2 lost" });
    expect(grown.evidence).toEqual([
      `${queueName}:dead[0] job dead-2: job not found (attempts 3/3)`,
      `${queueName}:dead[1] job dead-1: executor: ROUTER_TIMEOUT (attempts 3/3)`,
    ]);
    expectAllPass(await run({ queueName, now, store }));

    // An identical message pushed again still counts (length), and a purge + refill is all new.
    await direct.lpush(keys.dead, jobMessage("dead-2", NOW, { attempts: 3, error: "job not found" }));
    expect(checkOf(await run({ queueName, now, store }), "dead-letter-growth").observed).toBe(1);
    await direct.del(keys.dead);
    await direct.lpush(keys.dead, jobMessage("dead-3", NOW, { attempts: 3, error: "boom" }));
    expect(checkOf(await run({ queueName, now, store }), "dead-letter-growth")).toMatchObject({ status: "fail", observed: 1 });
    expect(checkOf(await run({ queueName, now, store }), "dead-letter-growth").status).toBe("pass");
  });

  it("dead-letter-growth: a dead entry that records a run the JobRunner failed is not a lost message; a lost one still fails", async () => {
    // job_runner.go returns "multi-region execution failed: …" for a job it marked failed; a flat envelope
    // read as a JobMessage has max_retries 0, so the advanced Dequeue dead-letters it at once.
    fresh();
    const store = {} as StateCarrier;
    await run({ queueName, now, store });
    const record = jobMessage("job-f", NOW, { id: "job-f", jobspec_id: "", action: "", max_retries: 0, error: "multi-region execution failed: hybrid execution failed: <nil>" });
    await direct.lpush(keys.dead, record);
    const recorded = checkOf(await run({ queueName, now, store }), "dead-letter-growth");
    expect(recorded).toMatchObject({ status: "pass", observed: 0,
      message: "1 new dead messages since the previous run (0 -> 1): 0 lost; 1 record runs that failed (their jobs read failed and count in job-success; a flat envelope has max_retries 0), not lost messages" });
    expect(recorded.evidence).toEqual([`${queueName}:dead[0] job job-f: multi-region execution failed: hybrid execution failed: <nil> (attempts 1/0) [a failed run's record]`]);
    await direct.lpush(keys.dead, jobMessage("dead-9", NOW, { attempts: 1, error: "get job: job not found: " }));
    expect(checkOf(await run({ queueName, now, store }), "dead-letter-growth")).toMatchObject({ status: "fail", observed: 1 });
  });

  it("Redis unreachable or refusing the token: every check is error, and the stored state survives", async () => {
    fresh();
    const store = {} as StateCarrier;
    await run({ queueName, now, store });
    const before = store.state;
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    for (const redis of [upstash(`http://127.0.0.1:${closedPort}`, "x"), upstash(services.redis.restUrl, "wrong-token")]) {
      const result = await run({ queueName, now, store, redis });
      expect(result.status).toBe("error");
      expect(result.checks.map((c) => [c.name, c.status])).toEqual(ALL_CHECKS.map((n) => [n, "error"]));
      expect(result.checks[0]!.message).toMatch(new RegExp(`^${REDIS_LABEL}: could not measure: (fetch failed \\(ECONNREFUSED\\)|.*Unauthorized)`));
      expect(result.checks[0]!.evidence).toEqual([REDIS_LABEL]);
    }
    expect(store.state).toEqual(before);
    const unconfigured = await run({ queueName, now, redis: undefined });
    expect(unconfigured.checks[0]).toMatchObject({ status: "error", message: `${REDIS_LABEL}: not measured: BEACON_REDIS_REST_URL is not set` });
  });

  it("stops scanning for processing markers at maxScanCalls and says the count is partial", async () => {
    fresh();
    const pipeline = direct.pipeline();
    for (let i = 0; i < 300; i++) pipeline.set(`${queueName}:processing:m-${i}`, "{}", "EX", 600);
    await pipeline.exec();
    const c = checkOf(await run({ queueName, now, settings: { scanCount: 10, maxScanCalls: 2 } }), "queue-depth");
    expect(c.message).toMatch(/: at least \d+ markers \(SCAN stopped after 2 calls\)$/);
    const complete = checkOf(await run({ queueName, now, settings: { scanCount: 1_000, maxScanCalls: 1_000 } }), "queue-depth");
    expect(complete.message).toMatch(/: 300 markers$/);
  });
});

describe("queue probe against the Beacon sandbox's incidents", () => {
  let h: Harness;
  let s: Sandbox;
  let store: StateCarrier;
  /** Ten minutes after now: messages the sandbox enqueues now are ten minutes old to the probe. */
  const later = () => new Date(Date.now() + 600_000);
  beforeAll(async () => {
    h = await createHarness();
    s = await h.start({ sigBypass: true });
    store = {};
  });
  afterEach(() => s.incidents.reset());
  afterAll(() => h?.close());

  const runSandbox = (settings: Partial<QueueSettings> = {}) => run({ queueName: s.queueName, now: later(), store, settings });

  it("passes while the pipeline is healthy", async () => {
    const spec = jobSpec();
    await submit(s, spec);
    await waitForStatus(s, String(spec["jobspec_id"]), "completed");
    expectAllPass(await runSandbox());
    expectAllPass(await runSandbox());
  });

  it("worker-stopped: depth and latency fail with the waiting jobs' ids, then drain", async () => {
    s.incidents.set("worker-stopped", true);
    const specs = [jobSpec(), jobSpec()];
    for (const spec of specs) expect((await submit(s, spec)).status).toBe(202);
    await waitFor(async () => (await h.redis.llen(s.keys.main)) === 2, "two waiting messages");
    const result = await runSandbox({ depthWarnCount: 0, depthFailCount: 1, latencyWarnSeconds: 60, latencyFailSeconds: 300 });
    expect(checkOf(result, "queue-depth")).toMatchObject({ status: "fail", observed: 2 });
    const latency = checkOf(result, "queue-latency");
    expect(latency.status).toBe("fail");
    expect(latency.evidence).toHaveLength(2);
    for (const spec of specs) expect(latency.evidence.join("\n")).toMatch(new RegExp(`job ${String(spec["jobspec_id"])}: waiting 6\\d\\d s`));
    s.incidents.set("worker-stopped", false);
    for (const spec of specs) await waitForStatus(s, String(spec["jobspec_id"]), "completed");
    expectAllPass(await runSandbox({ depthWarnCount: 0, depthFailCount: 1 }));
  });

  it("a queue-path job that ran and failed leaves a dead letter recording its run, not a lost message", async () => {
    expectAllPass(await runSandbox());
    s.incidents.set("region-down:us-east", true);
    const spec = jobSpec(); // US only: every execution fails, the job fails, the handler returns its error
    await submit(s, spec);
    await waitForStatus(s, String(spec["jobspec_id"]), "failed");
    await waitFor(async () => (await h.redis.llen(s.keys.dead)) === 1, "the failed run's dead letter");
    const dead = checkOf(await runSandbox(), "dead-letter-growth");
    expect(dead).toMatchObject({ status: "pass", observed: 0, message: expect.stringContaining("1 record runs that failed") });
    expect(dead.evidence).toEqual([expect.stringMatching(new RegExp(`^${s.keys.dead}\\[0\\] job ${String(spec["jobspec_id"])}: multi-region execution failed: .*\\[a failed run's record\\]$`))]);
    await h.redis.del(s.keys.dead);
    expectAllPass(await runSandbox());
  });

  it("a dead-lettered outbox envelope is dead-letter growth, not a contract breach", async () => {
    expectAllPass(await runSandbox());
    await h.redis.rpush(s.keys.main, JSON.stringify({ id: "ghost-job", enqueued_at: new Date().toISOString(), attempt: 0, request_id: "" }));
    await waitFor(async () => (await h.redis.llen(s.keys.dead)) === 1, "the ghost job dead-lettered");
    const result = await runSandbox();
    expect(checkOf(result, "message-contract").status).toBe("pass");
    const growth = checkOf(result, "dead-letter-growth");
    expect(growth).toMatchObject({ status: "fail", observed: 1 });
    expect(growth.evidence).toEqual([expect.stringMatching(new RegExp(`^${s.keys.dead}\\[0\\] job ghost-job: .+ \\(attempts 1/0\\)$`))]);
    expectAllPass(await runSandbox()); // nothing new since
    await h.redis.del(s.keys.dead);
    expectAllPass(await runSandbox());
  });

  it("payload-mismatch: the dead list grows with messages that carry no job id", async () => {
    expectAllPass(await runSandbox()); // the baseline before the incident
    s.incidents.set("payload-mismatch", true);
    const spec = jobSpec();
    await submit(s, spec);
    await waitFor(async () => (await h.redis.llen(s.keys.dead)) === 1, "a dead-lettered message");
    const result = await runSandbox();
    const growth = checkOf(result, "dead-letter-growth");
    expect(growth).toMatchObject({ status: "fail", observed: 1 });
    expect(growth.evidence[0]).toMatch(new RegExp(`^${s.keys.dead}\\[0\\]: .+ \\(attempts 1/0\\) \\[invalid: JobMessage "${String(spec["jobspec_id"])}:\\d+": empty jobspec_id and a payload without an id \\(payload mismatch: no job to run\\)\\]$`));
    const contract = checkOf(result, "message-contract");
    expect(contract.status).toBe("fail");
    expect(contract.evidence).toEqual([expect.stringMatching(new RegExp(`^${s.keys.dead}\\[0\\]: JobMessage "${String(spec["jobspec_id"])}:\\d+": empty jobspec_id and a payload without an id`))]);

    s.incidents.set("payload-mismatch", false);
    await h.redis.del(s.keys.dead); // the operator's purge, after republishing
    const republished = await call(`${s.url}/emergency/republish-stuck-jobs`, { method: "POST" });
    expect(republished.status).toBe(200);
    await waitForStatus(s, String(spec["jobspec_id"]), "completed");
    expectAllPass(await runSandbox());
  });
});
