/**
 * Beacon JobSpec signing, byte-compatible with the Go runner (`runner-app/pkg/crypto`).
 *
 * The signed message is canonical JSON: object keys sorted (by code point, which is Go's byte order
 * for UTF-8), compact, and escaped the way Go's `encoding/json` escapes: `<`, `>`, `&`, U+2028 and
 * U+2029 become `\u003c`, `\u003e`, `\u0026`, `\u2028`, `\u2029`; lone surrogates (invalid UTF-8 for
 * Go) become U+FFFD. Keys: Ed25519 via node:crypto only.
 *
 * Key encodings:
 * - public key: base64 (std, padded) of the raw 32 bytes, as Beacon's trusted-keys file expects;
 * - private key ("env-var friendly"): base64 of the raw 32-byte Ed25519 seed. `signJobSpec` also
 *   accepts Go's 64-byte `ed25519.PrivateKey` (seed || public key) in base64, and base64 PKCS#8 DER.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";

const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_ED25519_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** A JSON object as the signer sees it: any JSON values. */
export type JsonObject = { [key: string]: unknown };

/** Keys Beacon strips before verifying (path B, and the canary recipe). */
export const SIGNATURE_FIELDS = ["signature", "public_key"] as const;

const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function unicodeEscape(code: number): string {
  return `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * Quotes one string exactly as Go's encoding/json does: HTML-safe (`<`, `>`, `&`), U+2028/2029
 * escaped, other control characters as `\u00xx`, and an unpaired surrogate (invalid UTF-8 once
 * transcoded) written as the escape `\ufffd`.
 */
export function goQuote(value: string): string {
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    const code = value.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      out += ch + value[++i];
    } else if (code >= 0xd800 && code <= 0xdfff) {
      out += "\\ufffd";
    } else if (SHORT_ESCAPES[ch] !== undefined) {
      out += SHORT_ESCAPES[ch];
    } else if (code < 0x20 || ch === "<" || ch === ">" || ch === "&" || code === 0x2028 || code === 0x2029) {
      out += unicodeEscape(code);
    } else {
      out += ch;
    }
  }
  return `${out}"`;
}

/**
 * Applies Go's extra escapes to JSON text produced by JSON.stringify. Safe on whole documents because
 * `<`, `>`, `&`, U+2028 and U+2029 can only occur inside string literals.
 */
export function goEscapeJsonText(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (ch) => unicodeEscape(ch.charCodeAt(0)));
}

/** Go formats floats like JS except for negative zero, which Go keeps as "-0". */
function goNumber(value: number): string {
  if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: unsupported number ${value}`);
  return Object.is(value, -0) ? "-0" : String(value);
}

function compareCodePoints(a: string, b: string): number {
  const left = Array.from(a);
  const right = Array.from(b);
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const diff = left[i]!.codePointAt(0)! - right[i]!.codePointAt(0)!;
    if (diff !== 0) return diff;
  }
  return left.length - right.length;
}

/**
 * Canonical JSON as Beacon's `crypto.CanonicalJSON` writes it: sorted keys, no whitespace, Go escaping.
 * `undefined` object members are skipped (as JSON.stringify does); non-finite numbers throw.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return goQuote(value);
    case "number":
      return goNumber(value);
    case "boolean":
      return value ? "true" : "false";
    case "object":
      break;
    default:
      throw new TypeError(`canonicalJson: unsupported ${typeof value}`);
  }
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(",")}]`;
  const record = value as JsonObject;
  const keys = Object.keys(record).filter((key) => record[key] !== undefined).sort(compareCodePoints);
  return `{${keys.map((key) => `${goQuote(key)}:${canonicalJson(record[key])}`).join(",")}}`;
}

/** Returns a shallow copy without the given top-level keys. */
export function withoutKeys(object: JsonObject, keys: readonly string[]): JsonObject {
  const copy: JsonObject = { ...object };
  for (const key of keys) delete copy[key];
  return copy;
}

function privateKeyObject(privateKey: string): KeyObject {
  const bytes = Buffer.from(privateKey, "base64");
  if (bytes.length === 32 || bytes.length === 64) {
    const seed = bytes.subarray(0, 32);
    return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: "der", type: "pkcs8" });
  }
  try {
    return createPrivateKey({ key: bytes, format: "der", type: "pkcs8" });
  } catch {
    throw new Error("private key must be base64 of a 32-byte Ed25519 seed, a 64-byte Go key or PKCS#8 DER");
  }
}

function publicKeyObject(publicKey: string): KeyObject | undefined {
  const bytes = Buffer.from(publicKey, "base64");
  if (bytes.length !== 32 || bytes.toString("base64") !== publicKey) return undefined;
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, bytes]), format: "der", type: "spki" });
}

function rawPublicKey(key: KeyObject): string {
  const der = createPublicKey(key).export({ format: "der", type: "spki" });
  return der.subarray(SPKI_ED25519_PREFIX.length).toString("base64");
}

/** A fresh key pair: `publicKey` is base64 raw 32 bytes, `privateKey` base64 of the 32-byte seed. */
export function generateKeyPair(): { publicKey: string; privateKey: string } {
  const { privateKey } = generateKeyPairSync("ed25519");
  const der = privateKey.export({ format: "der", type: "pkcs8" });
  return { publicKey: rawPublicKey(privateKey), privateKey: der.subarray(PKCS8_ED25519_PREFIX.length).toString("base64") };
}

/** The base64 raw public key belonging to a private key in any accepted encoding. */
export function publicKeyFromPrivateKey(privateKey: string): string {
  return rawPublicKey(privateKeyObject(privateKey));
}

/** Ed25519 signature (base64 std) over the UTF-8 bytes of `message`. */
export function signMessage(message: string, privateKey: string): string {
  return sign(null, Buffer.from(message, "utf8"), privateKeyObject(privateKey)).toString("base64");
}

/** Verifies a base64 Ed25519 signature; malformed keys or signatures verify as false, never throw. */
export function verifyMessage(message: string, signature: string, publicKey: string): boolean {
  const key = publicKeyObject(publicKey);
  const sig = Buffer.from(signature, "base64");
  if (!key || sig.length !== 64 || sig.toString("base64") !== signature) return false;
  return verify(null, Buffer.from(message, "utf8"), key, sig);
}

/**
 * Signs a JobSpec following the contract sheet's canary recipe: drop `signature`/`public_key`, sign
 * the canonical JSON of the rest, then add base64 `signature` and `public_key`. Keep `id`,
 * `created_at`, zero values and unknown keys out of `spec` so that Beacon's struct path (A)
 * accepts it too; the raw-body fallback (B) accepts any object.
 */
export function signJobSpec<T extends JsonObject>(spec: T, privateKey: string): T & { signature: string; public_key: string } {
  const body = withoutKeys(spec, SIGNATURE_FIELDS);
  const signature = signMessage(canonicalJson(body), privateKey);
  return { ...(body as T), signature, public_key: publicKeyFromPrivateKey(privateKey) };
}

/**
 * Verifies a signed JobSpec the way Beacon's raw fallback (B) does: canonical JSON of the object
 * minus `signature`/`public_key`, checked against its own `public_key` (or `publicKey` if given).
 */
export function verifyJobSpec(spec: JsonObject, publicKey?: string): boolean {
  const signature = spec["signature"];
  const key = publicKey ?? spec["public_key"];
  if (typeof signature !== "string" || typeof key !== "string") return false;
  return verifyMessage(canonicalJson(withoutKeys(spec, SIGNATURE_FIELDS)), signature, key);
}
