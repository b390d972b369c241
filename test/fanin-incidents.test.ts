import { evaluateNow, recordRun , tickRecorder } from "./support/sentinel.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, jobSpec, submit, waitForStatus, call, type Harness } from "./sandbox/testing.ts";
import type { IncidentName, Sandbox } from "./sandbox/index.ts";
import { sentinelEnv, sentinelRuntime } from "./support/sentinel.ts";
import { startSlackReceiver, type SlackReceiver } from "./support/slack-receiver.ts";
import { findProbe } from "../shared/probes/catalog.ts";
import { runProbe } from "../shared/runner.ts";

/**
 * Every incident switch of the sandbox, end to end: the probe that should catch it runs twice, the
 * fan-in sends exactly one Slack message naming the stage, a second evaluation sends nothing, and
 * once the incident is cleared (and Beacon repaired where a person would have to) one resolved message.
 */
let slack: SlackReceiver;
beforeAll(async () => {
  slack = await startSlackReceiver();
});
afterAll(async () => {
  await slack?.close();
});

const FAST_THRESHOLDS = {
  outbox: { createdMaxSeconds: 0.5, processingMaxSeconds: 0.5 },
  queue: { latencyWarnSeconds: 0.2, latencyFailSeconds: 0.5 },
  receipts: { maxJobs: 1 },
};

interface Row {
  incident: IncidentName;
  probe: string;
  stage: string;
  check: string;
  /** Puts Beacon in the broken state once the incident is on. */
  provoke(s: Sandbox): Promise<void>;
  /** What an operator does after switching the incident off. */
  repair(s: Sandbox): Promise<void>;
}

const submitJob = async (s: Sandbox) => {
  const spec = jobSpec();
  expect((await submit(s, spec)).status).toBe(202);
  return String(spec.jobspec_id);
};
const settle = () => new Promise((r) => setTimeout(r, 700)); // let a job outlive the 0.5 s thresholds
const republish = async (s: Sandbox) => {
  await call(`${s.url}/emergency/republish-stuck-jobs`, { method: "POST" });
  await s.drain();
};
const completeOne = async (s: Sandbox) => {
  await waitForStatus(s, await submitJob(s), "completed");
};

const ROWS: Row[] = [
  { incident: "health-unhealthy", probe: "health", stage: "runner-api", check: "runner-health", provoke: async () => {}, repair: async () => {} },
  { incident: "database-down", probe: "health", stage: "runner-api", check: "runner-ready", provoke: async () => {}, repair: async () => {} },
  { incident: "executions-500", probe: "receipts", stage: "runner-api", check: "executions-api", provoke: completeOne, repair: async () => {} },
  { incident: "legacy-text-output", probe: "receipts", stage: "receipts", check: "receipts", provoke: completeOne, repair: completeOne },
  { incident: "empty-id", probe: "receipts", stage: "receipts", check: "id-mapping", provoke: completeOne, repair: async () => {} },
  { incident: "no-outbox-row", probe: "outbox", stage: "outbox", check: "jobs-stuck-created", provoke: async (s) => { await submitJob(s); await settle(); }, repair: republish },
  { incident: "payload-mismatch", probe: "outbox", stage: "outbox", check: "jobs-stuck-created", provoke: async (s) => { await submitJob(s); await s.drain(); await settle(); }, repair: republish },
  { incident: "worker-stopped", probe: "queue", stage: "queue", check: "queue-latency", provoke: async (s) => { await submitJob(s); await s.drain().catch(() => {}); await settle(); }, repair: async (s) => s.drain() },
  { incident: "slow-worker", probe: "outbox", stage: "worker", check: "jobs-stuck-processing", provoke: async (s) => { await submitJob(s); await settle(); }, repair: async (s) => s.drain() },
];

describe("each incident switch, through the fan-in to Slack", () => {
  it.each(ROWS)("$incident: one message naming stage $stage ($probe/$check), none again, one resolved", async (row) => {
    const h: Harness = await createHarness();
    const sandbox = await h.start({ sigBypass: true }); // signing is exercised by the sandbox and canary tests
    const rt = sentinelRuntime(sentinelEnv(h, sandbox, {
      probes: FAST_THRESHOLDS,
      alerting: { defaults: { failuresToTrigger: 2, window: 3, successesToResolve: 2, blindToTrigger: 2 } },
    }, { SLACK_WEBHOOK_URL: slack.url }));
    const probe = findProbe(row.probe)!;
    const recorder = tickRecorder(rt);
    const run = () => recorder.probe(probe.id);
    const fanIn = () => recorder.evaluate();
    try {
      const before = slack.received.length;
      await sandbox.incidents.set(row.incident, true);
      await row.provoke(sandbox);
      await run();
      await run();
      const fired = await fanIn();
      const key = `check/${row.probe}/${row.check}`;
      expect(fired.notifications.map((n) => `${n.kind} ${n.alertKey}`)).toContain(`firing ${key}`);
      expect(fired.notifications.every((n) => n.stage === row.stage)).toBe(true);
      expect(slack.received.length - before).toBe(1);
      const message = JSON.stringify(slack.received.at(-1)!.body);
      expect(message).toContain(row.stage);
      expect(message).toContain(row.check);

      await run();
      expect((await fanIn()).notifications.filter((n) => n.kind !== "resolved")).toEqual([]);

      await sandbox.incidents.set(row.incident, false);
      await row.repair(sandbox);
      await run();
      await run();
      const resolved = await fanIn();
      expect(resolved.notifications.map((n) => `${n.kind} ${n.alertKey}`)).toContain(`resolved ${key}`);
      expect(resolved.firing.filter((a) => a.key === key)).toEqual([]);
    } finally {
      await rt.close();
      await h.close();
    }
  }, 60_000);
});
