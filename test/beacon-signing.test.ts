import { describe, expect, it } from "vitest";
import {
  canonicalJson,
  generateKeyPair,
  publicKeyFromPrivateKey,
  signJobSpec,
  signMessage,
  verifyJobSpec,
  verifyMessage,
} from "../shared/beacon/signing.ts";

// Expected strings are what Go 1.24's encoding/json (Beacon's go.mod) writes for the same value
// after Beacon's writeCanonical sorts the keys.
describe("canonicalJson", () => {
  it.each([
    ["sorts keys recursively, arrays keep order", { b: 1, a: { d: [3, 1], c: true } }, '{"a":{"c":true,"d":[3,1]},"b":1}'],
    ["escapes HTML characters as Go does", { q: "<a href='x'>&</a>" }, '{"q":"\\u003ca href=\'x\'\\u003e\\u0026\\u003c/a\\u003e"}'],
    ["escapes HTML characters inside keys too", { "a&b": 1 }, '{"a\\u0026b":1}'],
    ["escapes U+2028 and U+2029", { s: "x\u2028y\u2029z" }, '{"s":"x\\u2028y\\u2029z"}'],
    ["uses short escapes for \\b \\f \\n \\r \\t", { s: "\b\f\n\r\t" }, '{"s":"\\b\\f\\n\\r\\t"}'],
    ["uses \\u00xx for other control characters", { s: "\u0001\u001f" }, '{"s":"\\u0001\\u001f"}'],
    ["keeps non-ASCII text raw", { s: "é日本" }, '{"s":"é日本"}'],
    ["writes an unpaired surrogate as \\ufffd", { s: "a\ud800b" }, '{"s":"a\\ufffdb"}'],
    ["sorts keys by code point (Go byte order), not UTF-16", { "\u{1F600}": 2, "\uFF01": 1, z: 0 }, '{"z":0,"\uFF01":1,"\u{1F600}":2}'],
    ["formats integers of Go durations in full", { timeout: 600000000000 }, '{"timeout":600000000000}'],
    ["formats floats like Go", { a: 0.67, b: 1e21, c: 1e-7, d: 0.000001, e: 1.5 }, '{"a":0.67,"b":1e+21,"c":1e-7,"d":0.000001,"e":1.5}'],
    ["keeps negative zero as Go does", { z: -0 }, '{"z":-0}'],
    ["keeps null, false and empty containers", { n: null, f: false, o: {}, l: [] }, '{"f":false,"l":[],"n":null,"o":{}}'],
    ["skips undefined members like JSON.stringify", { a: undefined, b: 1 }, '{"b":1}'],
  ])("%s", (_name, value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it("rejects values Go cannot encode", () => {
    expect(() => canonicalJson({ x: Number.NaN })).toThrow(/unsupported/);
  });
});

const canarySpec = {
  jobspec_id: "canary-0001",
  version: "v1",
  benchmark: {
    name: "sentinel-canary",
    container: { image: "ghcr.io/beacon/llama", resources: { cpu: "1", memory: "512Mi" } },
    input: { type: "prompt", data: { prompt: "2+2?" }, hash: "a".repeat(64) },
  },
  constraints: { regions: ["US"], min_regions: 1, min_success_rate: 1, timeout: 600000000000, provider_timeout: 120000000000 },
  metadata: { timestamp: "2025-09-13T10:00:00Z", nonce: "n-1" },
  questions: ["math_basic"],
};

describe("signJobSpec / verifyJobSpec", () => {
  const keys = generateKeyPair();

  it("generates a 32-byte public key and a 32-byte seed, both base64", () => {
    expect(Buffer.from(keys.publicKey, "base64")).toHaveLength(32);
    expect(Buffer.from(keys.privateKey, "base64")).toHaveLength(32);
    expect(publicKeyFromPrivateKey(keys.privateKey)).toBe(keys.publicKey);
  });

  it("signs the canonical JSON of the spec without signature fields and adds them", () => {
    const signed = signJobSpec({ ...canarySpec, signature: "stale", public_key: "stale" }, keys.privateKey);
    expect(signed.public_key).toBe(keys.publicKey);
    expect(Buffer.from(signed.signature, "base64")).toHaveLength(64);
    expect(verifyMessage(canonicalJson(canarySpec), signed.signature, keys.publicKey)).toBe(true);
    expect(verifyJobSpec(signed)).toBe(true);
  });

  it.each([
    ["a changed nested value", (s: Record<string, unknown>) => ({ ...s, constraints: { ...canarySpec.constraints, regions: ["EU"] } })],
    ["an added key", (s: Record<string, unknown>) => ({ ...s, runs: 2 })],
    ["a removed key", (s: Record<string, unknown>) => ({ ...s, questions: undefined })],
    ["another key's public_key", (s: Record<string, unknown>) => ({ ...s, public_key: generateKeyPair().publicKey })],
    ["a truncated signature", (s: Record<string, unknown>) => ({ ...s, signature: String(s["signature"]).slice(4) })],
  ])("rejects a spec with %s", (_name, tamper) => {
    const signed = signJobSpec(canarySpec, keys.privateKey);
    expect(verifyJobSpec(tamper(signed))).toBe(false);
  });

  it("accepts Go's 64-byte private key encoding (seed || public key)", () => {
    const goKey = Buffer.concat([Buffer.from(keys.privateKey, "base64"), Buffer.from(keys.publicKey, "base64")]).toString("base64");
    expect(verifyMessage("m", signMessage("m", goKey), keys.publicKey)).toBe(true);
  });

  it("never throws on malformed keys or signatures", () => {
    expect(verifyMessage("m", "not base64!", keys.publicKey)).toBe(false);
    expect(verifyMessage("m", signMessage("m", keys.privateKey), "c2hvcnQ=")).toBe(false);
    expect(verifyJobSpec({ signature: 1 })).toBe(false);
  });

  it("rejects a private key of the wrong size", () => {
    expect(() => signMessage("m", Buffer.alloc(10).toString("base64"))).toThrow(/32-byte/);
  });
});
