import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { metricsRoute } from "../netlify/http/status-routes.ts";
import { httpFunction } from "../netlify/http/handler.ts";
import { tick } from "../netlify/tick.ts";
import type { Runtime } from "../netlify/runtime.ts";
import { ALERT_NAME, SELF_ALERTS } from "../shared/export/prometheus-rules.ts";
import { grafanaDashboard } from "../shared/export/grafana-dashboard.ts";
import { createHarness, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { sentinelEnv, sentinelRuntime } from "./support/sentinel.ts";
import { serveHandlers, type Served } from "./support/http-handlers.ts";
import { requirePrometheus, startPrometheus, type PrometheusServer } from "./support/prometheus-server.ts";

/**
 * The exported rules and dashboard against a real Prometheus server (Debian's `prometheus`): it scrapes
 * /api/metrics as a deployment serves it (the project's own handler, status behind a bearer token, over
 * a real store fed by real ticks against the sandbox) and evaluates `beacon-sentinel export
 * prometheus-rules` every second. Healthy: every rule evaluates without error and no sentinel alert is
 * pending or firing. The runner's health failing: SentinelProbeFailing fires for the health probe, and
 * only it. Ticks stopped: SentinelStalled fires once its threshold passed, not before, and resolves
 * with the next tick. Every query of the Grafana dashboard parses and returns data from that server.
 */

const HAVE_PROMETHEUS = requirePrometheus();
const exec = promisify(execFile);
/** The stall threshold for this test (the export's default is 5 minutes; ticks here run every second or so). */
const STALL_SECONDS = 15;
/** Probes the test ticks: the runner's health (the fault's root) and two that depend on it. */
const PROBES = ["health", "queue", "outbox"];
/**
 * One SLO on the health probe's availability events, judged from the first few events (target 50%, no
 * minimum), so its burn rate and budget have samples within seconds for the dashboard's queries. Its
 * alerts cannot page (the page factors need an error ratio above 1 at this target).
 */
const SLOS = [{ id: "runner-up", title: "Runner up", target: 0.5, periodDays: 1, minEvents: 0, sources: ["health:availability"] }];
const SELF = new Set<string>(Object.values(SELF_ALERTS));
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface PromAlert {
  labels: Record<string, string>;
  state: "pending" | "firing";
  activeAt: string;
}

let h: Harness;
let sandbox: Sandbox;
let rt: Runtime;
let served: Served;
let prom: PrometheusServer;
let ticking = false;
let ticker: Promise<void> = Promise.resolve();
const tickErrors: string[] = [];

async function tickOnce(): Promise<void> {
  const report = await tick(rt, { write: true, probes: PROBES, lockWaitMs: 25_000 });
  if (report.skipped) throw new Error(`tick skipped: ${report.skipped}`);
}

/** Ticks in the background, one after another with a short pause, until stopTicking(). */
function startTicking() {
  ticking = true;
  ticker = (async () => {
    while (ticking) {
      await tickOnce().catch((e: Error) => void tickErrors.push(e.message));
      await pause(500);
    }
  })();
}
async function stopTicking() {
  ticking = false;
  await ticker;
}

/** The sentinel's alerts in Prometheus (pending or firing): the self group's and the SLO burn alerts. */
async function sentinelAlerts(): Promise<PromAlert[]> {
  const { alerts } = (await prom.api("/alerts")) as { alerts: PromAlert[] };
  return alerts.filter((a) => SELF.has(a.labels.alertname!) || a.labels.alertname === ALERT_NAME);
}

/** Polls `fn` every 250 ms until it returns a value other than undefined; fails with `what` and the last seen state. */
async function until<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>, seen: () => Promise<unknown> = sentinelAlerts): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms; last seen ${JSON.stringify(await seen())}; tick errors: ${tickErrors.join(" | ")}`);
    await pause(250);
  }
}

const describeReal = describe.skipIf(!HAVE_PROMETHEUS);

describeReal("the exported rules in a real Prometheus", () => {
  beforeAll(async () => {
    h = await createHarness();
    sandbox = await h.start();
    const token = randomBytes(18).toString("base64url");
    const env = sentinelEnv(h, sandbox, { slos: SLOS }, { SENTINEL_PUBLIC_STATUS: "false", SENTINEL_STATUS_TOKEN: token });
    rt = sentinelRuntime(env);
    // A stored tick before the first scrape: without one the sentinel counts as stalled (no tick metric).
    await tickOnce();
    served = await serveHandlers({ "/api/metrics": httpFunction(metricsRoute, () => rt) });
    // What an unauthenticated scraper would get: the status routes are private here.
    expect((await fetch(`${served.url}/api/metrics`)).status).toBe(401);
    // The rules as an operator exports them, from the same SENTINEL_SETTINGS.
    const { stdout: rules } = await exec(process.execPath, ["netlify/bin/sentinel.mjs", "export", "prometheus-rules", "--stalled-after", String(STALL_SECONDS / 60)], {
      env: { ...process.env, SENTINEL_SETTINGS: env.SENTINEL_SETTINGS }, timeout: 30_000,
    });
    prom = await startPrometheus({ target: `${served.url}/api/metrics`, rules, bearerToken: token });
    startTicking();
  }, 90_000);
  afterAll(async () => {
    await stopTicking();
    await prom?.stop();
    await served?.close();
    await rt?.close();
    await h?.close();
  });

  it("healthy: the scrape is up, every rule evaluates without error, and no sentinel alert is pending or firing", async () => {
    const up = await until("the scrape of /api/metrics up", 20_000, async () => {
      const { activeTargets } = (await prom.api("/targets")) as { activeTargets: { health: string; lastError: string; scrapeUrl: string }[] };
      return activeTargets[0]?.health === "up" ? activeTargets[0] : undefined;
    }, async () => prom.api("/targets"));
    expect(up.scrapeUrl).toBe(`${served.url}/api/metrics`);
    // Evaluated on scraped data: every rule group has run after the first sample arrived.
    const scrapedAt = Date.now();
    const groups = await until("every rule evaluated after the first scrape", 20_000, async () => {
      const { groups: g } = (await prom.api("/rules")) as { groups: { name: string; rules: { name: string; query: string; health: string; lastError?: string; lastEvaluation: string; type: string }[] }[] };
      return g.every((x) => x.rules.every((r) => Date.parse(r.lastEvaluation) > scrapedAt + 1000)) ? g : undefined;
    }, async () => prom.api("/rules"));
    const rules = groups.flatMap((g) => g.rules);
    expect(groups.map((g) => g.name)).toContain("sentinel-self");
    expect(rules.find((r) => r.name === SELF_ALERTS.stalled)?.query).toContain(`sentinel_last_tick_timestamp_seconds > ${STALL_SECONDS}`);
    expect(rules.filter((r) => r.health !== "ok").map((r) => `${r.name}: ${r.health} ${r.lastError ?? ""}`)).toEqual([]);
    expect(rules.filter((r) => r.type === "alerting").map((r) => r.name).sort()).toEqual(expect.arrayContaining([...SELF].sort()));
    // The probes really passed, as Prometheus scraped them.
    const states = (await prom.api("/query", { query: 'sentinel_probe_state{state="pass"} == 1' })).result.map((s: { metric: { probe: string } }) => s.metric.probe).sort();
    expect(states).toEqual([...PROBES].sort());
    expect(await sentinelAlerts()).toEqual([]);
    expect(tickErrors).toEqual([]);
  }, 60_000);

  it("the runner's health failing: SentinelProbeFailing fires for the health probe, the only page; it resolves once health passes", async () => {
    sandbox.incidents.set("health-unhealthy", true);
    try {
      const firing = await until("SentinelProbeFailing firing", 30_000, async () => {
        const alerts = await sentinelAlerts();
        return alerts.some((a) => a.labels.alertname === SELF_ALERTS.probeFailing && a.state === "firing") ? alerts : undefined;
      });
      // A few more evaluations: nothing else joins it (the probes behind the runner are held, not failing).
      await pause(3000);
      const alerts = (await sentinelAlerts()).filter((a) => a.labels.severity === "page");
      expect(alerts.map((a) => ({ alertname: a.labels.alertname, probe: a.labels.probe, severity: a.labels.severity, state: a.state }))).toEqual([
        { alertname: SELF_ALERTS.probeFailing, probe: "health", severity: "page", state: "firing" },
      ]);
      expect(firing.filter((a) => a.labels.severity === "page").length).toBe(1);
    } finally {
      sandbox.incidents.set("health-unhealthy", false);
    }
    await until("SentinelProbeFailing resolved", 30_000, async () => ((await sentinelAlerts()).some((a) => a.labels.alertname === SELF_ALERTS.probeFailing) ? undefined : true));
    expect(tickErrors).toEqual([]);
  }, 90_000);

  it(`ticks stopped: SentinelStalled fires once ${STALL_SECONDS} s pass without a stored tick, not before, and resolves with the next tick`, async () => {
    await stopTicking();
    await pause(2000); // the last tick's sample has been scraped
    const lastTick = Number((await prom.api("/query", { query: "sentinel_last_tick_timestamp_seconds" })).result[0].value[1]);
    expect(Date.now() / 1000 - lastTick).toBeLessThan(STALL_SECONDS);
    const stalled = await until("SentinelStalled firing", (STALL_SECONDS + 20) * 1000, async () =>
      (await sentinelAlerts()).find((a) => a.labels.alertname === SELF_ALERTS.stalled && a.state === "firing"));
    const activeAfter = Date.parse(stalled.activeAt) / 1000 - lastTick;
    console.info(`SentinelStalled active ${activeAfter.toFixed(1)} s after the last stored tick (threshold ${STALL_SECONDS} s)`);
    expect(activeAfter).toBeGreaterThan(STALL_SECONDS);
    expect(activeAfter).toBeLessThan(STALL_SECONDS + 10);
    expect(stalled.labels.severity).toBe("page");
    await tickOnce();
    await until("SentinelStalled resolved after a tick", 15_000, async () =>
      ((await sentinelAlerts()).some((a) => a.labels.alertname === SELF_ALERTS.stalled) ? undefined : true));
    startTicking();
  }, 90_000);

  it("every query of the Grafana dashboard parses and returns data from the scraped /api/metrics", async () => {
    const dashboard = grafanaDashboard() as { panels: { title: string; targets?: { expr: string }[] }[]; templating: { list: { query: { query: string } }[] } };
    // Grafana replaces $slo (multi-value, "All") by a regex of the values: `.*` stands for All.
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t, i) => ({ what: `${p.title} #${i}`, expr: t.expr.replaceAll("$slo", ".*") })));
    expect(exprs.length).toBeGreaterThan(10);
    const empty: string[] = [];
    for (const { what, expr } of exprs) {
      const data = (await prom.api("/query", { query: expr })) as { resultType: string; result: unknown[] };
      if (data.result.length === 0) empty.push(`${what}: ${expr}`);
    }
    expect(empty).toEqual([]);
    // The SLO variable (Grafana's label_values(metric, label)) through Prometheus' label API.
    const variable = /^label_values\((\w+), (\w+)\)$/.exec(dashboard.templating.list[0]!.query.query)!;
    expect(await prom.api(`/label/${variable[2]}/values`, { "match[]": variable[1]! })).toEqual(SLOS.map((s) => s.id));
    // A query Prometheus cannot parse fails loudly through the same path (the check above can fail).
    await expect(prom.api("/query", { query: "max by (probe (sentinel_probe_state)" })).rejects.toThrow(/bad_data/);
  }, 60_000);
});
