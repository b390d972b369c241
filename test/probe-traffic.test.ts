import { Redis as UpstashRedis } from "@upstash/redis";
import type { StateCarrier } from "./support/results.ts";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BeaconSettings } from "../shared/beacon/settings.ts";
import { Settings } from "../shared/config/index.ts";
import { silentLogger } from "../shared/log.ts";
import type { ProbeContext, ProbeOutput } from "../shared/probes/types.ts";
import { parseExposition } from "../shared/probes/traffic/exposition.ts";
import { trafficProbe } from "../shared/probes/traffic/index.ts";
import { TrafficState } from "../shared/probes/traffic/counters.ts";
import { recordOwnRequest, routeTemplate, runnerOf, takeOwnRequests } from "../shared/beacon/own-requests.ts";
import type { TrafficSettings } from "../shared/probes/traffic/settings.ts";
import { measure, runProbe } from "../shared/runner.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { createHarness, type Harness } from "./sandbox/testing.ts";
import { Metrics } from "./sandbox/metrics.ts";
import { testServices } from "./support/env.ts";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A stand-in /metrics endpoint whose answer each test sets. */
let server: Server;
let baseUrl: string;
let handler: Handler = (_req, res) => res.end();
const text = (body: string, status = 200): Handler => (_req, res) => {
  res.writeHead(status, { "content-type": "text/plain; version=0.0.4" });
  res.end(body);
};

beforeAll(async () => {
  server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

let clock = new Date("2025-09-13T10:00:00Z");
const advance = (seconds: number) => (clock = new Date(clock.getTime() + seconds * 1000));

function ctx(previousState: unknown, overrides: Partial<TrafficSettings> = {}, apiUrl: string | null = baseUrl): ProbeContext<TrafficSettings> {
  return {
    deps: { now: () => clock, fetch, log: silentLogger },
    settings: trafficProbe.settings.parse(overrides),
    beacon: BeaconSettings.parse({}),
    targets: { ...(apiUrl ? { apiUrl } : {}), healthUrls: [] },
    signal: new AbortController().signal,
    previousState,
  };
}

const byName = (out: ProbeOutput) => Object.fromEntries(out.checks.map((c) => [c.name, c]));

/** Scrapes `first`, then `second` 300 s later; returns the second run. */
async function window(first: string, second: string, overrides: Partial<TrafficSettings> = {}) {
  handler = text(first);
  const baseline = await trafficProbe.run(ctx(undefined, overrides));
  advance(300);
  handler = text(second);
  return trafficProbe.run(ctx(baseline.state, overrides));
}

/** Beacon's metrics as the sandbox renders them (same names, labels and default buckets). */
/** One scrape of the sandbox's metrics, from one and the same process (start time pinned) unless `fill` says otherwise. */
function beacon(fill: (m: Metrics) => void): string {
  const m = new Metrics();
  m.set("process_start_time_seconds", 1000);
  fill(m);
  return m.render();
}
const requests = (m: Metrics, path: string, status: number, n: number) => m.inc("http_requests_total", { path, method: "GET", status: String(status) }, n);
const latencies = (m: Metrics, region: string, seconds: number[]) => seconds.forEach((s) => m.observe("runner_queue_latency_seconds", s, { region }));

afterEach(() => {
  handler = (_req, res) => res.end();
});

describe("Prometheus text parsing", () => {
  it("keeps every label set of a labelled histogram (parse-prometheus-text-format collapses them)", () => {
    const parsed = parseExposition(beacon((m) => {
      latencies(m, "US", [1, 2]);
      latencies(m, "EU", [1, 2, 3]);
    }));
    expect(parsed.ok).toBe(true);
    const counts = parsed.ok ? parsed.samples.filter((s) => s.name === "runner_queue_latency_seconds_count") : [];
    expect(counts.map((s) => [s.labels.region, s.value])).toEqual([["US", 2], ["EU", 3]]);
  });

  it("keeps the last sample when the body has no final newline", () => {
    const parsed = parseExposition("# TYPE jobs_processed_total counter\njobs_processed_total 5");
    expect(parsed.ok && parsed.samples).toEqual([{ name: "jobs_processed_total", labels: {}, value: 5 }]);
  });

  it.each([
    ["an HTML error page", "<html><body>502 Bad Gateway</body></html>"],
    ["JSON", '{"status":"ok"}'],
    ["words", "hello world"],
    ["a broken label set", 'http_requests_total{status=200} 1'],
    ["only comments", "# HELP x y\n# TYPE x counter\n"],
    ["an empty body", ""],
  ])("rejects %s with evidence", (_name, body) => {
    const parsed = parseExposition(body);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? [] : parsed.evidence.length).toBeGreaterThan(0);
  });
});

describe("traffic probe (stand-in /metrics)", () => {
  it("records a baseline on the first scrape and passes, without events", async () => {
    handler = text(beacon((m) => requests(m, "/api/v1/jobs/:id", 200, 5)));
    const out = await trafficProbe.run(ctx(undefined));
    expect(out.checks.map((c) => [c.name, c.status])).toEqual([
      ["scrape", "pass"], ["requests", "pass"], ["5xx-ratio", "pass"], ["job-success", "pass"], ["queue-latency", "pass"],
    ]);
    expect(byName(out).requests?.message).toMatch(/baseline recorded \(.*first scrape\)/);
    expect(out.events).toBeUndefined();
    expect(TrafficState.parse(out.state).scrapedAt).toBe(clock.toISOString());
  });

  it("turns counter increases into checks and SLI events", async () => {
    const out = await window(
      beacon((m) => requests(m, "/api/v1/jobs/:id", 200, 10)),
      beacon((m) => {
        requests(m, "/api/v1/jobs/:id", 200, 45);
        requests(m, "/api/v1/jobs", 404, 5);
        requests(m, "/metrics", 200, 99); // the scrape itself: ignored
        m.inc("jobs_processed_total", {}, 4);
        latencies(m, "US", [0.2, 1, 3]);
        latencies(m, "EU", [0.5]);
      }),
    );
    const c = byName(out);
    expect(out.checks.every((k) => k.status === "pass")).toBe(true);
    // Beacon's default buckets stop at 10 s: no measure of "within 120 s", so no queue-latency event.
    expect(out.events).toEqual({ requests: { good: 40, total: 40 }, jobs: { good: 4, total: 4 } });
    expect(c.requests?.message).toMatch(/40 requests since 2025-09-13T10:00:00.000Z \(300 s\): 2xx 35, 4xx 5/);
    expect(c["5xx-ratio"]?.observed).toBe(0);
    expect(c["queue-latency"]?.message).toMatch(/le="10", the largest <= 120 s: a lower bound, so at most a warning, and not an SLO source/);
  });

  it("fails 5xx-ratio and names the failing routes", async () => {
    const out = await window(
      beacon((m) => requests(m, "/api/v1/jobs/:id", 200, 1)),
      beacon((m) => {
        requests(m, "/api/v1/jobs/:id", 200, 21);
        requests(m, "/api/v1/executions", 500, 10);
      }),
    );
    const c = byName(out)["5xx-ratio"];
    expect(c).toMatchObject({ status: "fail", observed: 10 / 30, threshold: "<= 0.05", evidence: ["/api/v1/executions -> 500: 10"] });
    expect(out.events?.requests).toEqual({ good: 20, total: 30 });
  });

  it("leaves out health, readiness and liveness routes (503 by design, called by probers): the error rate is the users'", async () => {
    const out = await window(
      beacon((m) => requests(m, "/api/v1/jobs/:id", 200, 1)),
      beacon((m) => {
        requests(m, "/api/v1/jobs/:id", 200, 41);
        requests(m, "/health", 503, 12);
        requests(m, "/health/ready", 503, 12);
        requests(m, "/api/v1/health/ready", 503, 3);
        requests(m, "/health/live", 200, 7);
        requests(m, "/api/v1/jobs", 500, 2);
      }),
    );
    expect(out.events?.requests).toEqual({ good: 40, total: 42 });
    expect(byName(out)["5xx-ratio"]).toMatchObject({ observed: 2 / 42, status: "pass" }); // 4.8%, under the 5% bound; the 503s would have made it 31%
  });

  it("subtracts the sentinel's own requests per route and status, never below zero, and not twice for ignored routes", async () => {
    handler = text(beacon((m) => requests(m, "/api/v1/jobs/:id", 200, 1)));
    const baseline = await trafficProbe.run(ctx(undefined));
    advance(300);
    handler = text(beacon((m) => {
      requests(m, "/api/v1/jobs/:id", 200, 11); // +10, 3 of them ours
      requests(m, "/api/v1/executions", 500, 4); // +4, all ours
      requests(m, "/api/v1/jobs", 500, 1); // +1, a user's
      requests(m, "/health", 503, 5); // ignored by route
    }));
    // Ours: carried by the tick in the state, and one recorded in this process; 2 more 500s than Beacon counted (clamped).
    const own = { "GET /api/v1/jobs/:id 200": 2, "GET /api/v1/executions 500": 6, "GET /health 503": 5 };
    recordOwnRequest(runnerOf(baseUrl), "GET", "/api/v1/jobs/:id", 200);
    recordOwnRequest("http://another-runner:8090", "GET", "/api/v1/jobs/:id", 200); // another sentinel's, in this process
    const out = await trafficProbe.run(ctx({ ...(baseline.state as object), own }));
    expect(out.events?.requests).toEqual({ good: 7, total: 8 });
    expect(byName(out)["requests"]!.message).toMatch(/; 7 of the sentinel's own requests left out \(2 more found no matching increase\)$/);
    expect(takeOwnRequests(runnerOf(baseUrl))).toEqual({}); // the run took what this process recorded for its runner
    expect(takeOwnRequests("http://another-runner:8090")).toEqual({ "GET /api/v1/jobs/:id 200": 1 });
  });

  it("names our request URLs with Beacon's route templates (static routes before parameters, unmatched paths as is)", () => {
    const routes = BeaconSettings.parse({}).routes;
    expect(routeTemplate("/api/v1/jobs", routes)).toBe("/api/v1/jobs");
    expect(routeTemplate("/api/v1/jobs/cross-region", routes)).toBe("/api/v1/jobs/cross-region");
    expect(routeTemplate("/api/v1/jobs/sentinel-canary-1", routes)).toBe("/api/v1/jobs/:id");
    expect(routeTemplate("/api/v1/jobs/j1/executions/all", routes)).toBe("/api/v1/jobs/:id/executions/all");
    expect(routeTemplate("/api/v1/executions/42/receipt", routes)).toBe("/api/v1/executions/:id/receipt");
    expect(routeTemplate("/api/v1/jobs/", routes)).toBe("/api/v1/jobs/");
    expect(routeTemplate("/nope", routes)).toBe("/nope");
  });

  it("fails job-success when jobs_failed_total outgrows jobs_processed_total", async () => {
    const out = await window(beacon(() => {}), beacon((m) => {
      m.inc("jobs_processed_total", {}, 1);
      m.inc("jobs_failed_total", {}, 3);
    }));
    expect(byName(out)["job-success"]).toMatchObject({ status: "fail", observed: 0.25, evidence: ["jobs_failed_total +3", "jobs_processed_total +1"] });
    expect(out.events?.jobs).toEqual({ good: 1, total: 4 });
  });

  it("warns (cannot fail on a lower bound) per region when jobs wait past the 10 s bucket", async () => {
    const out = await window(beacon(() => {}), beacon((m) => {
      latencies(m, "US", [200, 300, 1]);
      latencies(m, "EU", [0.1]);
    }));
    expect(byName(out)["queue-latency"]).toMatchObject({ status: "warn", observed: 0.5, evidence: ["region US: 2 of 3 waited > 10 s"] });
    expect(out.events?.["queue-latency"]).toBeUndefined();
  });

  it("uses the le=\"120\" bucket itself when Beacon exports one", async () => {
    const histogram = (good: number, total: number) =>
      `runner_queue_latency_seconds_bucket{region="US",le="60"} ${good}\nrunner_queue_latency_seconds_bucket{region="US",le="120"} ${good}\n` +
      `runner_queue_latency_seconds_bucket{region="US",le="+Inf"} ${total}\nrunner_queue_latency_seconds_count{region="US"} ${total}\n` +
      "jobs_processed_total 0\njobs_failed_total 0\n";
    const out = await window(histogram(0, 0), histogram(9, 10));
    expect(byName(out)["queue-latency"]).toMatchObject({ status: "pass", observed: 0.9 });
    expect(byName(out)["queue-latency"]?.message).toMatch(/within 120 s .*\(bucket le="120"\)/);
    expect(out.events?.["queue-latency"]).toEqual({ good: 9, total: 10 });
    const slow = await window(histogram(0, 0), histogram(5, 10));
    expect(byName(slow)["queue-latency"]).toMatchObject({ status: "fail", observed: 0.5 });
  });

  it("treats a counter that went down as reset: the current value is the increase", async () => {
    const out = await window(
      beacon((m) => {
        requests(m, "/api/v1/jobs/:id", 200, 500);
        m.inc("jobs_processed_total", {}, 50);
      }),
      beacon((m) => {
        requests(m, "/api/v1/jobs/:id", 200, 30);
        m.inc("jobs_processed_total", {}, 2);
      }),
    );
    expect(out.events).toMatchObject({ requests: { good: 30, total: 30 }, jobs: { good: 2, total: 2 } });
    expect(byName(out).scrape?.message).toMatch(/counters reset/);
  });

  it("treats a changed process start time as a restart, even when counters grew past their old values", async () => {
    const out = await window(
      beacon((m) => { m.set("process_start_time_seconds", 1000); m.inc("jobs_processed_total", {}, 5); }),
      beacon((m) => { m.set("process_start_time_seconds", 2000); m.inc("jobs_processed_total", {}, 7); }),
    );
    expect(out.events?.jobs).toEqual({ good: 7, total: 7 });
    expect(byName(out).scrape?.message).toMatch(/runner restarted/);
  });

  it.each([
    ["a stale previous scrape", 2 * 3600, { version: 1, scrapedAt: "2025-09-13T10:00:00.000Z", latencyLe: null, series: {} }, /older than 60 min/],
    ["an unreadable previous state", 60, { counters: "??" }, /previous state unreadable/],
  ])("records a new baseline instead of diffing against %s", async (_name, later, previous, why) => {
    advance(later);
    handler = text(beacon((m) => requests(m, "/api/v1/jobs/:id", 200, 5)));
    const out = await trafficProbe.run(ctx(previous));
    expect(out.checks.every((c) => c.status === "pass")).toBe(true);
    expect(byName(out).requests?.message).toMatch(why);
    expect(out.events).toBeUndefined();
    expect(out.state).toBeDefined();
  });

  it("reports job-success as not measured when the job counters are not exported", async () => {
    const out = await window('http_requests_total{path="/api/v1/jobs/:id",method="GET",status="200"} 1\n', 'http_requests_total{path="/api/v1/jobs/:id",method="GET",status="200"} 9\n');
    expect(byName(out)["job-success"]).toMatchObject({ status: "error", message: expect.stringMatching(/jobs_processed_total or jobs_failed_total is not exported/) });
    expect(out.events).toEqual({ requests: { good: 8, total: 8 } });
  });

  const huge = "x".repeat(3 * 1024 * 1024);
  it.each([
    ["garbage", text("<html>oops</html>"), "fail", /not the Prometheus text format/],
    ["a 404", text("404 page not found", 404), 404, /HTTP 404/],
    ["a 500", text("boom", 500), 500, /HTTP 500/],
    ["a body over 2 MiB", text(`jobs_processed_total 1\n# ${huge}`), 2 * 1024 * 1024, /body larger than 2097152 bytes/],
    ["a NaN counter", text("jobs_processed_total NaN\njobs_failed_total 0\n"), 1, /negative or not finite/],
    ["a negative counter", text("jobs_processed_total -4\njobs_failed_total 0\n"), 1, /negative or not finite/],
  ] as const)("fails the scrape on %s, with evidence, and keeps the previous state", async (_name, h, observed, message) => {
    handler = h;
    const out = await trafficProbe.run(ctx(undefined));
    const scrape = byName(out).scrape;
    expect(scrape?.status).toBe("fail");
    if (typeof observed === "number") expect(scrape?.observed).toBe(observed);
    expect(scrape?.message).toMatch(message);
    expect(scrape?.evidence.length).toBeGreaterThan(0);
    expect(out.checks.filter((c) => c.name !== "scrape").every((c) => c.status === "error")).toBe(true);
    expect(out.state).toBeUndefined();
    expect(out.events).toBeUndefined();
  });

  it("fails the scrape when /metrics hangs (bounded by requestTimeoutMs)", async () => {
    handler = () => {}; // never answers
    const out = await trafficProbe.run(ctx(undefined, { requestTimeoutMs: 150 }));
    expect(byName(out).scrape).toMatchObject({ status: "fail", observed: "timeout", message: expect.stringMatching(/no answer within 150 ms/) });
  });

  it("fails the scrape when nothing listens", async () => {
    const out = await trafficProbe.run(ctx(undefined, {}, "http://127.0.0.1:9"));
    expect(byName(out).scrape).toMatchObject({ status: "fail", evidence: ["http://127.0.0.1:9/metrics"] });
    expect(["refused", "network"]).toContain(byName(out).scrape?.observed);
  });

  it("reports every check as not measured without BEACON_API_URL", async () => {
    const out = await trafficProbe.run(ctx(undefined, {}, null));
    expect(out.checks.every((c) => c.status === "error")).toBe(true);
  });
});

describe("traffic probe against the Beacon sandbox, through the runner and the store", () => {
  const services = testServices();
  let h: Harness;
  let prefix: string;
  let sandbox: Sandbox;

  beforeAll(async () => {
    h = await createHarness();
    prefix = h.prefix;
    sandbox = await h.start({ sigBypass: true, executionDelayMs: 5 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("keeps counters between runs in the store and emits the window's events", async () => {
    // As the tick keeps it: the state a run returns is the next run's previous state.
    const store: StateCarrier = {};
    const settings = Settings.parse({ probes: { traffic: { minRequests: 1, minJobs: 1 } } });
    const run = async () => {
      const m = await measure(trafficProbe, {
        deps: { now: () => new Date(), fetch, log: silentLogger }, settings, targets: { apiUrl: sandbox.url, healthUrls: [] }, redact: (t) => t, previousState: store.state,
      });
      if (m.state !== undefined) store.state = m.state;
      return m.result;
    };

    const first = await run();
    expect(first.status).toBe("pass");
    expect(first.events).toBeUndefined();

    const submitted = await fetch(`${sandbox.url}/api/v1/jobs`, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ jobspec_id: `${prefix}traffic-1`, version: "v1", benchmark: { name: "traffic", container: { image: "alpine" }, input: { hash: "h" } },
        constraints: { regions: ["US"] }, questions: ["math_basic"] }),
    });
    expect(submitted.status).toBe(202);
    await sandbox.drain();
    sandbox.incidents.set("executions-500", true);
    for (let i = 0; i < 3; i++) expect((await fetch(`${sandbox.url}/api/v1/executions`)).status).toBe(500);
    sandbox.incidents.set("executions-500", false);

    const second = await run();
    expect(second.events?.jobs).toEqual({ good: 1, total: 1 });
    expect(second.events?.["queue-latency"]).toBeUndefined(); // the sandbox exports Beacon's default buckets (up to 10 s)
    expect(second.events?.requests).toMatchObject({ total: 4 });
    const ratio = second.checks.find((c) => c.name === "5xx-ratio");
    expect(ratio).toMatchObject({ status: "fail", evidence: ["/api/v1/executions -> 500: 3"] });
    expect(TrafficState.parse(store.state).series["jobs|processed"]).toBe(1);
  });
});
