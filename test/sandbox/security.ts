/**
 * Beacon's submit-time security pipeline (`internal/api/security/security_pipeline.go`), in order:
 * 1. trust allowlist (when a registry is configured; enforced with TRUST_ENFORCE),
 * 2. signature-failure rate limit (10/min per IP, 5/min per key, counters in Redis),
 * 3. with TRUST_ENFORCE: metadata.timestamp presence and metadata.nonce replay check in Redis,
 * 4. Ed25519 verification unless RUNNER_SIG_BYPASS: path (A) over the validated struct, then the
 *    raw-body fallback (B) on signature_mismatch.
 */
import { canonicalJson, SIGNATURE_FIELDS, verifyMessage, withoutKeys } from "../../shared/beacon/signing.ts";
import type { SandboxContext, TrustedKey } from "./context.ts";
import { jsonError, type Response } from "./http.ts";
import { canonicalStructMessage, type JobSpec } from "./jobspec.ts";

const SIG_FAILURES_PER_IP = 10;
const SIG_FAILURES_PER_KEY = 5;

interface Violation {
  status: number;
  message: string;
  code: string;
}

const violation = (status: number, message: string, code: string): Violation => ({ status, message, code });

/** `config.EvaluateKeyTrust`. */
function evaluateTrust(entry: TrustedKey | undefined, nowMs: number): [status: string, reason: string] {
  if (!entry) return ["unknown", "no match in allowlist"];
  if (entry.status === "revoked") return ["revoked", "explicitly revoked"];
  const notBefore = entry.not_before ? Date.parse(entry.not_before) : Number.NaN;
  if (!Number.isNaN(notBefore) && nowMs < notBefore) return ["not_yet_valid", "before not_before"];
  const notAfter = entry.not_after ? Date.parse(entry.not_after) : Number.NaN;
  if (!Number.isNaN(notAfter) && nowMs > notAfter) return ["expired", "after not_after"];
  return ["trusted", "active"];
}

function isBase64Key(publicKey: string): boolean {
  const bytes = Buffer.from(publicKey, "base64");
  return bytes.length === 32 && bytes.toString("base64") === publicKey;
}

async function overLimit(ctx: SandboxContext, key: string, limit: number): Promise<boolean> {
  try {
    return Number((await ctx.redis.get(`${ctx.options.redisKeyPrefix}rate_limit:${key}`)) ?? 0) >= limit;
  } catch {
    return false; // fail open, as Beacon does
  }
}

async function recordFailure(ctx: SandboxContext, clientIp: string, kid: string): Promise<void> {
  const keys = [`ip:${clientIp}`, ...(kid ? [`kid:${kid}`] : [])].map((k) => `${ctx.options.redisKeyPrefix}rate_limit:${k}`);
  await Promise.all(keys.map((key) => ctx.redis.multi().incr(key).expire(key, 60).exec())).catch(() => undefined);
}

async function checkTimestampAndNonce(ctx: SandboxContext, spec: JobSpec): Promise<Violation | undefined> {
  const metadata = spec.metadata;
  if (metadata === null) return violation(400, "missing metadata", "missing_field:metadata");
  const timestamp = metadata["timestamp"];
  if (timestamp === undefined || timestamp === null) return violation(400, "missing timestamp in metadata", "missing_field:timestamp");
  if (typeof timestamp !== "string" || timestamp.trim() === "") return violation(400, "invalid timestamp format", "invalid_field:timestamp");
  const nonce = metadata["nonce"];
  if (typeof nonce !== "string" || nonce === "") return undefined;
  const key = `${ctx.options.redisKeyPrefix}nonce:${spec.public_key}:${nonce}`;
  let fresh: string | null;
  try {
    fresh = await ctx.redis.set(key, "1", "EX", ctx.options.nonceTtlSeconds, "NX");
  } catch {
    return violation(503, "replay protection unavailable", "protection_unavailable:replay");
  }
  return fresh === null ? violation(400, "replay protection failed: replay detected: nonce already used", "replay_detected") : undefined;
}

function verifySignature(spec: JobSpec, rawBody: Record<string, unknown>): Violation | undefined {
  if (spec.signature === "" || spec.public_key === "") return violation(400, "signature is required", "missing_field:signature");
  if (!isBase64Key(spec.public_key)) {
    return violation(400, "signature verification failed: invalid public key: invalid public key size", "invalid_encoding:public_key");
  }
  if (signaturePath(spec, rawBody)) return undefined;
  return violation(400, "signature verification failed: signature verification failed", "signature_mismatch");
}

/**
 * Which of Beacon's two verifications accepts the signature: the struct after `Validate()` (path A,
 * the only one the worker repeats on the stored spec, `internal/jobspec/validator.go:21-53`) or the
 * raw body (fallback B, the API's alone). A spec accepted only by B is stored, then failed by the
 * worker as an early failure and dead-lettered (seen on the real runner).
 */
export function signaturePath(spec: JobSpec, rawBody: Record<string, unknown>): "struct" | "raw" | undefined {
  if (verifyMessage(canonicalStructMessage(spec), spec.signature, spec.public_key)) return "struct"; // path (A)
  let rawMessage: string | undefined;
  try {
    rawMessage = canonicalJson(withoutKeys(rawBody, SIGNATURE_FIELDS));
  } catch {
    rawMessage = undefined;
  }
  if (rawMessage !== undefined && verifyMessage(rawMessage, spec.signature, spec.public_key)) return "raw"; // fallback (B)
  return undefined;
}

async function pipeline(ctx: SandboxContext, spec: JobSpec, rawBody: Record<string, unknown>, clientIp: string): Promise<Violation | undefined> {
  const { options } = ctx;
  if (spec.public_key !== "" && options.trustedKeys) {
    const entry = options.trustedKeys.find((k) => k.public_key === spec.public_key);
    const [status, reason] = evaluateTrust(entry, Date.now());
    if (options.trustEnforce && status !== "trusted") return violation(400, `untrusted signing key: ${reason}`, `trust_violation:${status}`);
  }
  const ipLimited = await overLimit(ctx, `ip:${clientIp}`, SIG_FAILURES_PER_IP);
  if (ipLimited || (spec.public_key !== "" && (await overLimit(ctx, `kid:${spec.public_key}`, SIG_FAILURES_PER_KEY)))) {
    return violation(429, "rate limit exceeded", "rate_limit_exceeded");
  }
  if (options.trustEnforce) {
    const failure = await checkTimestampAndNonce(ctx, spec);
    if (failure) return failure;
  }
  if (options.sigBypass) return undefined;
  const failure = verifySignature(spec, rawBody);
  if (failure?.code === "signature_mismatch") await recordFailure(ctx, clientIp, spec.public_key);
  return failure;
}

/** Runs the pipeline; resolves to the error response (`{error, error_code}`), or undefined to proceed. */
export async function runSecurityPipeline(
  ctx: SandboxContext,
  spec: JobSpec,
  rawBody: Record<string, unknown>,
  clientIp: string,
): Promise<Response | undefined> {
  const failure = await pipeline(ctx, spec, rawBody, clientIp);
  return failure && jsonError(failure.status, failure.message, { error_code: failure.code });
}
