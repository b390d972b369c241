import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPair } from "../shared/beacon/signing.ts";
import { DEFAULT_OBJECTIVES } from "../shared/slo/objectives.ts";
import { createHarness, waitFor, waitForStatus, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { canaryRig, statuses, type CanaryRig } from "./support/canary.ts";

let h: Harness;
let sandbox: Sandbox;
const keys = generateKeyPair();
const rigs: CanaryRig[] = [];
// These incidents live on the queue path (outbox, queue, worker): the canary's queue-path setting follows them.
const rig = (settings: Record<string, unknown> = {}) => {
  const r = canaryRig(h, sandbox, keys.privateKey, { path: "queue", ...settings });
  rigs.push(r);
  return r;
};

beforeAll(async () => {
  h = await createHarness();
  sandbox = await h.start({ trustedKeys: [{ kid: "sentinel-canary", public_key: keys.publicKey, status: "active" }] });
});
afterEach(() => sandbox.incidents.reset());
afterAll(async () => {
  await Promise.all(rigs.map((r) => r.close()));
  await h?.close();
});

/** Submits a canary and returns its jobspec id (and the checks of the submitting run). */
async function submitted(r: CanaryRig): Promise<string> {
  return (await submit(r)).id;
}

async function submit(r: CanaryRig) {
  const { by } = await r.invoke();
  expect(by["stage:accepted"]!.status).toBe("pass");
  return { id: (await r.state()).inFlight!.id, by };
}

describe("canary under Beacon's incidents", () => {
  it("publisher-stopped: fails at published saying the publisher publishes nothing (not a poison row), then recovers", async () => {
    const r = rig();
    sandbox.incidents.set("publisher-stopped", true);
    const stuck = await submitted(r);
    r.advance(61); // the queue path's published budget is 60 s (the publisher's idle backoff)
    const failing = await r.invoke();
    expect(failing.by["stage:outbox"]!.status).toBe("pass");
    expect(failing.by["stage:published"]).toMatchObject({ status: "fail" });
    expect(failing.by["stage:published"]!.message).toMatch(/^61 s in created: outbox row \d+ unpublished: the outbox publisher has published nothing since row \d+: it is stopped or every fetch fails/);
    expect(failing.by["stage:published"]!.message).not.toContain("poison");
    expect(failing.by["stage:published"]!.evidence).toContain(`job ${stuck}`);
    sandbox.incidents.set("publisher-stopped", false);
    r.advance(480); // past the last budget: settled, counted once as bad
    expect((await r.invoke()).by["canary"]!.message).toContain(`canary ${stuck} settled after 541 s: failed stage:published`);
    r.advance(900 - 541); // the next canary's slot
    const { id: next } = await submit(r);
    await waitForStatus(sandbox, next, "completed");
    r.advance(60);
    const recovered = await r.invoke();
    expect(recovered.by["stage:published"]!.status).toBe("pass");
    expect(recovered.result.status).toBe("pass");
  });

  it("no-outbox-row: fails at the outbox stage naming the cause, then recovers with the next canary", async () => {
    const r = rig();
    sandbox.incidents.set("no-outbox-row", true);
    const stuck = await submitted(r);
    r.advance(31);
    const failing = await r.invoke();
    expect(failing.result.status).toBe("fail");
    expect(failing.by["stage:outbox"]).toMatchObject({ status: "fail", observed: null, threshold: "<= 30 s" });
    expect(failing.by["stage:outbox"]!.message).toMatch(/^31 s in created: no outbox row/);
    expect(failing.by["stage:outbox"]!.evidence).toEqual([`job ${stuck}`]);
    expect(statuses(failing.by)).toMatchObject({ "stage:accepted": "pass", "stage:created": "pass", "stage:published": "error", "stage:receipt": "error" });
    expect(failing.by["stage:published"]!.message).toBe(`not reached yet: canary ${stuck} is held at outbox`);
    sandbox.incidents.set("no-outbox-row", false);

    r.advance(480); // past the last budget: settled, counted once as bad
    const settled = await r.invoke();
    expect(settled.by["canary"]!.message).toContain(`canary ${stuck} settled after 511 s: failed stage:outbox`);
    expect(settled.result.events).toEqual({ jobs: { good: 0, total: 1 }, "start-latency": { good: 0, total: 1 } });
    expect(settled.by["stage:outbox"]!.status).toBe("fail");

    r.advance(900 - 511);
    const { id: next, by: pending } = await submit(r);
    expect(pending["stage:outbox"]).toMatchObject({ status: "fail" }); // no flip to green before the new canary decides
    expect(pending["stage:outbox"]!.message).toMatch(new RegExp(`^pending for ${next}; previous canary ${stuck}: 31 s in created`));
    await waitForStatus(sandbox, next, "completed");
    r.advance(60);
    const recovered = await r.invoke();
    expect(recovered.result.status).toBe("pass");
    expect(recovered.result.events).toEqual({ jobs: { good: 1, total: 1 }, "start-latency": { good: 1, total: 1 } });
  });

  it("payload-mismatch: fails at the queue stage, dead-lettered with the mismatched shape", async () => {
    const r = rig();
    sandbox.incidents.set("payload-mismatch", true);
    const id = await submitted(r);
    await waitFor(async () => (await h.redis.lrange(sandbox.keys.dead, 0, -1)).some((m) => m.includes(`"${id}"`)), "the canary's dead letter");
    r.advance(61); // the queued budget is 60 s: the publisher's idle backoff reaches 30 s
    const { by } = await r.invoke();
    expect(statuses(by)).toMatchObject({ "stage:outbox": "pass", "stage:published": "pass", "stage:queued": "fail", "stage:processing": "error" });
    expect(by["stage:queued"]!.message).toMatch(/^61 s in created: published, then dead-lettered: JobMessage .*payload mismatch/);
    expect(by["stage:queued"]!.message).toContain("worker error: get job: job not found");
  });

  it("worker-stopped: fails at the processing stage, the message waiting on the queue", async () => {
    const r = rig();
    sandbox.incidents.set("worker-stopped", true);
    const id = await submitted(r);
    await waitFor(async () => (await h.redis.lrange(sandbox.keys.main, 0, -1)).some((m) => m.includes(`"${id}"`)), "the canary on the queue");
    r.advance(61);
    const early = await r.invoke();
    expect(statuses(early.by)).toMatchObject({ "stage:queued": "pass", "stage:processing": "pass", "regression:left-created": "fail" });
    expect(early.by["regression:left-created"]!.message).toMatch(/^61 s in created/);
    r.advance(30);
    const { by } = await r.invoke();
    expect(by["stage:processing"]!.message).toMatch(new RegExp(`^91 s in created: waiting on ${sandbox.keys.main} \\(1 deep\\): the worker is not consuming`));
    sandbox.incidents.set("worker-stopped", false);
    await waitForStatus(sandbox, id, "completed"); // leave an idle worker to the next test
  });

  it("worker-stopped with a start budget shorter than the pickup's: the started stage names the waiting message, not a slow executor", async () => {
    const r = rig({ startLatencySeconds: 20 });
    sandbox.incidents.set("worker-stopped", true);
    const id = await submitted(r);
    await waitFor(async () => (await h.redis.lrange(sandbox.keys.main, 0, -1)).some((m) => m.includes(`"${id}"`)), "the canary on the queue");
    r.advance(21);
    const { by } = await r.invoke();
    expect(by["stage:started"]!.message).toMatch(new RegExp(`^21 s in created: no execution started: waiting on ${sandbox.keys.main} \\(1 deep\\): the worker is not consuming`));
    sandbox.incidents.set("worker-stopped", false);
    await waitForStatus(sandbox, id, "completed");
  });

  it("slow-worker: the start is late, the start-latency event is bad and feeds the processing-time SLO", async () => {
    const r = rig({ startLatencySeconds: 1 });
    sandbox.incidents.set("slow-worker", true);
    const id = await submitted(r);
    await waitForStatus(sandbox, id, "processing");
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    sandbox.incidents.set("slow-worker", false); // the held execution starts now
    await waitForStatus(sandbox, id, "completed");
    r.advance(60);
    const { result, by } = await r.invoke();
    expect(statuses(by)).toMatchObject({ "stage:processing": "pass", "stage:started": "fail", "stage:completed": "pass", "stage:receipt": "pass" });
    expect(by["stage:started"]!.observed as number).toBeGreaterThan(1);
    expect(by["stage:started"]!.message).toMatch(/later than its 1 s budget: the worker or the executor is slow/);
    expect(result.events).toEqual({ jobs: { good: 1, total: 1 }, "start-latency": { good: 0, total: 1 } });
    const processing = DEFAULT_OBJECTIVES.find((o) => o.id === "processing-time")!;
    expect(processing.sources).toContain("canary:start-latency");
  });

  it("legacy-text-output: the receipt stage and the questions regression check fail", async () => {
    const r = rig();
    sandbox.incidents.set("legacy-text-output", true);
    const id = await submitted(r);
    await waitForStatus(sandbox, id, "completed");
    r.advance(60);
    const { by } = await r.invoke();
    expect(statuses(by)).toMatchObject({ "stage:completed": "pass", "stage:receipt": "fail", "regression:questions-answered": "fail" });
    expect(by["stage:receipt"]!.message).toContain("single output.data.text_output instead of responses[] (the mock-output incident)");
    expect(by["regression:questions-answered"]!.message).toContain("question math_basic has no answer");
  });

  it("empty-id: the id regression check fails while every stage passes", async () => {
    const r = rig();
    sandbox.incidents.set("empty-id", true);
    const id = await submitted(r);
    await waitForStatus(sandbox, id, "completed");
    r.advance(60);
    const { by } = await r.invoke();
    expect(by["regression:id-populated"]).toMatchObject({ status: "fail", message: `canary ${id}: the job details carry id "" for jobspec_id "${id}" (the empty-id incident)` });
    expect(by["stage:receipt"]!.status).toBe("pass");
  });
});
