import { evaluateNow, recordRun } from "./support/sentinel.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "./sandbox/testing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { sentinelEnv, sentinelRuntime } from "./support/sentinel.ts";
import { httpFunction } from "../netlify/http/handler.ts";
import { silencesRoute } from "../netlify/http/silences.ts";
import { runProbe } from "../shared/runner.ts";
import { healthProbe } from "../shared/probes/health/index.ts";
import type { Runtime } from "../netlify/runtime.ts";

const ADMIN = "silence-admin-token-0123456789";
let h: Harness;
let sandbox: Sandbox;
let rt: Runtime;

beforeAll(async () => {
  h = await createHarness();
  sandbox = await h.start();
  rt = sentinelRuntime(sentinelEnv(h, sandbox, { alerting: { defaults: { failuresToTrigger: 1, window: 1 } } }, { SENTINEL_ADMIN_TOKEN: ADMIN }));
});
afterAll(async () => {
  await rt?.close();
  await h?.close();
});

const call = (method: string, path: string, body?: unknown, token = ADMIN) =>
  httpFunction(silencesRoute(), () => rt)(new Request(`http://sentinel.test${path}`, {
    method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  }), { ip: `10.0.0.${Math.floor(Math.random() * 250)}` });

describe("silences over the API", () => {
  it("adds, lists and lifts a silence, and the fan-in honours it", async () => {
    const added = await call("POST", "/api/silences", { probe: "health", durationMinutes: 30, comment: "router upgrade" });
    expect(added.status).toBe(201);
    const { silence } = (await added.json()) as { silence: { id: string; createdBy: string; matcher: unknown } };
    expect(silence.matcher).toEqual({ probe: "health" });
    expect(silence.createdBy).toMatch(/^api:[^:]+$/); // the caller named once ("api:<fingerprint>"), never "api:api:..."
    expect(silence.createdBy).not.toContain(ADMIN);

    const listed = (await (await call("GET", "/api/silences")).json()) as { silences: { id: string }[] };
    expect(listed.silences.map((s) => s.id)).toContain(silence.id);

    await sandbox.incidents.set("health-unhealthy", true);
    try {
      await recordRun(rt, "health");
      const held = await evaluateNow(rt);
      expect(held.notifications).toEqual([]);
      expect(held.firing.find((a) => a.key === "check/health/runner-health")?.heldBy).toBe(`silence:${silence.id}`);

      expect((await call("DELETE", `/api/silences/${silence.id}`)).status).toBe(200);
      const announced = await evaluateNow(rt);
      expect(announced.notifications.map((n) => n.alertKey)).toEqual(["check/health/runner-health"]);
    } finally {
      await sandbox.incidents.set("health-unhealthy", false);
    }
  });

  it.each([
    ["no end", { probe: "health" }, "body.endsAt: give exactly one of endsAt and durationMinutes"],
    ["both an SLO and a probe", { probe: "health", slo: "error-rate", durationMinutes: 5 }, "body.slo"],
    ["a check without its probe", { check: "redis", durationMinutes: 5 }, "body.check"],
    ["an unknown field", { probe: "health", durationMinutes: 5, createdBy: "me" }, "createdBy"],
    ["a bad date", { probe: "health", endsAt: "tomorrow" }, "body.endsAt"],
    ["an unknown probe", { probe: "nosuch", durationMinutes: 5 }, 'body.probe: unknown probe \\"nosuch\\"; known: health, outbox, queue'],
    ["an unknown SLO", { slo: "nosuch", durationMinutes: 5 }, 'body.slo: unknown SLO \\"nosuch\\"; known: job-success, api-availability'],
    ["a check the probe does not have", { probe: "health", check: "nosuch", durationMinutes: 5 }, 'body.check: probe health has no check \\"nosuch\\" in its latest result; known: runner-health'],
  ])("rejects %s with a 400 that says what to fix", async (_name, body, expected) => {
    const response = await call("POST", "/api/silences", body);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain(expected);
  });

  it("needs the admin token, and 404s an unknown id", async () => {
    expect((await call("GET", "/api/silences", undefined, "wrong-token-wrong-token")).status).toBe(403);
    expect((await call("DELETE", "/api/silences/nope1234")).status).toBe(404);
  });
});
