import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../netlify/cli/main.ts";
import { httpFunction } from "../netlify/http/handler.ts";
import { incidentsRoute } from "../netlify/http/incidents.ts";
import { remediateRoute } from "../netlify/http/remediate.ts";
import { readStories } from "../netlify/incidents.ts";
import type { Runtime } from "../netlify/runtime.ts";
import { tick } from "../netlify/tick.ts";
import { randomUUID } from "node:crypto";
import { HELD_KEEP, INCIDENTS_KEEP, JOBS_KEEP, JOBS_KEEP_OLD, RECENT_FULL, jobIdsIn, noteSends, SENDS_KEEP, trackIncidents, type IncidentBook } from "../shared/alerting/incidents.ts";
import { emptyState, type AlertRecord } from "../shared/alerting/state.ts";
import { check, type ProbeResult } from "../shared/result.ts";
import { sendKey, storyMarkdown } from "../shared/alerting/incident-story.ts";
import { encodeDocument } from "../shared/store/codec.ts";
import { createHarness, jobSpec, submit, waitForStatus, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { sentinelEnv, sentinelRuntime } from "./support/sentinel.ts";
import { startSlackReceiver, type SlackReceiver } from "./support/slack-receiver.ts";
import { startHttpReceiver, type HttpReceiver } from "./support/http-receiver.ts";
import { SEND_EXTRA_COMMANDS, TICK_COMMANDS } from "../shared/cost/model.ts";

/**
 * Every incident's story (issue 23), end to end against the Beacon sandbox: the no-outbox-row fault
 * leaves three jobs stuck in created; real ticks run the outbox probe (real Postgres, real store over
 * the Upstash client), fire check/outbox/jobs-stuck-created to Slack and the webhook (real receivers),
 * the jobs are republished through Beacon's own admin route and complete, and the next tick resolves
 * it. The story must name the root cause, the channels and times the ledger recorded, and exactly the
 * jobs the fault touched; the CLI, the Markdown draft and the API tell it, the summary API without ids.
 */
const KEY = "check/outbox/jobs-stuck-created";
const SENTINEL_ADMIN = "sentinel-admin-token-story-0001";
const BEACON_ADMIN = "beacon-admin-token-story-0001";

let h: Harness;
let sandbox: Sandbox;
let slack: SlackReceiver;
let hook: HttpReceiver;
let env: Record<string, string>;
let rt: Runtime;

beforeAll(async () => {
  h = await createHarness();
  sandbox = await h.start({ sigBypass: true, adminToken: BEACON_ADMIN, adminRateLimitMs: 300 });
  slack = await startSlackReceiver();
  hook = await startHttpReceiver();
  env = sentinelEnv(h, sandbox, {
    probes: { outbox: { createdMaxSeconds: 60 } }, remediation: { adminIntervalMs: 300 },
    alerting: { defaults: { failuresToTrigger: 1, window: 1, successesToResolve: 1 } },
  }, {
    SENTINEL_ADMIN_TOKEN: SENTINEL_ADMIN, BEACON_ADMIN_TOKEN: BEACON_ADMIN, SLACK_WEBHOOK_URL: slack.url,
    SENTINEL_WEBHOOK_URL: `${hook.url}/sentinel`, SENTINEL_WEBHOOK_SECRET: "story-test-secret",
  });
  rt = sentinelRuntime(env);
}, 60_000);
afterAll(async () => {
  await rt?.close();
  await Promise.all([slack?.close(), hook?.close()]);
  await h?.close();
});

/** Jobs submitted during the fault, moved ten minutes into the past (the stuck threshold is one). */
async function stuckJobs(count: number): Promise<string[]> {
  sandbox.incidents.set("no-outbox-row", true);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const spec = jobSpec();
    expect((await submit(sandbox, spec)).status).toBe(202);
    ids.push(String(spec["jobspec_id"]));
  }
  await sandbox.drain();
  await sandbox.pool.query("UPDATE jobs SET created_at = created_at - interval '600 seconds', updated_at = updated_at - interval '600 seconds' WHERE jobspec_id = ANY($1)", [ids]);
  sandbox.incidents.set("no-outbox-row", false);
  return ids;
}

const outboxTick = () => tick(rt, { write: true, probes: ["outbox"], lockWaitMs: 25_000 });
const ledger = async () => (await rt.store!.peek()).ledger;

/** The CLI in this process, on the test's environment; stdout and stderr captured. */
async function cli(args: string[]) {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => (out.push(String(chunk)), true));
  const e = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => (err.push(String(chunk)), true));
  try {
    return { code: await main(args), stdout: out.join(""), stderr: err.join("") };
  } finally {
    o.mockRestore();
    e.mockRestore();
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

describe("job ids in evidence", () => {
  it("takes the id an evidence line starts with and an execution's job_id, nothing else", () => {
    expect(jobIdsIn("job bias-1: 600 s in created, no outbox row")).toEqual(["bias-1"]);
    expect(jobIdsIn("job j-2 execution 7 (us-east): failed")).toEqual(["j-2"]);
    expect(jobIdsIn("execution 12 (job_id j-3): 900 s running")).toEqual(["j-3"]);
    expect(jobIdsIn("execution 13 (job_id null): 900 s running")).toEqual([]);
    expect(jobIdsIn("outbox row 4: unpublished for 300 s")).toEqual([]);
    expect(jobIdsIn("beacon:jobs:dead[0] job q-1: worker could not find the job (attempts 3/3)")).toEqual(["q-1"]);
    expect(jobIdsIn("beacon:jobs[2]: waiting 400 s")).toEqual([]);
    expect(jobIdsIn("a jobless line mentioning job x")).toEqual([]);
  });
});

/** An alert record as the evaluation leaves it. */
function rec(key: string, extra: Partial<AlertRecord> = {}): AlertRecord {
  const [type, probe, name] = key.split("/") as [AlertRecord["type"], string, string | undefined];
  return {
    key, type, stage: "outbox", ...(type === "slo" ? { slo: probe } : { probe }), ...(name ? { check: name } : {}), recent: "f", passesInRow: 0, firing: true,
    since: "2026-01-01T00:00:00.000Z", notified: true, severity: "page", snapshot: { title: key, message: "", observed: null, threshold: null, evidence: [], evidenceTotal: 0 }, ...extra,
  };
}
const failing = (probe: string, name: string, evidence: string[], total = evidence.length): ProbeResult => ({
  version: 1, probe, status: "fail", startedAt: "2026-01-01T00:00:00.000Z", durationMs: 1,
  checks: [{ ...check({ name, status: "fail", observed: 1, threshold: 0, message: "x", evidence }), evidenceTotal: total }],
});
const book = (): IncidentBook => ({ incidents: [], incidentSeq: 0, alerts: {} });

describe("incidents, tick by tick (pure)", () => {
  it("one incident per root: a held check is listed behind it and its jobs count; resolved when the root stops firing", () => {
    const b = book();
    const alerts = emptyState();
    alerts.alerts["check/outbox/jobs-stuck-created"] = rec("check/outbox/jobs-stuck-created");
    alerts.alerts["check/queue/backlog"] = rec("check/queue/backlog", { heldBy: "dependency:check/outbox/jobs-stuck-created" });
    const t1 = new Date("2026-01-01T00:00:05.000Z");
    trackIncidents(b, alerts, [failing("outbox", "jobs-stuck-created", ["job a: 600 s in created", "job b: 600 s in created"]), failing("queue", "backlog", ["job c: waiting", "job a: waiting"])], {}, t1);
    expect(b.incidents).toHaveLength(1);
    expect(b.incidents[0]).toMatchObject({ id: "1", key: "check/outbox/jobs-stuck-created", held: ["check/queue/backlog"], jobs: ["a", "b", "c"], jobsMore: 0, openedAt: t1.toISOString() });
    // Its sends, from the ledger: the firing decided at t1 is this incident's; an older resolution is not.
    b.alerts["check/outbox/jobs-stuck-created"] = { channels: {
      slack: { id: `check/outbox/jobs-stuck-created@firing@${t1.toISOString()}`, state: "firing", phase: "sent", at: "2026-01-01T00:00:06.000Z", key: `check/outbox/jobs-stuck-created@firing@${t1.toISOString()}` },
      pagerduty: { id: "check/outbox/jobs-stuck-created@resolved@2025-12-31T23:00:00.000Z", state: "resolved", phase: "sent", at: "2025-12-31T23:00:01.000Z", key: "check/outbox/jobs-stuck-created" },
    } };
    noteSends(b);
    expect(b.incidents[0]!.sends).toEqual([{ channel: "slack", state: "firing", phase: "sent", at: "2026-01-01T00:00:06.000Z", decidedAt: t1.toISOString() }]);
    alerts.alerts["check/outbox/jobs-stuck-created"]!.firing = false;
    alerts.alerts["check/outbox/jobs-stuck-created"]!.since = undefined;
    trackIncidents(b, alerts, [], {}, new Date("2026-01-01T00:01:05.000Z"));
    expect(b.incidents[0]!.resolvedAt).toBe("2026-01-01T00:01:05.000Z");
    // The held check still fires on its own: now it is an incident of its own.
    alerts.alerts["check/queue/backlog"]!.heldBy = undefined;
    trackIncidents(b, alerts, [], {}, new Date("2026-01-01T00:02:05.000Z"));
    expect(b.incidents.map((i) => [i.id, i.key, i.resolvedAt ?? null])).toEqual([["1", "check/outbox/jobs-stuck-created", "2026-01-01T00:01:05.000Z"], ["2", "check/queue/backlog", null]]);
  });

  it("an SLO's incident takes its jobs from its source probe's failing checks; a silenced alert still has its story", () => {
    const b = book();
    const alerts = emptyState();
    alerts.alerts["slo/job-success"] = rec("slo/job-success", { type: "slo", stage: "slo", severity: "ticket", heldBy: "silence:s1" });
    trackIncidents(b, alerts, [failing("outbox", "job-success", ["job f1: failed", "job f2: failed"]), failing("queue", "backlog", ["job other: waiting"])], { "job-success": "outbox:jobs" }, new Date("2026-01-01T00:00:05.000Z"));
    expect(b.incidents[0]).toMatchObject({ type: "slo", slo: "job-success", severity: "ticket", silencedBy: "s1", jobs: ["f1", "f2"] });
  });

  it("is bounded: jobs capped with a count of the rest, held, sends and incidents capped; the worst case measured", () => {
    const b = book();
    // Random ids, as Beacon's would be: they do not compress.
    const pools: string[][] = [];
    let pool: string[] = [];
    const uuid = (n: number) => pool[n]!;
    for (let n = 0; n < INCIDENTS_KEEP + 5; n++) {
      const alerts = emptyState();
      const key = `check/outbox/check-${n}`;
      pool = Array.from({ length: 60 }, () => randomUUID());
      pools.push(pool);
      alerts.alerts[key] = rec(key, { since: new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString() });
      for (let h = 0; h < HELD_KEEP + 3; h++) alerts.alerts[`check/p${h}/c`] = rec(`check/p${h}/c`, { heldBy: `dependency:${key}` });
      const at = new Date(Date.UTC(2026, 0, 1, 0, n, 30));
      if (n > 0) alerts.alerts[`check/outbox/check-${n - 1}`] = rec(`check/outbox/check-${n - 1}`, { firing: false, since: undefined });
      // 6 ticks of 10 cited ids each (evidence is capped at 10), 2 more cut by the check each time: 60 distinct ids.
      for (let t = 0; t < 6; t++) trackIncidents(b, alerts, [failing("outbox", `check-${n}`, Array.from({ length: 10 }, (_, i) => `job ${uuid(t * 10 + i)}: stuck`), 12)], {}, at);
      b.alerts[key] = { channels: Object.fromEntries(Array.from({ length: SENDS_KEEP + 2 }, (_, c) => [`channel-${c}`, { id: `${key}@firing@${at.toISOString()}`, state: "firing" as const, phase: "sent" as const, at: at.toISOString(), key: `dedup-${"k".repeat(40)}-${c}` }])) };
      noteSends(b);
    }
    expect(b.incidents).toHaveLength(INCIDENTS_KEEP);
    expect(b.incidents[0]!.id).toBe("6");
    const last = b.incidents.at(-1)!;
    expect(last.jobs).toHaveLength(JOBS_KEEP);
    expect(last.jobs).toEqual(Array.from({ length: JOBS_KEEP }, (_, i) => uuid(i)));
    // The last tick cited 10 ids, all past the cap, and its check cut 2 more.
    expect(last.jobsMore).toBe(12);
    // Older incidents keep their first few ids; the count of the rest stays.
    const old = b.incidents.at(-RECENT_FULL - 1)!;
    expect(old.resolvedAt).toBeDefined();
    expect(old.jobs).toEqual(pools[Number(old.id) - 1]!.slice(0, JOBS_KEEP_OLD));
    expect(old.jobs.length + old.jobsMore).toBe(JOBS_KEEP + 12);
    expect(last.held).toHaveLength(HELD_KEEP);
    expect(last.sends).toHaveLength(SENDS_KEEP);
    const raw = JSON.stringify(b.incidents).length;
    const stored = encodeDocument({ incidents: b.incidents }).length;
    console.log(`incident stories, worst case: ${INCIDENTS_KEEP} incidents at every cap: ${raw} bytes of JSON (${Math.round(raw / INCIDENTS_KEEP)} each), ${stored} bytes as stored`);
    expect(raw).toBeLessThan(INCIDENTS_KEEP * 3_000);
  });
});

describe("an incident's story, from a sandbox fault to its resolution", () => {
  it("names the root cause, the channels and times from the ledger, and exactly the jobs the fault touched", async () => {
    const ids = await stuckJobs(3);
    const first = await outboxTick();
    const failed = first.results[0]!.checks.find((c) => c.name === "jobs-stuck-created")!;
    expect(failed.status).toBe("fail");
    expect(first.firing.map((a) => a.key)).toContain(KEY);
    const fired = (await ledger()).alerts[KEY]!.channels;
    expect(Object.keys(fired).sort()).toEqual(["slack", "webhook"]);
    for (const e of Object.values(fired)) expect(e).toMatchObject({ state: "firing", phase: "sent" });

    // Still firing: the same jobs again, counted once.
    await outboxTick();
    const [open] = (await readStories(rt))!.filter((s) => s.key === KEY);
    expect(open).toMatchObject({ state: "open", jobsTouched: 3 });

    // The fault cleared: the jobs republished through Beacon's admin route, and completed.
    const republish = await httpFunction(remediateRoute(), () => rt)(new Request("http://sentinel.test/api/remediate/republish", {
      method: "POST", body: JSON.stringify({ execute: true }), headers: { authorization: `Bearer ${SENTINEL_ADMIN}`, "content-type": "application/json" },
    }), { ip: "10.1.1.2" });
    expect(republish.status).toBe(200);
    for (const id of ids) await waitForStatus(sandbox, id, "completed");
    const last = await outboxTick();
    expect(last.firing.map((a) => a.key)).not.toContain(KEY);
    const after = await ledger();
    const resolved = after.alerts[KEY]!.channels;
    for (const e of Object.values(resolved)) expect(e).toMatchObject({ state: "resolved", phase: "sent" });

    const stories = (await readStories(rt))!;
    const mine = stories.filter((s) => s.key === KEY);
    expect(mine).toHaveLength(1);
    const s = mine[0]!;
    expect(s).toMatchObject({
      state: "resolved", type: "check", probe: "outbox", check: "jobs-stuck-created", severity: "page",
      firedAt: first.results[0]!.startedAt, resolvedAt: resolved.slack!.id.split("@resolved@")[1], jobsMore: 0, jobsTouched: 3, held: [],
    });
    // Resolved when the last tick decided it, just before that tick's outbox run.
    expect(Date.parse(s.resolvedAt!)).toBeLessThanOrEqual(Date.parse(last.results[0]!.startedAt));
    expect(Date.parse(s.resolvedAt!)).toBeGreaterThan(Date.parse(first.results[0]!.startedAt));
    expect(s.durationMs).toBe(Date.parse(s.resolvedAt!) - Date.parse(s.firedAt));
    // What was sent where and when: exactly the ledger's entries, the firing ones and the resolved ones.
    const expected = [...Object.entries(fired), ...Object.entries(resolved)].map(([channel, e]) => ({ channel, state: e.state, phase: e.phase, at: e.at, key: e.key, id: e.id }));
    const told = s.sends.map((x) => ({ channel: x.channel, state: x.state, phase: x.phase, at: x.at, key: sendKey(s, x), id: `${KEY}@${x.state}@${x.decidedAt}` }));
    const order = (a: { id: string; channel: string }, b: { id: string; channel: string }) => a.id.localeCompare(b.id) || a.channel.localeCompare(b.channel);
    expect(told.sort(order)).toEqual(expected.sort(order));
    expect(told.map((x) => x.id)).toContain(`${KEY}@resolved@${s.resolvedAt}`);
    // Exactly the jobs the fault left stuck, each linked to the runner API (no portal configured).
    expect(s.jobs.map((j) => j.id).sort()).toEqual([...ids].sort());
    for (const j of s.jobs) expect(j.url).toBe(`${sandbox.url}/api/v1/jobs/${encodeURIComponent(j.id)}`);
    // The receivers were told once each way (Slack also got the remediation's audit note).
    expect(slack.received.filter((r) => !String(r.body.text).startsWith("Remediation:"))).toHaveLength(2);
    expect(hook.requests.filter((r) => r.raw.includes(KEY))).toHaveLength(2);

    // Its cost: the incidents ride in the ledger's document (no store command of their own).
    const raw = JSON.stringify(after.incidents).length;
    const zipped = encodeDocument({ incidents: after.incidents }).length;
    console.log(`incident story: ${after.incidents.length} incident(s), ${raw} bytes of JSON, ${zipped} bytes as stored (gzip+base64), ledger ${encodeDocument(after).length} bytes`);
    expect(raw / after.incidents.length).toBeLessThan(2_000);
    expect(last.storeCommands).toBe(TICK_COMMANDS + SEND_EXTRA_COMMANDS); // 5: the incidents ride in the ledger, no command of their own

    // The CLI: list, show, --json, --markdown, an unknown id.
    const list = await cli(["incidents"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^\\s*${s.id}\\s+resolved\\s+page .*3 job\\(s\\)\\s+${KEY}$`, "m"));
    const text = await cli(["incidents", "show", s.id]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`root cause  check jobs-stuck-created of probe outbox (stage ${s.stage})`);
    for (const id of ids) expect(text.stdout).toContain(`${id}  ${sandbox.url}/api/v1/jobs/${id}`);
    for (const x of s.sends) expect(text.stdout).toContain(`${x.channel}: ${x.state} sent at ${x.at}`);
    const json = await cli(["incidents", "show", s.id, "--json"]);
    expect(JSON.parse(json.stdout).incident).toEqual(JSON.parse(JSON.stringify({ ...s, durationMs: s.durationMs })));
    const md = await cli(["incidents", "show", s.id, "--markdown"]);
    expect(md.code).toBe(0);
    expect(md.stdout).toBe(`${storyMarkdown(s)}\n`);
    expect(md.stdout).toContain(`# Incident ${s.id}: outbox: jobs-stuck-created`);
    expect(md.stdout).toContain("| Root cause (as detected) | check jobs-stuck-created of probe outbox");
    expect(md.stdout).toContain("| Channels told | ");
    for (const id of ids) expect(md.stdout).toContain(`- [${id}](${sandbox.url}/api/v1/jobs/${id})`);
    // The timeline in time order: fired, firing sent to each channel, resolved sent, resolved.
    const timeline = md.stdout.split("## Timeline (UTC)")[1]!.split("##")[0]!.trim().split("\n");
    expect(timeline).toHaveLength(2 + s.sends.length);
    expect(timeline[0]).toBe(`- **${s.firedAt}** ${KEY} started firing (page)`);
    // Resolved when decided, before the resolution was sent.
    const resolvedLine = timeline.findIndex((l) => l.startsWith(`- **${s.resolvedAt}** ${KEY} resolved after `));
    expect(resolvedLine).toBeGreaterThan(0);
    expect(timeline.slice(resolvedLine + 1).every((l) => l.includes("resolved sent to"))).toBe(true);
    const times = timeline.map((l) => /\*\*(.+?)\*\*/.exec(l)![1]!);
    expect(times).toEqual([...times].sort());
    for (const x of s.sends) expect(timeline).toContain(`- **${x.at}** ${x.state} sent to ${x.channel} (key ${sendKey(s, x)})`);
    const unknown = await cli(["incidents", "show", "999999"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no incident 999999");
    expect((await cli(["incidents", "show"])).code).toBe(64);

    // The API: the story in full; in summary mode, no job id, channel key or held alert.
    const get = (r: Runtime, path: string) => httpFunction(incidentsRoute, () => r)(new Request(`http://sentinel.test${path}`), { ip: "10.1.1.3" });
    const full = await get(rt, `/api/incidents/${s.id}`);
    expect(full.status).toBe(200);
    expect(((await full.json()) as { incident: { jobs: { id: string }[] } }).incident.jobs.map((j) => j.id).sort()).toEqual([...ids].sort());
    const listed = (await (await get(rt, "/api/incidents")).json()) as { incidents: { id: string }[] };
    expect(listed.incidents.map((i) => i.id)).toContain(s.id);
    expect((await get(rt, "/api/incidents/999999")).status).toBe(404);
    const summaryRt = sentinelRuntime({ ...env, SENTINEL_PUBLIC_STATUS: "summary" });
    try {
      const body = await (await get(summaryRt, `/api/incidents/${s.id}`)).text();
      expect(JSON.parse(body).incident).toEqual({
        id: s.id, state: "resolved", type: "check", stage: s.stage, severity: "page", title: s.title, firedAt: s.firedAt, resolvedAt: s.resolvedAt,
        durationMs: s.durationMs, jobsTouched: 3, announced: true,
      });
      const all = await (await get(summaryRt, "/api/incidents")).text();
      for (const id of ids) expect(body + all).not.toContain(id);
      for (const x of s.sends) expect(body + all).not.toContain(sendKey(s, x));
    } finally {
      await summaryRt.close();
    }
  }, 120_000);

  it("database-down: the root's story lists the checks held behind it, which open no incident of their own", async () => {
    sandbox.incidents.set("database-down", true);
    try {
      const report = await tick(rt, { write: true, probes: ["health", "receipts"], lockWaitMs: 25_000 });
      const held = report.firing.filter((a) => a.heldBy === "dependency:check/health/runner-ready").map((a) => a.key).sort();
      expect(held.length).toBeGreaterThan(0);
      const stories = (await readStories(rt))!;
      const root = stories.find((x) => x.key === "check/health/runner-ready" && x.state === "open")!;
      expect(root).toMatchObject({ type: "check", probe: "health", check: "runner-ready", stage: "runner-api" });
      expect([...root.held].sort()).toEqual(held);
      for (const key of held) expect(stories.filter((x) => x.key === key)).toEqual([]);
      expect(root.sends.filter((x) => x.state === "firing").map((x) => x.channel).sort()).toEqual(["slack", "webhook"]);
      const text = await cli(["incidents", "show", root.id]);
      expect(text.stdout).toContain(`  held        ${root.held.join(", ")}`);
    } finally {
      sandbox.incidents.set("database-down", false);
    }
  }, 60_000);
});
