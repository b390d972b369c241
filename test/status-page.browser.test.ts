import { evaluateNow, recordRun } from "./support/sentinel.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { httpFunction } from "../netlify/http/handler.ts";
import { badgeRoute, metricsRoute, pageRoute, statusRoute } from "../netlify/http/status-routes.ts";
import { incidentsRoute } from "../netlify/http/incidents.ts";
import { PROBES } from "../shared/probes/catalog.ts";
import { healthProbe } from "../shared/probes/health/index.ts";
import { runProbe } from "../shared/runner.ts";
import type { Runtime } from "../netlify/runtime.ts";
import { createHarness, jobSpec, submit, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { sentinelEnv, sentinelRuntime } from "./support/sentinel.ts";
import { canaryRig, type CanaryRig } from "./support/canary.ts";
import { generateKeyPair } from "../shared/beacon/signing.ts";
import { serveHandlers, type Served } from "./support/http-handlers.ts";

/**
 * The status page in a real headless browser (Debian's chromium driven by playwright-core): it renders,
 * its one inline script runs under the page's CSP, it refreshes itself, and during an incident the
 * failing stage shows as failing. The screenshot is kept in test/artifacts/ (gitignored).
 */
const ARTIFACTS = path.resolve(import.meta.dirname, "artifacts");
const SCREENSHOT = path.join(ARTIFACTS, "status-page.png");

const MISSING = "chromium is not installed, so the status page cannot be tested in a browser. Install Debian's package: apt-get install -y chromium (.ci/run does this).";

function findChromium(): string | undefined {
  try {
    return execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * CI must run this test (and .ci/run installs chromium). On a developer's machine without chromium the
 * rest of `npm test` still runs, and this file says loudly, in its test names and output, what it skipped.
 */
const CHROMIUM = findChromium();
const SKIP = CHROMIUM === undefined && process.env.CI !== "true";
if (SKIP) console.warn(`\n*** SKIPPED the status page browser test: ${MISSING}\n`);

function chromiumPath(): string {
  if (!CHROMIUM) throw new Error(MISSING);
  return CHROMIUM;
}

let h: Harness;
let sandbox: Sandbox;
let rt: Runtime;
let server: Served;
let browser: Browser;
let page: Page;
let rig: CanaryRig;
const problems: string[] = [];

async function runAll() {
  for (const probe of PROBES) await recordRun(rt, probe.id);
}

beforeAll(async () => {
  if (SKIP) return;
  const executablePath = chromiumPath();
  h = await createHarness();
  sandbox = await h.start({ sigBypass: true });
  // Thresholds that let an incident show within a test: a job in created for 2 s is stuck; a loaded
  // machine's slow answers are not "degraded" (the latency warnings are tested elsewhere).
  rt = sentinelRuntime(sentinelEnv(h, sandbox, { probes: { health: { requestTimeoutMs: 5_000, latencyWarnMs: 4_000 }, outbox: { createdMaxSeconds: 2 } } }));
  rig = canaryRig(h, sandbox, generateKeyPair().privateKey, { path: "queue" }); // the stuck canary below is the queue path's (no outbox row)
  for (let i = 0; i < 3; i++) await submit(sandbox, jobSpec());
  await sandbox.drain();
  await runAll();
  await evaluateNow(rt);
  const fn = (route: typeof pageRoute) => httpFunction(route, () => rt);
  server = await serveHandlers({ "/status": fn(pageRoute), "/api/status": fn(statusRoute), "/api/status/badge": fn(badgeRoute), "/api/metrics": fn(metricsRoute),
    "/api/incidents/*": fn(incidentsRoute),
    "/canary/status": httpFunction(pageRoute, () => rig.rt) });
  browser = await chromium.launch({ executablePath, headless: true, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  page.on("console", (m) => void (m.type() === "error" && problems.push(`console: ${m.text()}`)));
  page.on("pageerror", (e) => void problems.push(`page error: ${e.message}`));
  page.on("request", (r) => void (!r.url().startsWith(server.url) && problems.push(`external request: ${r.url()}`)));
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await rt?.close();
  await rig?.close();
  await h?.close();
});

/** axe-core, injected into the page to check it for accessibility violations. */
const AXE = path.resolve(import.meta.dirname, "../node_modules/axe-core/axe.min.js");
/** As chromium: under CI=true a missing axe-core fails; elsewhere its checks are skipped, loudly. */
const NO_AXE = !existsSync(AXE) && process.env.CI !== "true";
if (NO_AXE && !SKIP) console.warn(`\n*** SKIPPED the status page's axe checks: axe-core is not installed (${AXE}); npm ci installs it\n`);

interface AxeViolation { id: string; impact: string | null; help: string; nodes: { target: string[]; failureSummary?: string }[] }

/**
 * axe's violations on the status page at `width` px, the operator section opened, each as one readable
 * line (rule, impact, what it asks, where). The page's CSP allows only its own script, so axe runs in a
 * page of its own context that bypasses the CSP; everything else is the page as served.
 */
async function axeViolations(width: number): Promise<string[]> {
  if (!existsSync(AXE)) throw new Error(`axe-core is not installed (${AXE}): npm ci installs it (devDependencies)`);
  const context = await browser.newContext({ bypassCSP: true, viewport: { width, height: 900 } });
  try {
    const p = await context.newPage();
    await p.goto(fresh("/status"));
    await p.locator("#operator summary").click();
    expect(await p.locator("#op-token").isVisible()).toBe(true);
    await p.addScriptTag({ path: AXE });
    const violations = await p.evaluate(async () => {
      const result = await (window as unknown as { axe: { run: (c: Document) => Promise<{ violations: AxeViolation[] }> } }).axe.run(document);
      return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target.map(String), failureSummary: n.failureSummary })) }));
    });
    return violations.flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${v.help} at ${n.target.join(" ")}${n.failureSummary ? ` — ${n.failureSummary.replace(/\s+/g, " ")}` : ""}`));
  } finally {
    await context.close();
  }
}

const stage = (id: string) => page.locator(`.stage[data-stage="${id}"]`);
/** The page is served with cache headers (a CDN may keep it until the next tick): each look asks past the cache. */
let looks = 0;
const fresh = (route: string) => `${server.url}${route}?look=${++looks}`;
const cardStates = async () => Object.fromEntries(await page.locator(".stage").evaluateAll((els) => els.map((e) => [e.getAttribute("data-stage"), e.getAttribute("data-state")])));

/** The sandbox back to green (incidents off, its jobs and queue emptied), and a passing round of probes on it. */
async function greenSandbox() {
  const reset = await fetch(`${sandbox.url}/__sandbox/reset`, { method: "POST" });
  expect(reset.status).toBe(200);
  await submit(sandbox, jobSpec());
  await sandbox.drain();
  await runAll();
  await page.goto(fresh("/status"));
  const notGreen = await page.locator(".stage").evaluateAll((els) => els.filter((e) => !["pass", "unknown"].includes(e.getAttribute("data-state") ?? ""))
    .map((e) => `${e.getAttribute("data-stage")}: ${e.querySelector(".msg")?.textContent}`));
  expect(notGreen).toEqual([]);
}

describe.skipIf(SKIP)(`the status page in chromium${SKIP ? " (SKIPPED: chromium is not installed)" : ""}`, () => {
  it("renders the pipeline in order, every stage's state in words, and the probes' pictures with text alternatives", async () => {
    const response = await page.goto(fresh("/status"));
    expect(response?.status()).toBe(200);
    expect(await page.locator(".stage").evaluateAll((els) => els.map((e) => e.getAttribute("data-stage")))).toEqual(
      ["portal", "runner-api", "database", "outbox", "queue", "worker", "receipts"]);
    await expect.poll(() => stage("runner-api").getAttribute("data-state")).toBe("pass");
    expect(await stage("runner-api").locator(".word").textContent()).toBe("Passing");
    expect(await page.locator("svg[role=img]").count()).toBe(PROBES.length * 2);
    const unlabelled = await page.locator("svg").evaluateAll((els) => els.filter((e) => !(e.getAttribute("aria-label") ?? "").trim()).length);
    expect(unlabelled).toBe(0);
    expect(await page.locator("h2").allTextContents()).toEqual(expect.arrayContaining(["Service level objectives", "Probes"]));
  });

  it("keeps text readable: state words and badges have at least 4.5:1 contrast", async () => {
    const ratios = await page.locator(".stage .word, .badge").evaluateAll((els) => {
      const rgb = (c: string) => (c.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map(Number);
      const lum = ([r, g, b]: number[]) => {
        const f = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
        return 0.2126 * f(r!) + 0.7152 * f(g!) + 0.0722 * f(b!);
      };
      const background = (e: Element | null): string => {
        for (let n = e; n; n = n.parentElement) {
          const bg = getComputedStyle(n).backgroundColor;
          if (bg && bg !== "rgba(0, 0, 0, 0)" && bg !== "transparent") return bg;
        }
        return "rgb(255, 255, 255)";
      };
      return els.map((e) => {
        const [a, b] = [lum(rgb(getComputedStyle(e).color)), lum(rgb(background(e)))];
        return { text: e.textContent, ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05) };
      });
    });
    expect(ratios.length).toBeGreaterThan(6);
    expect(ratios.filter((r) => r.ratio < 4.5)).toEqual([]);
  });

  it("during an incident, the failing stage shows as failing after the page refreshes itself", async () => {
    sandbox.incidents.set("health-unhealthy", true);
    try {
      await recordRun(rt, "health");
      // The page refreshes on a timer and whenever the tab becomes visible: the latter, now.
      await page.evaluate(() => document.dispatchEvent(new Event("visibilitychange")));
      await expect.poll(() => stage("runner-api").getAttribute("data-state"), { timeout: 10_000 }).toBe("fail");
      expect(await stage("runner-api").locator(".word").textContent()).toBe("Failing");
      expect(await stage("runner-api").locator(".msg").textContent()).toContain("runner-health failing");
      expect(await page.locator("#refresh").textContent()).toMatch(/^Updated /);
      expect(await page.title()).toBe("Beacon pipeline: failing");
      await expect.poll(() => page.locator(`#probe-health .checks`).textContent()).toContain("/health -> HTTP 503");
      mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    } finally {
      sandbox.incidents.set("health-unhealthy", false);
    }
  });

  it("an alert that fires shows in Recent incidents, ongoing, linked to its story; once resolved, with how long it lasted", async () => {
    sandbox.incidents.set("health-unhealthy", true);
    try {
      for (let i = 0; i < 3; i++) await recordRun(rt, "health"); // the default rule: 3 failures in 5 runs
      await page.goto(fresh("/status"));
      const row = page.locator("table.recent tbody tr").first();
      expect(await row.locator('td[data-label="Resolved"]').textContent()).toBe("ongoing");
      const link = row.locator("th a");
      expect(await link.textContent()).toMatch(/^#\d+ \S/);
      const href = (await link.getAttribute("href"))!;
      expect(href).toMatch(/^\/api\/incidents\/\d+$/);
      const story = (await (await fetch(`${server.url}${href}`)).json()) as { incident: { id: string; key: string; state: string; title: string } };
      expect(story.incident).toMatchObject({ id: href.split("/").pop(), key: "check/health/runner-health", state: "open" });
      expect(await link.textContent()).toBe(`#${story.incident.id} ${story.incident.title}`);
    } finally {
      sandbox.incidents.set("health-unhealthy", false);
    }
    for (let i = 0; i < 2; i++) await recordRun(rt, "health"); // 2 passes in a row resolve it
    await page.goto(fresh("/status"));
    const row = page.locator("table.recent tbody tr").first();
    expect(await row.locator('td[data-label="Resolved"]').textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    expect(await row.locator('td[data-label="Lasted"]').textContent()).toMatch(/^\d+ s$/);
  });

  /** Each incident fails its stage's card, and only it: every other watched stage passes. */
  it.each([
    ["health-unhealthy", "runner-api", "runner-health failing"],
    ["executions-500", "runner-api", "executions-api failing"],
    ["empty-id", "receipts", "id-mapping failing"],
    ["legacy-text-output", "receipts", "receipts failing"],
    ["duplicate-executions", "receipts", "job-answers failing"],
    ["no-outbox-row", "outbox", "jobs-stuck-created failing"],
  ] as const)("during %s, the %s card fails and every other watched card passes", async (incident, failing, note) => {
    await greenSandbox();
    sandbox.incidents.set(incident, true);
    try {
      const spec = jobSpec();
      await submit(sandbox, spec);
      if (incident === "no-outbox-row") await new Promise((r) => setTimeout(r, 2_500)); // past createdMaxSeconds
      else await sandbox.drain();
      await runAll();
      await page.goto(fresh("/status"));
      const cards = await cardStates();
      expect(cards[failing]).toBe("fail");
      expect(Object.entries(cards).filter(([id, state]) => id !== failing && state !== "pass" && state !== "unknown")).toEqual([]);
      expect(await stage(failing).locator(".msg").textContent()).toContain(note);
      await page.screenshot({ path: path.join(ARTIFACTS, `status-page-${incident}.png`), fullPage: true });
    } finally {
      sandbox.incidents.set(incident, false);
    }
  });

  it("during a stuck canary, its section shows the run in flight with an age that moves, and the Outbox card (not Receipts) fails", async () => {
    await greenSandbox();
    sandbox.incidents.set("no-outbox-row", true);
    try {
      await rig.invoke(); // submits
      rig.advance(31);
      const stuck = await rig.invoke();
      expect(stuck.by["stage:outbox"]!.status).toBe("fail");
      await page.goto(fresh("/canary/status"));
      expect(await page.locator('.stage[data-stage="outbox"]').getAttribute("data-state")).toBe("fail");
      expect(await page.locator('.stage[data-stage="receipts"]').getAttribute("data-state")).not.toBe("fail");
      const canary = page.locator(".canary");
      expect(await canary.getAttribute("data-inflight")).toBe("yes");
      const age = canary.locator(".inflight .age");
      expect(await age.textContent()).toBe("31 s");
      // The page's script moves the age on, second by second, on the server's clock.
      await expect.poll(async () => Number.parseInt((await age.textContent()) ?? "0", 10), { timeout: 5_000 }).toBeGreaterThanOrEqual(33);
      expect(await canary.textContent()).toContain("no outbox row");
      await page.screenshot({ path: path.join(ARTIFACTS, "status-page-stuck-canary.png"), fullPage: true });
    } finally {
      sandbox.incidents.set("no-outbox-row", false);
    }
  });

  it.each([320, 390, 1280])("reflows at %i px wide with no horizontal overflow (the SLO table included)", async (width) => {
    await page.setViewportSize({ width, height: 900 });
    for (const url of [fresh("/status"), fresh("/canary/status")]) {
      await page.goto(url);
      const overflow = await page.evaluate(() => ({
        page: document.documentElement.scrollWidth - window.innerWidth,
        wide: [...document.querySelectorAll("main *")].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).map((e) => `${e.tagName}.${e.className}`).slice(0, 5),
      }));
      expect(overflow).toEqual({ page: 0, wide: [] });
    }
    await page.goto(fresh("/status"));
    expect(await page.locator("table.slos").count()).toBe(1);
    await page.screenshot({ path: path.join(ARTIFACTS, `status-page-${width}.png`), fullPage: true });
    await page.locator("table.slos").screenshot({ path: path.join(ARTIFACTS, `status-page-${width}-slos.png`) });
    // The caption reads as a line, not one letter per line (a squeezed table caption did that).
    const caption = await page.locator("table.slos caption").boundingBox();
    expect(caption!.height).toBeLessThan(60);
  });

  it.skipIf(NO_AXE).each([320, 1280])("axe finds no accessibility violation at %i px, healthy, the operator section open", async (width) => {
    await greenSandbox();
    expect(await axeViolations(width)).toEqual([]);
  });

  it.skipIf(NO_AXE).each([320, 1280])("axe finds no accessibility violation at %i px during an incident (alert firing, its evidence, Recent incidents), the operator section open", async (width) => {
    sandbox.incidents.set("health-unhealthy", true);
    try {
      for (let i = 0; i < 3; i++) await recordRun(rt, "health");
      await page.goto(fresh("/status"));
      expect(await page.locator(".incidents .incident").count()).toBeGreaterThan(0);
      expect(await page.locator("table.recent tbody tr").first().locator('td[data-label="Resolved"]').textContent()).toBe("ongoing");
      expect(await axeViolations(width)).toEqual([]);
    } finally {
      sandbox.incidents.set("health-unhealthy", false);
    }
    for (let i = 0; i < 2; i++) await recordRun(rt, "health");
  });

  it("loaded nothing from elsewhere and raised no error (the CSP allowed its script)", () => {
    expect(problems).toEqual([]);
  });
});
