/** The submit-time security pipeline: trust allowlist, replay protection, both signature paths. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPair, signJobSpec } from "../shared/beacon/signing.ts";
import type { Sandbox } from "./sandbox/index.ts";
import { call, createHarness, jobSpec, submit, type Harness } from "./sandbox/testing.ts";

const trusted = generateKeyPair();
const revoked = generateKeyPair();
const stranger = generateKeyPair();
const expired = generateKeyPair();

describe("with a trusted-keys allowlist (TRUST_ENFORCE on)", () => {
  let h: Harness;
  let s: Sandbox;
  beforeAll(async () => {
    h = await createHarness();
    s = await h.start({
      trustedKeys: [
        { kid: "canary", public_key: trusted.publicKey, status: "active" },
        { kid: "old", public_key: revoked.publicKey, status: "revoked" },
        { kid: "past", public_key: expired.publicKey, status: "active", not_after: "2020-01-01T00:00:00Z" },
      ],
    });
  });
  afterAll(() => h?.close());

  it("accepts a spec signed per the canary recipe with 202 enqueued", async () => {
    const signed = signJobSpec(jobSpec(), trusted.privateKey);
    const r = await submit(s, signed);
    expect([r.status, r.body]).toEqual([202, { id: signed["jobspec_id"], status: "enqueued" }]);
  });

  it("rejects a spec changed after signing with signature_mismatch", async () => {
    const signed = signJobSpec(jobSpec(), trusted.privateKey);
    const tampered = { ...signed, constraints: { ...(signed["constraints"] as object), regions: ["EU"] } };
    const r = await submit(s, tampered);
    expect([r.status, r.body.error_code]).toEqual([400, "signature_mismatch"]);
  });

  it.each([
    ["a key missing from the allowlist", stranger, "trust_violation:unknown", "untrusted signing key: no match in allowlist"],
    ["a revoked key", revoked, "trust_violation:revoked", "untrusted signing key: explicitly revoked"],
    ["a key past not_after", expired, "trust_violation:expired", "untrusted signing key: after not_after"],
  ])("rejects %s", async (_name, keys, code, message) => {
    const r = await submit(s, signJobSpec(jobSpec(), keys.privateKey));
    expect([r.status, r.body]).toEqual([400, { error: message, error_code: code }]);
  });

  it("rejects a replayed metadata.nonce with replay_detected", async () => {
    const signed = signJobSpec(jobSpec(), trusted.privateKey);
    expect((await submit(s, signed)).status).toBe(202);
    const replay = await submit(s, signed);
    expect([replay.status, replay.body.error_code]).toEqual([400, "replay_detected"]);
    const nonce = (signed["metadata"] as { nonce: string }).nonce;
    expect(await h.redis.exists(`${h.prefix}nonce:${trusted.publicKey}:${nonce}`)).toBe(1);
  });

  it.each([
    ["no metadata", { metadata: null }, "missing_field:metadata"],
    ["no metadata.timestamp", { metadata: { nonce: "n-ts-missing" } }, "missing_field:timestamp"],
    ["a numeric metadata.timestamp", { metadata: { timestamp: 17, nonce: "n-ts-number" } }, "invalid_field:timestamp"],
  ])("rejects %s", async (_name, overrides, code) => {
    const r = await submit(s, signJobSpec(jobSpec(overrides), trusted.privateKey));
    expect([r.status, r.body.error_code]).toEqual([400, code]);
  });

  it("rejects a trusted public_key without a signature with missing_field:signature", async () => {
    const r = await submit(s, { ...jobSpec(), public_key: trusted.publicKey });
    expect([r.status, r.body]).toEqual([400, { error: "signature is required", error_code: "missing_field:signature" }]);
  });

  it("accepts via the raw-body fallback (B) when the body has keys the struct drops", async () => {
    const signed = signJobSpec(jobSpec({ portal_extra: "kept in raw body" }), trusted.privateKey);
    expect((await submit(s, signed)).status).toBe(202);
  });

  it("accepts via the struct path (A) when only zero values and created_at were added after signing", async () => {
    // Signed with the scoring method Validate() would fill (pkg/models/validation.go:39-44), so the struct matches.
    const spec = jobSpec();
    const signed = signJobSpec({ ...spec, benchmark: { ...(spec["benchmark"] as object), scoring: { method: "default" } } }, trusted.privateKey);
    const r = await submit(s, { ...signed, runs: 0, created_at: "2025-09-13T10:00:00Z" });
    expect(r.status).toBe(202);
  });

  it("refuses a spec signed without the scoring method once created_at is added: Validate() fills the method, so neither path matches", async () => {
    const signed = signJobSpec(jobSpec(), trusted.privateKey);
    const r = await submit(s, { ...signed, runs: 0, created_at: "2025-09-13T10:00:00Z" });
    expect(r.status).toBe(400);
  });

  it("accepts metadata.models (normalised into the struct before verification) only through fallback (B)", async () => {
    const spec = jobSpec();
    const withModels: Record<string, unknown> = { ...spec, metadata: { ...(spec["metadata"] as object), models: ["llama3.2-1b"] } };
    const signed = signJobSpec(withModels, trusted.privateKey);
    expect((await submit(s, signed)).status).toBe(202);
    const job = (await call(`${s.url}/api/v1/jobs/${signed["jobspec_id"]}`)).body.job;
    expect(job.models).toEqual([{ id: "llama3.2-1b", name: "llama3.2-1b", provider: "hybrid", container_image: "", regions: ["US"] }]);
  });
});

describe("without an allowlist", () => {
  let h: Harness;
  let strict: Sandbox;
  let bypass: Sandbox;
  beforeAll(async () => {
    h = await createHarness();
    strict = await h.start();
    bypass = await h.start({ sigBypass: true });
  });
  afterAll(() => h?.close());

  it("still requires a valid signature from any key", async () => {
    expect((await submit(strict, signJobSpec(jobSpec(), stranger.privateKey))).status).toBe(202);
    expect((await submit(strict, jobSpec())).body.error_code).toBe("missing_field:signature");
  });

  it("rejects a public key that is not base64 of 32 bytes with invalid_encoding:public_key", async () => {
    const r = await submit(strict, { ...signJobSpec(jobSpec(), stranger.privateKey), public_key: "bm90LWEta2V5" });
    expect([r.status, r.body.error_code]).toEqual([400, "invalid_encoding:public_key"]);
  });

  it("rate-limits signature failures per key: the sixth attempt in a minute gets 429", async () => {
    const keys = generateKeyPair();
    const bad = () => ({ ...signJobSpec(jobSpec(), keys.privateKey), version: "v2" });
    const codes: string[] = [];
    for (let i = 0; i < 6; i++) codes.push((await submit(strict, bad(), { "X-Forwarded-For": "10.9.0.1" })).body.error_code);
    expect(codes).toEqual([...Array(5).fill("signature_mismatch"), "rate_limit_exceeded"]);
  });

  it("accepts unsigned specs with RUNNER_SIG_BYPASS", async () => {
    expect((await submit(bypass, jobSpec())).status).toBe(202);
  });
});
