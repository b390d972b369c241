import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { dayState, type Outcomes } from "../shared/status/days.ts";
import { historyProblems, historyReport, HistoryReport, uptimeText } from "../shared/status/days-report.ts";
import { renderStatusPage } from "../shared/status/page.ts";
import { encodeDocument } from "../shared/store/codec.ts";
import { createKeys } from "../shared/store/keys.ts";
import { httpFunction } from "../netlify/http/handler.ts";
import { historyRoute } from "../netlify/http/status-routes.ts";
import { formatHistory } from "../netlify/cli/history.ts";
import type { Runtime } from "../netlify/runtime.ts";
import { createUpstashClient, testServices } from "./support/env.ts";
import { startCountingProxy, type CountingProxy } from "./support/http-handlers.ts";
import { sentinelRuntime } from "./support/sentinel.ts";
import { DAYS, historyDocument, MISSING_DAY, NOW, PAGE_INCIDENT, RUNNER_API, RUNNER_API_TOTAL, TICKET_INCIDENT, storeHistory } from "./support/history-fixture.ts";

/** 90 days of history, built by hand with known counts, as the page's bars, GET /api/history and `beacon-sentinel history` show it. */

describe("a day's colour follows its uptime share (README: 90 days)", () => {
  it.each<[string, Outcomes, string]>([
    ["no-runs-no-data", [0, 0, 0, 0], "unknown"],
    ["all-passed", [1440, 0, 0, 0], "pass"],
    ["one-failed-run-in-1440-is-degraded-not-red", [1439, 0, 1, 0], "warn"],
    ["warned-runs-only-are-degraded", [1430, 10, 0, 0], "warn"],
    ["exactly-99-percent-is-degraded", [99, 0, 1, 0], "warn"],
    ["under-99-percent-fails", [98, 0, 2, 0], "fail"],
    ["nothing-judged-is-blind", [0, 0, 0, 5], "error"],
    ["ten-percent-blind-is-blind", [90, 0, 0, 10], "error"],
    ["one-blind-run-is-degraded", [1439, 0, 0, 1], "warn"],
    ["failing-outranks-blind", [50, 0, 50, 100], "fail"],
  ])("%s", (_rule, tally, state) => {
    expect(dayState(tally)).toBe(state);
  });
});

describe("the report (shared by page, API and CLI)", () => {
  const doc = historyDocument();
  const report = historyReport(doc, { days: 90 });
  const runner = report.stages.find((s) => s.id === "runner-api")!;

  it("lays 90 days on the calendar ending today, the stages in pipeline order, a missing day as no data", () => {
    expect(report).toMatchObject({ from: "2026-02-01", to: "2026-05-01", days: 90, checks: [] });
    expect(report.stages.map((s) => s.id)).toEqual(doc.stages.map((s) => s.id));
    expect(runner.days.map((d) => d.day)).toEqual(DAYS);
    expect(runner.days.find((d) => d.day === MISSING_DAY)).toMatchObject({ state: "unknown", runs: 0, uptime: null });
  });

  it("counts every run: exact totals, uptime, each named day's state, distinct incidents", () => {
    expect(runner.outcomes).toEqual(RUNNER_API_TOTAL);
    expect(runner.runs).toBe(126_520 + 1640);
    expect(runner.uptime).toBe(126_499 / 126_520);
    expect(uptimeText(runner.uptime)).toBe("99.98%");
    for (const [day, { state }] of Object.entries(RUNNER_API)) expect(runner.days.find((d) => d.day === day)?.state, day).toBe(state);
    expect(runner.days.filter((d) => d.state === "pass")).toHaveLength(85);
    expect(runner.incidents).toBe(1);
    expect(runner.days.find((d) => d.day === "2026-04-20")).toMatchObject({ incidents: [{ ...PAGE_INCIDENT, link: "/api/incidents/7" }], incidentsMore: 2 });
    const queue = report.stages.find((s) => s.id === "queue")!;
    expect(queue).toMatchObject({ incidents: 1, outcomes: { pass: 88 * 100 + 90, warn: 10, fail: 0, error: 0 }, uptime: 1 }); // one incident over two days
    expect(queue.days.filter((d) => d.incidents.some((i) => i.id === TICKET_INCIDENT.id)).map((d) => d.day)).toEqual(["2026-04-25", "2026-04-26"]);
  });

  it("narrows to the last days, one stage, and adds one check", () => {
    const narrow = historyReport(doc, { days: 12, stage: "runner-api", check: "health/runner-health" });
    expect(narrow).toMatchObject({ from: "2026-04-20", to: "2026-05-01", days: 12 });
    expect(narrow.stages.map((s) => s.id)).toEqual(["runner-api"]);
    expect(narrow.stages[0]!.outcomes).toEqual({ pass: 10 * 1440 + 1420 + 1240, warn: 0, fail: 20, error: 200 });
    expect(narrow.checks).toHaveLength(1);
    expect(narrow.checks[0]).toMatchObject({ id: "health/runner-health", outcomes: narrow.stages[0]!.outcomes });
    expect(narrow.checks[0]!.days.map((d) => d.state)).toEqual(narrow.stages[0]!.days.map((d) => d.state));
  });

  it.each([
    ["unknown-stage", { days: 90, stage: "nosuch" }, /unknown stage "nosuch"; the stages are portal, runner-api, .*queue/],
    ["unknown-check", { days: 90, check: "health/nosuch" }, /unknown check "health\/nosuch"; checks are named <probe>\/<check>: health\/runner-health, queue\/queue-depth/],
  ])("%s is a problem naming the known ones", (_rule, query, message) => {
    expect(historyProblems(doc, query).join("; ")).toMatch(message);
  });
});

describe("the status page's 90 days", () => {
  const html = renderStatusPage(historyDocument(), { now: NOW });
  const row = (stage: string) => new RegExp(`<li class="u-stage" data-stage="${stage}">[\\s\\S]*?</ol>`).exec(html)![0];
  const bars = (stage: string) => [...row(stage).matchAll(/<li class="day f-(\w+)([^"]*)" tabindex="0" data-day="([\d-]+)" data-state="(\w+)" aria-label="([^"]*)">/g)]
    .map((m) => ({ colour: m[1], classes: m[2]!.trim(), day: m[3], state: m[4], label: m[5]! }));

  it("draws one keyboard-focusable bar per day per stage, coloured by the day's state, missing days as no data", () => {
    const historyStages = historyDocument().stages.map((s) => s.id);
    for (const stage of historyStages) expect(bars(stage), stage).toHaveLength(90);
    const runner = bars("runner-api");
    expect(runner.map((b) => b.day)).toEqual(DAYS);
    for (const [day, { state }] of Object.entries(RUNNER_API)) expect(runner.find((b) => b.day === day), day).toMatchObject({ colour: state, state });
    expect(runner.find((b) => b.day === MISSING_DAY)).toMatchObject({ colour: "unknown" });
    expect(runner.find((b) => b.day === MISSING_DAY)!.label).toBe(`Runner API, ${MISSING_DAY}: No data; no runs; no incident`);
    expect(runner.filter((b) => b.state === "pass")).toHaveLength(85);
  });

  it("says each day in words (aria-label and its details), with that day's incidents linked to their stories", () => {
    const bar = bars("runner-api").find((b) => b.day === "2026-04-20")!;
    expect(bar.label).toBe("Runner API, 2026-04-20: Failing; 98.61% uptime, 1440 runs: 1420 passing, 20 failing, 0 blind; 1 incident: #7 runner-api: runner-health failing; 2 more that day in any stage");
    const tip = /data-day="2026-04-20"[^>]*><div class="tip">([\s\S]*?)<\/div><\/li>/.exec(row("runner-api"))![1]!;
    expect(tip).toContain('<a href="/api/incidents/7">#7 runner-api: runner-health failing</a>');
    expect(tip).toContain("98.61% uptime · 1440 runs: 1420 passing, 20 failing, 0 blind");
    expect(tip).toContain("2 more incidents that day (any stage)");
  });

  it("shows the uptime over the days shown: 90 wide, 60 and 30 on narrower screens (older bars classed to hide)", () => {
    expect(row("runner-api")).toContain('<span class="w90">99.98% uptime over 90 days · 1 incident</span>');
    expect(row("runner-api")).toContain('<span class="w30">99.95% uptime over 30 days · 1 incident</span>');
    const runner = bars("runner-api");
    expect(runner.filter((b) => b.classes.includes("o60"))).toHaveLength(30);
    expect(runner.filter((b) => b.classes.includes("o30"))).toHaveLength(60);
    expect(runner.slice(-30).every((b) => b.classes === "")).toBe(true);
  });

  it("has no 90-day section without history, and says so when history has no day yet", () => {
    expect(renderStatusPage(historyDocument(null), { now: NOW })).not.toContain('id="days-h"');
    expect(renderStatusPage(historyDocument([]), { now: NOW })).toContain("No day recorded yet");
  });
});

describe("GET /api/history", () => {
  let rt: Runtime;
  let proxy: CountingProxy;
  const prefix = `test-history-${randomUUID().slice(0, 8)}:`;
  const redis = createUpstashClient();

  beforeAll(async () => {
    const s = testServices();
    proxy = await startCountingProxy(s.redis.restUrl);
    rt = sentinelRuntime({ SENTINEL_REDIS_REST_URL: proxy.url, SENTINEL_REDIS_REST_TOKEN: s.redis.restToken, SENTINEL_KEY_PREFIX: prefix }, { requireBeacon: false, now: () => NOW });
    await storeHistory(redis, createKeys(prefix));
  });
  afterAll(async () => {
    await redis.del(createKeys(prefix).state, createKeys(prefix).pastDays);
    await rt?.close();
    await proxy?.close();
  });

  const get = (query: string) => httpFunction(historyRoute, () => rt)(new Request(`http://x/api/history${query}`));

  it("answers the report from one store read, cacheable until the next tick", async () => {
    proxy.reset();
    const response = await get("?days=30&stage=runner-api&check=health/runner-health");
    expect(response.status).toBe(200);
    expect(proxy.count()).toBe(1);
    expect(response.headers.get("cache-control")).toMatch(/max-age=\d+/);
    const body = HistoryReport.parse(await response.json());
    expect(body).toMatchObject({ version: 1, days: 30, from: "2026-04-02", to: "2026-05-01" });
    expect(body.stages.map((s) => s.id)).toEqual(["runner-api"]);
    expect(body.stages[0]!.outcomes).toEqual({ pass: 27 * 1440 + 1439 + 1420 + 1240, warn: 0, fail: 21, error: 200 });
    expect(body.checks.map((c) => c.id)).toEqual(["health/runner-health"]);
    expect(body.stages[0]!.days.map((d) => d.state)).toEqual(historyReport(historyDocument(), { days: 30, stage: "runner-api" }).stages[0]!.days.map((d) => d.state));
  });

  it("defaults to 90 days of every stage, no check", async () => {
    const body = HistoryReport.parse(await (await get("")).json());
    expect(body.days).toBe(90);
    expect(body.stages.find((s) => s.id === "runner-api")!.outcomes).toEqual(RUNNER_API_TOTAL);
    expect(body.checks).toEqual([]);
  });

  it.each([
    ["days-zero", "?days=0", "query.days: must be at least 1"],
    ["days-past-90", "?days=91", "query.days: must be at most 90"],
    ["days-not-a-number", "?days=lots", "query.days: must be a number"],
    ["days-fraction", "?days=1.5", "query.days: must be a whole number"],
    ["check-without-probe", "?check=runner-health", "query.check: must be <probe>/<check>"],
    ["unknown-stage", "?stage=nosuch", 'unknown stage "nosuch"; the stages are portal, runner-api'],
    ["unknown-check", "?check=health/nosuch", 'unknown check "health/nosuch"'],
  ])("%s is a 400 that says what to fix", async (_rule, query, message) => {
    const response = await get(query);
    expect(response.status).toBe(400);
    expect((await response.json() as { message: string }).message).toContain(message);
  });
});

describe("beacon-sentinel history", () => {
  const exec = promisify(execFile);
  const prefix = `test-history-cli-${randomUUID().slice(0, 8)}:`;
  const redis = createUpstashClient();
  let env: Record<string, string>;

  beforeAll(async () => {
    const s = testServices();
    env = { SENTINEL_REDIS_REST_URL: s.redis.restUrl, SENTINEL_REDIS_REST_TOKEN: s.redis.restToken, SENTINEL_KEY_PREFIX: prefix };
    await storeHistory(redis, createKeys(prefix));
  });
  afterAll(async () => void (await redis.del(createKeys(prefix).state, createKeys(prefix).pastDays)));

  async function cli(args: string[], extra: Record<string, string> = {}) {
    try {
      const { stdout, stderr } = await exec(process.execPath, ["netlify/bin/sentinel.mjs", "history", ...args], { env: { ...process.env, ...env, ...extra }, timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  it("prints per stage its uptime, incidents and a bar of the last 30 days", () => {
    const text = formatHistory(historyReport(historyDocument(), { days: 90, check: "health/runner-health" }));
    const lines = text.split("\n");
    expect(lines[0]).toBe("Uptime over 90 days, 2026-02-01 to 2026-05-01 (today so far)");
    // 30 days: 04-02 .. 05-01; X on 04-20, ~ on 04-10, ? on 04-30.
    const bar = "========~=========X=========?=";
    // Names padded to the longest (the check's, 20), so the columns line up.
    expect(lines).toContain(`runner-api              99.98%          1  ${bar}`);
    expect(lines).toContain("queue                     100%          1  =======================~======");
    expect(lines).toContain(`portal                 no data          0  ${".".repeat(30)}`);
    expect(lines.slice(-4)).toEqual(["check:", `health/runner-health    99.98%             ${bar}`, "", "= passing  ~ degraded  X failing  ? blind  . no data"]);
    expect(lines.filter((l) => /^\S+ +(\d|no data)/.test(l)).map((l) => l.split(" ")[0])).toEqual([...historyDocument().stages.map((s) => s.id), "health/runner-health"]);
  });

  it("--json is the API's report; exit 0", async () => {
    const out = await cli(["--json", "--days", "7", "--stage", "queue"]);
    expect(out.code, out.stderr).toBe(0);
    const report = HistoryReport.parse(JSON.parse(out.stdout));
    expect(report).toMatchObject({ days: 7, from: "2026-04-25" });
    expect(report.stages.map((s) => s.id)).toEqual(["queue"]);
  }, 30_000);

  it("before the first tick: every day without data, and says the document has no history; exit 0", async () => {
    const out = await cli(["--days", "5"], { SENTINEL_KEY_PREFIX: `${prefix}empty:` });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain("(the status document carries no history yet: every day shows no data)");
    expect(out.stdout).toMatch(/^runner-api +no data +0 +\.{5}$/m);
  }, 30_000);

  it.each([
    ["days-past-90", ["--days", "91"], "--days: must be at most 90"],
    ["unknown-stage", ["--stage", "nosuch"], 'unknown stage "nosuch"; the stages are portal'],
  ])("%s exits 64 saying what to fix", async (_rule, args, message) => {
    const out = await cli(args);
    expect(out.code).toBe(64);
    expect(out.stderr).toContain(message);
  }, 30_000);
});
