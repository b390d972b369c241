import { describe, expect, it } from "vitest";
import { CanarySettings } from "../shared/probes/canary/settings.ts";
import { buildJobSpec, signedJobSpec } from "../shared/probes/canary/spec.ts";
import { generateKeyPair, signJobSpec, type JsonObject } from "../shared/beacon/signing.ts";
import { bindJobSpec, normalizeModelsFromMetadata, validateJobSpec } from "./sandbox/jobspec.ts";
import { signaturePath } from "./sandbox/security.ts";

/**
 * Beacon's real runner (main 5442b72, built here by hand) verifies a JobSpec twice: the API accepts the
 * struct after `Validate()` (path A) or, failing that, the raw body (fallback B); the worker later
 * re-verifies the stored spec on path A only. `Validate()` fills `benchmark.scoring.method`, so the
 * old canary recipe passed only through B and every canary ended as a runner early failure
 * (test/fixtures/beacon-real/queue-signature-fallback-worker-early-failure.json). These tests run the
 * sandbox's copy of that order (bind, Validate, normalise, verify) on the canary's own spec.
 */
const shape = CanarySettings.parse({});
const { privateKey } = generateKeyPair();

function pathOf(body: JsonObject) {
  const raw = JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
  const spec = bindJobSpec(raw);
  expect(validateJobSpec(spec, Date.now())).toBeUndefined();
  normalizeModelsFromMetadata(spec);
  return signaturePath(spec, raw);
}

describe("the canary's signature on Beacon's primary path", () => {
  it("passes path A (the struct after Validate), the one the worker repeats", () => {
    const body = signedJobSpec("sentinel-canary-1-abcd", new Date("2026-12-04T06:00:00Z"), shape, "canary", privateKey);
    expect((body["benchmark"] as JsonObject)["scoring"]).toEqual({ method: "default" });
    expect(pathOf(body)).toBe("struct");
  });

  it("a spec signed without benchmark.scoring passes only the raw fallback (the old recipe)", () => {
    const spec = buildJobSpec("sentinel-canary-2-abcd", new Date("2026-12-04T06:00:00Z"), shape, "canary");
    delete (spec["benchmark"] as JsonObject)["scoring"];
    expect(pathOf(signJobSpec(spec, privateKey))).toBe("raw");
  });

  it("a tampered canary passes neither", () => {
    const body = signedJobSpec("sentinel-canary-3-abcd", new Date("2026-12-04T06:00:00Z"), shape, "canary", privateKey);
    (body["constraints"] as JsonObject)["regions"] = ["eu-west"];
    expect(pathOf(body)).toBeUndefined();
  });
});
