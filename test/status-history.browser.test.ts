import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { httpFunction } from "../netlify/http/handler.ts";
import { pageRoute } from "../netlify/http/status-routes.ts";
import type { Runtime } from "../netlify/runtime.ts";
import { createKeys } from "../shared/store/keys.ts";
import { createUpstashClient, testServices } from "./support/env.ts";
import { serveHandlers, type Served } from "./support/http-handlers.ts";
import { sentinelRuntime } from "./support/sentinel.ts";
import { NOW, storeHistory } from "./support/history-fixture.ts";

/**
 * The status page's 90 days in real Chromium, with the hand-built history of test/support/history-fixture.ts
 * served through the real page route (its CSP, its script): keyboard only, a bar's details show with
 * its incident and the link to its story is reachable; hover shows them too; 90, 60 and 30 bars by
 * width with no horizontal overflow; axe finds nothing at 320 and 1280 px.
 */
const ARTIFACTS = path.resolve(import.meta.dirname, "artifacts");
const CHROMIUM = (() => {
  try {
    return execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
})();
const SKIP = CHROMIUM === undefined && process.env.CI !== "true";
if (SKIP) console.warn("\n*** SKIPPED the 90-day status page browser test: chromium is not installed (apt-get install -y chromium)\n");
const AXE = path.resolve(import.meta.dirname, "../node_modules/axe-core/axe.min.js");
const NO_AXE = !existsSync(AXE) && process.env.CI !== "true";
if (NO_AXE && !SKIP) console.warn(`\n*** SKIPPED the 90-day page's axe checks: axe-core is not installed (${AXE})\n`);

const prefix = `test-history-page-${randomUUID().slice(0, 8)}:`;
let rt: Runtime;
let server: Served;
let browser: Browser;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  if (SKIP) return;
  const s = testServices();
  rt = sentinelRuntime({ SENTINEL_REDIS_REST_URL: s.redis.restUrl, SENTINEL_REDIS_REST_TOKEN: s.redis.restToken, SENTINEL_KEY_PREFIX: prefix }, { requireBeacon: false, now: () => NOW });
  await storeHistory(createUpstashClient(), createKeys(prefix));
  server = await serveHandlers({ "/status": httpFunction(pageRoute, () => rt) });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("console", (m) => void (m.type() === "error" && problems.push(`console: ${m.text()}`)));
  page.on("pageerror", (e) => void problems.push(`page error: ${e.message}`));
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (rt) await createUpstashClient().del(createKeys(prefix).state, createKeys(prefix).pastDays);
  await rt?.close();
});

/** What has the focus: its tag, day and text, for readable failures. */
const focused = () => page.evaluate(() => {
  const e = document.activeElement as HTMLElement | null;
  return { tag: e?.tagName.toLowerCase() ?? "", day: e?.dataset.day ?? "", stage: e?.closest("[data-stage]")?.getAttribute("data-stage") ?? "", text: e?.textContent?.trim().slice(0, 80) ?? "" };
});
const tip = (stage: string, day: string) => page.locator(`.u-stage[data-stage="${stage}"] .day[data-day="${day}"] .tip`);

describe.skipIf(SKIP)(`the 90 days in chromium${SKIP ? " (SKIPPED: chromium is not installed)" : ""}`, () => {
  it("keyboard only: Tab reaches a stage's bars (one stop per stage), arrows move between days, the day's details show with its incident, and Tab reaches the incident's link", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${server.url}/status`);
    let presses = 0;
    while ((await focused()).stage !== "portal" && presses++ < 40) await page.keyboard.press("Tab");
    expect(await focused()).toMatchObject({ tag: "li", stage: "portal", day: "2026-05-01" }); // the row's latest day
    await page.keyboard.press("Tab");
    expect(await focused()).toMatchObject({ tag: "li", stage: "runner-api", day: "2026-05-01" }); // one stop per row, not 90
    expect(await tip("runner-api", "2026-04-20").isVisible()).toBe(false);
    for (let i = 0; i < 11; i++) await page.keyboard.press("ArrowLeft");
    expect(await focused()).toMatchObject({ stage: "runner-api", day: "2026-04-20" });
    const details = tip("runner-api", "2026-04-20");
    expect(await details.isVisible()).toBe(true);
    expect(await details.innerText()).toContain("98.61% uptime");
    expect(await details.locator("a").first().innerText()).toBe("#7 runner-api: runner-health failing");
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.locator('section[aria-labelledby="days-h"]').screenshot({ path: path.join(ARTIFACTS, "status-history-focus.png") });
    await page.keyboard.press("Tab");
    expect(await focused()).toMatchObject({ tag: "a", text: "#7 runner-api: runner-health failing" });
    expect(await details.isVisible()).toBe(true); // still open while its link has the focus
    expect(await page.evaluate(() => (document.activeElement as HTMLAnchorElement).getAttribute("href"))).toBe("/api/incidents/7");
    await page.keyboard.press("Shift+Tab");
    expect(await focused()).toMatchObject({ stage: "runner-api", day: "2026-04-20" });
    await page.keyboard.press("Home");
    expect(await focused()).toMatchObject({ stage: "runner-api", day: "2026-02-01" });
  });

  it("hover shows a day's details too", async () => {
    await page.goto(`${server.url}/status`);
    await page.locator('.u-stage[data-stage="queue"] .day[data-day="2026-04-25"]').hover();
    const details = tip("queue", "2026-04-25");
    expect(await details.isVisible()).toBe(true);
    expect(await details.innerText()).toContain("#8 queue: queue-depth degraded");
  });

  it.each([[1280, 90, "99.98% uptime over 90 days"], [800, 60, "99.97% uptime over 60 days"], [320, 30, "99.95% uptime over 30 days"]])(
    "at %i px: %i bars per stage, the uptime over those days, no horizontal overflow", async (width, bars, uptime) => {
      await page.setViewportSize({ width, height: 900 });
      await page.goto(`${server.url}/status`);
      const row = page.locator('.u-stage[data-stage="runner-api"]');
      expect(await row.locator(".day:visible").count()).toBe(bars);
      expect(await row.locator(".u-sum").innerText()).toContain(uptime);
      const overflow = await page.evaluate(() => ({
        page: document.documentElement.scrollWidth - window.innerWidth,
        wide: [...document.querySelectorAll("main *")].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).map((e) => `${e.tagName}.${e.className}`).slice(0, 5),
      }));
      expect(overflow).toEqual({ page: 0, wide: [] });
      // A bar stays wide enough to see and point at.
      expect((await row.locator(".day:visible").first().boundingBox())!.width).toBeGreaterThanOrEqual(6);
      await page.locator('section[aria-labelledby="days-h"]').screenshot({ path: path.join(ARTIFACTS, `status-history-${width}.png`) });
    });

  it.skipIf(NO_AXE).each([320, 1280])("axe finds no violation at %i px with history, a day's details open", async (width) => {
    const context = await browser.newContext({ bypassCSP: true, viewport: { width, height: 900 } });
    try {
      const p = await context.newPage();
      await p.goto(`${server.url}/status`);
      await p.locator('.u-stage[data-stage="runner-api"] .day[data-day="2026-04-20"]').focus();
      expect(await p.locator('.u-stage[data-stage="runner-api"] .day[data-day="2026-04-20"] .tip').isVisible()).toBe(true);
      await p.addScriptTag({ path: AXE });
      const violations = await p.evaluate(async () => {
        type Result = { violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] };
        const result = await (window as unknown as { axe: { run: (c: Document) => Promise<Result> } }).axe.run(document);
        return result.violations.flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${v.help} at ${n.target.map(String).join(" ")}`));
      });
      expect(violations).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("raised no error in the page (the CSP allowed its script)", () => {
    expect(problems).toEqual([]);
  });
});
